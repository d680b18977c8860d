import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
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
/** `--full` runs are kept apart, so that a later quick run does not replace the large sizes' figures. */
export const FULL_RESULTS_FILE = join(dirname(fileURLToPath(import.meta.url)), 'results-full.json');

export interface Machine {
  cores: number;
  cpu: string;
  memoryGiB: number;
  node: string;
  date: string;
  /** 1-minute load average: a benchmark run on a busy machine says so in its own record. */
  loadAverage1m: number;
}

export function machine(): Machine {
  return {
    cores: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    date: new Date().toISOString(),
    loadAverage1m: Number((loadavg()[0] ?? 0).toFixed(2)),
  };
}

/** When and how each suite in results.json was last run (results.json mixes suites from separate runs). */
export interface SuiteRun {
  date: string;
  profile: 'quick' | 'full';
  seconds: number;
  loadAverageAtStart: number;
  loadAverageAtEnd: number;
  /** Set when the suite did not finish: its rows are what it measured before it stopped. */
  partial?: string;
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
export function saveResults(results: readonly BenchResult[], runs: Readonly<Record<string, SuiteRun>>, file = RESULTS_FILE): void {
  let previous: BenchResult[] = [];
  let previousRuns: Record<string, SuiteRun> = {};
  if (existsSync(file)) {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { results?: BenchResult[]; runs?: Record<string, SuiteRun> };
    previous = (parsed.results ?? []).filter((r) => !(r.suite in runs));
    previousRuns = Object.fromEntries(Object.entries(parsed.runs ?? {}).filter(([suite]) => !(suite in runs)));
  }
  mkdirSync(dirname(file), { recursive: true });
  const content = { machine: machine(), runs: { ...previousRuns, ...runs }, results: [...previous, ...results] };
  writeFileSync(file, `${JSON.stringify(content, null, 2)}\n`);
}
