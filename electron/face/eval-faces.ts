import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join, relative, resolve } from 'node:path';
import { parse } from 'csv-parse/sync';
import { ClockfaceError, isClockfaceError } from '../../shared/errors.js';
import { euclideanDistance as euclidean } from '../../shared/face/descriptor.js';
import type { AnalyzeOptions } from '../../shared/face/engine.js';
import {
  leaveOneOut,
  verificationReport,
  type IdentificationReport,
  type LabelledDescriptor,
  type VerificationReport,
} from '../../shared/face/evaluation.js';
import { DEFAULT_MATCH_THRESHOLD } from '../../shared/face/match-defaults.js';
import { distribution, type Distribution } from '../../shared/stats/distribution.js';
import { decodeImage } from './decode-image.js';
import { nodeFaceEngine } from './node-face-engine.js';

const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.webp', '.bmp', '.gif', '.tif', '.tiff']);

export interface EvalImage {
  path: string;
  /** Person folder in folder mode; absent in pairs mode. */
  label?: string;
}

export interface EvalPair {
  a: string;
  b: string;
  same: boolean;
}

export interface FaceEvaluation {
  mode: 'folders' | 'pairs';
  source: string;
  detector: AnalyzeOptions['detector'];
  images: number;
  detected: number;
  detectionRate: number;
  failures: Array<{ image: string; reason: string }>;
  /** Images found but below the enrolment quality gates (still used for accuracy figures). */
  qualityWarnings: Array<{ image: string; issues: string[] }>;
  identification: Omit<IdentificationReport, 'genuine' | 'impostor'> | null;
  verification: VerificationReport;
  pairsSkipped: number;
  latencyMs: Distribution;
}

/** One folder per person, images inside. */
export function folderDataset(dir: string): EvalImage[] {
  const root = resolve(dir);
  let people: string[];
  try {
    people = readdirSync(root).filter((p) => statSync(join(root, p)).isDirectory()).sort();
  } catch (e) {
    throw new ClockfaceError('DATASET_INVALID', `cannot read folder ${dir}`, { cause: e });
  }
  const images = people.flatMap((person) =>
    readdirSync(join(root, person))
      .filter((f) => IMAGE_EXTENSIONS.has(extname(f).toLowerCase()))
      .sort()
      .map((f) => ({ path: join(root, person, f), label: person })),
  );
  if (images.length === 0) {
    throw new ClockfaceError('DATASET_INVALID', `no images in ${dir}: expected one folder per person with images inside`);
  }
  return images;
}

