import { requireSystemParts, systemParts } from './system-parts.js';

/** Says once, at the top of the run, which system parts are missing and so which tests did not run. */
export default function setup(): void {
  const missing = systemParts().filter((p) => !p.present);
  if (missing.length === 0) return;
  const lines = missing.map((p) => `  - ${p.name}: not present, its tests are NOT run. To run them: ${p.howTo}`);
  if (requireSystemParts()) {
    throw new Error(`CLOCKFACE_REQUIRE_SYSTEM_PARTS=1 but parts are missing:\n${lines.join('\n')}`);
  }
  console.warn(`\n[clockface] Missing system parts:\n${lines.join('\n')}\n`);
}
