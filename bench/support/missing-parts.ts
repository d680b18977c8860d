import type { SystemPart } from '../../test/support/system-parts.js';

/**
 * System parts a suite needed and did not find (Chromium, ffmpeg, a PostgreSQL server). The suite measures what it
 * can without them and says so in one line; `npm run bench` then exits non-zero, so a partial run is never taken for a
 * whole one, and the parts' earlier figures in the results file are kept rather than replaced by nothing.
 */
const missing = new Map<string, { part: SystemPart; suites: Set<string> }>();

/** True when the part is there; otherwise records it for the suite, prints what to install, and returns false. */
export function requirePart(suite: string, part: SystemPart, what: string): boolean {
  if (part.present) return true;
  const entry = missing.get(part.name) ?? { part, suites: new Set<string>() };
  entry.suites.add(suite);
  missing.set(part.name, entry);
  console.warn(`[${suite}] ${what} not measured: ${part.name} is missing; ${part.howTo}`);
  return false;
}

/** Everything a suite of this run could not measure, for the run's last lines. */
export function missingParts(): Array<{ part: SystemPart; suites: string[] }> {
  return [...missing.values()].map((m) => ({ part: m.part, suites: [...m.suites] }));
}
