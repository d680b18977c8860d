/**
 * `npm run bench [-- SUITE…] [--full] [--hnsw M:EFC,…]`: side-by-side benchmarks, reported as ratios where
 * alternatives compete, printed as markdown and stored in bench/results.json (`--full`: bench/results-full.json).
 * Speed lives here, never in tests.
 */
import { Command } from 'commander';
import { CENTRAL_HNSW_GRAPH, parseHnswGraphs, type HnswGraph } from './support/hnsw-graphs.js';
import { FULL_RESULTS_FILE, RESULTS_FILE, machine, markdownTable, saveResults, type BenchResult, type SuiteRun } from './report.js';
import { CENTRAL_SETS, centralSuite, parseCentralSets, type CentralSet } from './suites/central.js';
import { enrolSuite } from './suites/enrol.js';
import { faceSuite } from './suites/face.js';
import { kioskE2eSuite } from './suites/kiosk-e2e.js';
import { kioskMatchSuite } from './suites/kiosk-match.js';
import { kioskSyncSuite } from './suites/kiosk-sync.js';
import { singleFrameSuite } from './suites/single-frame.js';
import { uploadSuite } from './suites/upload.js';
import { timesheetSuite } from './suites/timesheet.js';
import { consoleSuite } from './suites/console.js';
import { fleetSuite, parseFleetSizes } from './suites/fleet.js';
import { missingParts } from './support/missing-parts.js';

export interface BenchOptions {
  full: boolean;
  /** Graphs the central suite compares side by side (default: central's own only). */
  hnswGraphs: HnswGraph[];
  /** The central suite's data sets (default both). */
  centralSets: CentralSet[];
  /** The fleet suite's sizes (default: 50 quick; 200, 500 and 1,000 full). */
  fleetSizes: number[] | undefined;
  /**
   * Saves the rows a long suite has measured so far (marked partial), so that a run stopped in its last part keeps
   * the parts before it: a full fleet run takes over an hour. The suite's returned rows replace them at its end.
   */
  checkpoint(soFar: readonly BenchResult[]): void;
}

export interface BenchSuite {
  name: string;
  description: string;
  run(options: BenchOptions): Promise<BenchResult[]>;
}

// Two parts of one suite: `npm run bench -- kiosk` runs (and results.json replaces) both.
const suites: BenchSuite[] = [faceSuite, enrolSuite, kioskMatchSuite, kioskSyncSuite, singleFrameSuite, kioskE2eSuite, centralSuite, uploadSuite, timesheetSuite, consoleSuite, fleetSuite];

const program = new Command('npm run bench --')
  .description('Clockface benchmarks: every suite compares alternatives in one run')
  .argument('[suites...]', `suites to run (default all): ${[...new Set(suites.map((s) => s.name))].join(', ')}`)
  .option('--full', 'large sizes and more rounds (bench/results-full.json)', false)
  .option('--results <file>', 'where to keep the results (default bench/results.json, with --full bench/results-full.json)')
  .option(
    '--hnsw <graphs>',
    `hnsw graphs the central suite builds side by side, as M:EF_CONSTRUCTION pairs (default ${CENTRAL_HNSW_GRAPH.m}:${CENTRAL_HNSW_GRAPH.efConstruction}, central's own index)`,
    parseHnswGraphs,
  )
  .option('--sets <sets>', `the central suite's data sets, comma-separated (default ${CENTRAL_SETS.join(',')})`, parseCentralSets)
  .option('--kiosks <counts>', 'the fleet suite\'s fleet sizes, comma-separated (default 50; with --full 200,500,1000)', parseFleetSizes);
program.parse(process.argv);
const wanted = program.processedArgs[0] as string[];
const {
  full,
  hnsw = [CENTRAL_HNSW_GRAPH],
  sets = [...CENTRAL_SETS],
  kiosks,
  results: resultsFile,
} = program.opts<{ full: boolean; hnsw?: HnswGraph[]; sets?: CentralSet[]; kiosks?: number[]; results?: string }>();
const unknown = wanted.filter((w) => !suites.some((s) => s.name === w));
if (unknown.length > 0) {
  console.error(`unknown bench suite(s): ${unknown.join(', ')}; available: ${[...new Set(suites.map((s) => s.name))].join(', ')}`);
  process.exitCode = 2;
} else {
  const chosen = suites.filter((s) => wanted.length === 0 || wanted.includes(s.name));
  const m = machine();
  console.log(
    `# Clockface benchmarks (${full ? 'full' : 'quick'})\n\n${m.cores} cores, ${m.cpu}, ${m.memoryGiB} GiB, Node ${m.node}, ` +
      `${m.date}, load average ${m.loadAverage1m}\n`,
  );
  const all: BenchResult[] = [];
  const runs: Record<string, SuiteRun> = {};
  const failed: string[] = [];
  const runStarted = performance.now();
  for (const suite of chosen) {
    const started = performance.now();
    const loadAverageAtStart = machine().loadAverage1m;
    let results: BenchResult[];
    const file = resultsFile ?? (full ? FULL_RESULTS_FILE : RESULTS_FILE);
    // Two parts of one suite (kiosk) add up to one record: the first part's date and load, both parts' seconds.
    const runRecord = (): SuiteRun => {
      const earlier = runs[suite.name];
      return {
        date: earlier?.date ?? new Date().toISOString(),
        profile: full ? 'full' : 'quick',
        seconds: (earlier?.seconds ?? 0) + Math.round((performance.now() - started) / 1000),
        loadAverageAtStart: earlier?.loadAverageAtStart ?? loadAverageAtStart,
        loadAverageAtEnd: machine().loadAverage1m,
      };
    };
    const checkpoint = (soFar: readonly BenchResult[]): void => {
      const run: SuiteRun = {
        ...runRecord(),
        partial: 'saved while the suite was still running; if the run stopped, these are the parts it finished',
      };
      saveResults([...all, ...soFar], { ...runs, [suite.name]: run }, file);
    };
    try {
      results = await suite.run({ full, hnswGraphs: hnsw, centralSets: sets, fleetSizes: kiosks, checkpoint });
    } catch (e) {
      // One line, not the error object: a WASM or browser failure can carry kilobytes of minified code.
      console.error(`## ${suite.name}: FAILED: ${(e instanceof Error ? e.message : String(e)).split('\n')[0]?.slice(0, 300)}`);
      failed.push(suite.name);
      continue;
    }
    all.push(...results);
    const seconds = Math.round((performance.now() - started) / 1000);
    // A part that measured nothing (a system part missing) keeps its earlier figures.
    if (results.length > 0) runs[suite.name] = runRecord();
    console.log(`## ${suite.name}: ${suite.description}\n\n${markdownTable(results)}\n`);
    console.log(`(${suite.name} took ${seconds} s)\n`);
  }
  console.log(`(all ${chosen.length} suites took ${((performance.now() - runStarted) / 60_000).toFixed(1)} min)`);
  saveResults(all, runs, resultsFile ?? (full ? FULL_RESULTS_FILE : RESULTS_FILE));
  const missing = missingParts();
  for (const { part, suites: where } of missing) {
    console.error(`not measured (${where.join(', ')}): ${part.name} is missing; ${part.howTo}`);
  }
  if (failed.length > 0) console.error(`failed: ${failed.join(', ')}`);
  // A partial run is never mistaken for a whole one.
  if (missing.length > 0 || failed.length > 0) process.exitCode = 1;
}
