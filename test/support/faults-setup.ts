import { rmSync } from 'node:fs';
import systemPartsSetup from './global-setup.js';
import { TALLY_FILE, readTally, tallyMarkdown } from './fault-tally.js';

/** Global set-up of `npm run test:faults`: the usual system-parts check, a fresh tally, and the table at the end. */
export default function setup(): () => void {
  systemPartsSetup();
  rmSync(TALLY_FILE, { force: true });
  return () => {
    const entries = readTally();
    if (entries.length > 0) console.log(`\n# Faults, load and hostile input (this run)\n\n${tallyMarkdown(entries)}\n`);
  };
}