/** A CSV of `file_x,file_y,Yes|No` rows, paths relative to the CSV; a header row is allowed. */
export function pairsDataset(csvPath: string): EvalPair[] {
  let rows: string[][];
  try {
    rows = parse(readFileSync(csvPath), { bom: true, skip_empty_lines: true, trim: true, relax_column_count: false });
  } catch (e) {
    throw new ClockfaceError('DATASET_INVALID', `cannot read pairs file ${csvPath}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const base = dirname(resolve(csvPath));
  const pairs: EvalPair[] = [];
  rows.forEach((row, index) => {
    const [a, b, verdict] = row;
    const answer = verdict?.toLowerCase();
    // A first row that names no image file is a header (file_x,file_y,same); anything else must be a pair.
    const looksLikeHeader = !IMAGE_EXTENSIONS.has(extname(a ?? '').toLowerCase());
    if (index === 0 && answer !== 'yes' && answer !== 'no' && looksLikeHeader) return;
    if (row.length !== 3 || !a || !b || (answer !== 'yes' && answer !== 'no')) {
      throw new ClockfaceError('DATASET_INVALID', `${csvPath} line ${index + 1}: expected file_x,file_y,Yes|No`);
    }
    pairs.push({ a: resolve(base, a), b: resolve(base, b), same: answer === 'yes' });
  });
  if (pairs.length === 0) throw new ClockfaceError('DATASET_INVALID', `${csvPath} has no pairs`);
  return pairs;
}

interface Described {
  values: Float32Array | null;
  reason?: string;
  issues?: string[];
}

async function describeAll(
  paths: readonly string[],
  options: AnalyzeOptions,
  onProgress?: (done: number, total: number) => void,
): Promise<{ results: Map<string, Described>; latencies: number[] }> {
  const engine = await nodeFaceEngine();
  const results = new Map<string, Described>();
  const latencies: number[] = [];
  for (const path of paths) {
    if (results.has(path)) continue;
    try {
      const image = await decodeImage(path);
      const started = performance.now();
      const analysis = await engine.analyze(image, options);
      latencies.push(performance.now() - started);
      if (analysis.face === null) {
        results.set(path, { values: null, reason: 'NO_FACE' });
      } else {
        const issues = analysis.ok ? [] : analysis.issues;
        results.set(path, { values: analysis.face.descriptor.values, issues });
      }
    } catch (e) {
      if (!isClockfaceError(e)) throw e;
      results.set(path, { values: null, reason: `${e.code}: ${e.message}` });
    }
    onProgress?.(results.size, paths.length);
  }
  return { results, latencies };
}

export interface EvalOptions {
  detector: AnalyzeOptions['detector'];
  padding: AnalyzeOptions['padding'];
  threshold?: number;
  onProgress?: (done: number, total: number) => void;
}

export async function evaluateFolders(dir: string, options: EvalOptions): Promise<FaceEvaluation> {
  const images = folderDataset(dir);
  const analyze: AnalyzeOptions = { detector: options.detector, padding: options.padding, purpose: 'enrol' };
  const { results, latencies } = await describeAll(images.map((i) => i.path), analyze, options.onProgress);
  const root = resolve(dir);
  const labelled: LabelledDescriptor[] = [];
  for (const image of images) {
    const values = results.get(image.path)?.values;
    if (values && image.label !== undefined) labelled.push({ id: relative(root, image.path), label: image.label, values });
  }
  const { genuine, impostor, ...identification } = leaveOneOut(labelled);
  return {
    mode: 'folders',
    source: dir,
    detector: options.detector,
    ...summarise(images.map((i) => i.path), results, root),
    identification,
    verification: verificationReport(genuine, impostor, options.threshold ?? DEFAULT_MATCH_THRESHOLD),
    pairsSkipped: 0,
    latencyMs: distribution(latencies),
  };
}

export async function evaluatePairs(csvPath: string, options: EvalOptions): Promise<FaceEvaluation> {
  const pairs = pairsDataset(csvPath);
  const paths = [...new Set(pairs.flatMap((p) => [p.a, p.b]))];
  const analyze: AnalyzeOptions = { detector: options.detector, padding: options.padding, purpose: 'enrol' };
  const { results, latencies } = await describeAll(paths, analyze, options.onProgress);
  const genuine: number[] = [];
  const impostor: number[] = [];
  let skipped = 0;
  for (const pair of pairs) {
    const a = results.get(pair.a)?.values;
    const b = results.get(pair.b)?.values;
    if (!a || !b) {
      skipped++;
      continue;
    }
    (pair.same ? genuine : impostor).push(euclidean(a, b));
  }
  return {
    mode: 'pairs',
    source: csvPath,
    detector: options.detector,
    ...summarise(paths, results, dirname(resolve(csvPath))),
    identification: null,
    verification: verificationReport(genuine, impostor, options.threshold ?? DEFAULT_MATCH_THRESHOLD),
    pairsSkipped: skipped,
    latencyMs: distribution(latencies),
  };
}

function summarise(paths: readonly string[], results: Map<string, Described>, root: string) {
  const failures: FaceEvaluation['failures'] = [];
  const qualityWarnings: FaceEvaluation['qualityWarnings'] = [];
  let detected = 0;
  for (const path of paths) {
    const r = results.get(path);
    const image = relative(root, path);
    if (r?.values) {
      detected++;
      if (r.issues && r.issues.length > 0) qualityWarnings.push({ image, issues: r.issues });
    } else {
      failures.push({ image, reason: r?.reason ?? 'not analysed' });
    }
  }
  return {
    images: paths.length,
    detected,
    detectionRate: paths.length === 0 ? 0 : detected / paths.length,
    failures,
    qualityWarnings,
  };
}
