import { appendFileSync, mkdirSync, readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * What `npm run test:faults` tried and what survived it, for the README's table (issue 8). Each fault, load or
 * hostile-input test records one entry per kind it exercised, with the counts it asserted; the faults run's global
 * teardown prints the totals. The numbers are the ones the test checked, never estimates: a test records only after
 * its assertions passed.
 */
export interface TallyEntry {
  area: 'fault' | 'load' | 'hostile';
  /** Short kind, e.g. "SIGKILL during roster sync", "TCP stall 30 s during upload", "SQL metacharacters in CSV". */
  kind: string;
  /** How many times it was injected / tried (kills, stalls, hostile rows, requests…). */
  count: number;
  /** Punches that should exist at the end, and how many were lost / duplicated (asserted 0 by the test). */
  punches?: { expected: number; lost: number; duplicated: number };
  /** Load only: the rate held, its duration and latency. */
  load?: { rate: string; durationS: number; p95Ms: number; throughput: string };
  /** Free text: what the kiosk or central did (e.g. "refused with CENTRAL_AUTH_FAILED"). */
  outcome: string;
}

export const TALLY_FILE = fileURLToPath(new URL('../../test-results/faults-tally.jsonl', import.meta.url));

export function recordTally(entry: TallyEntry): void {
  mkdirSync(dirname(TALLY_FILE), { recursive: true });
  appendFileSync(TALLY_FILE, `${JSON.stringify(entry)}\n`);
}

export function readTally(file = TALLY_FILE): TallyEntry[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as TallyEntry);
}

/** The README table: one row per (area, kind), counts summed. */
export function tallyMarkdown(entries: readonly TallyEntry[]): string {
  const rows = new Map<string, TallyEntry>();
  for (const e of entries) {
    const key = `${e.area}\u0000${e.kind}`;
    const prev = rows.get(key);
    if (!prev) {
      rows.set(key, { ...e, ...(e.punches ? { punches: { ...e.punches } } : {}) });
      continue;
    }
    prev.count += e.count;
    if (e.punches) {
      prev.punches = prev.punches ?? { expected: 0, lost: 0, duplicated: 0 };
      prev.punches.expected += e.punches.expected;
      prev.punches.lost += e.punches.lost;
      prev.punches.duplicated += e.punches.duplicated;
    }
    if (e.load) prev.load = e.load;
  }
  const lines = [
    '| area | kind | count | load (rate, duration, p95, throughput) | punches expected / lost / duplicated | outcome |',
    '|---|---|---|---|---|---|',
  ];
  for (const e of [...rows.values()].sort((a, b) => a.area.localeCompare(b.area))) {
    const load = e.load ? `${e.load.rate}, ${e.load.durationS} s, p95 ${e.load.p95Ms.toFixed(0)} ms, ${e.load.throughput}` : '';
    const p = e.punches ? `${e.punches.expected} / ${e.punches.lost} / ${e.punches.duplicated}` : '';
    lines.push(`| ${e.area} | ${e.kind} | ${e.count} | ${load} | ${p} | ${e.outcome} |`);
  }
  const all = [...rows.values()].filter((e) => e.punches);
  const lost = all.reduce((s, e) => s + (e.punches?.lost ?? 0), 0);
  const duplicated = all.reduce((s, e) => s + (e.punches?.duplicated ?? 0), 0);
  const expected = all.reduce((s, e) => s + (e.punches?.expected ?? 0), 0);
  lines.push('', `Punches checked: ${expected}; lost: ${lost}; duplicated: ${duplicated}.`);
  return lines.join('\n');
}

export const TALLY_DIR = join(dirname(TALLY_FILE));
