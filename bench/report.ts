import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One figure of a benchmark run, as stored in bench/results.json. */
export interface BenchResult {
  suite: string;
  case: string;
  metric: string;
  value: number;
  unit: string;
}

export const RESULTS_FILE = join(dirname(fileURLToPath(import.meta.url)), 'results.json');

export function machine(): { cores: number; cpu: string; memoryGiB: number; node: string; date: string } {
  return {
    cores: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    date: new Date().toISOString(),
  };
}

/** Markdown table of one suite's results. */
export function markdownTable(results: readonly BenchResult[]): string {
  const rows = results.map((r) => `| ${r.case} | ${r.metric} | ${formatValue(r.value)} | ${r.unit} |`);
  return ['| case | metric | value | unit |', '|---|---|---|---|', ...rows].join('\n');
}

function formatValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Math.abs(v) >= 100) return v.toFixed(0);
  if (Math.abs(v) >= 1) return v.toFixed(2);
  return v.toPrecision(3);
}

/**
 * Writes the run's results, replacing earlier results of the suites that ran and keeping the others, so that
 * `npm run bench -- face` does not erase the other suites' figures.
 */
export function saveResults(results: readonly BenchResult[], suitesRun: readonly string[]): void {
  let previous: BenchResult[] = [];
  if (existsSync(RESULTS_FILE)) {
    const parsed = JSON.parse(readFileSync(RESULTS_FILE, 'utf8')) as { results?: BenchResult[] };
    previous = (parsed.results ?? []).filter((r) => !suitesRun.includes(r.suite));
  }
  mkdirSync(dirname(RESULTS_FILE), { recursive: true });
  writeFileSync(RESULTS_FILE, `${JSON.stringify({ machine: machine(), results: [...previous, ...results] }, null, 2)}\n`);
}
