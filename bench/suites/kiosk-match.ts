import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { faceLikeSet, noisySample, randomCentre, seededRandom, type FaceLikeSet } from '../../test/support/face-like-data.js';
import { availableEngines, openVectorIndex, type VectorEngineName, type VectorHit } from '../../electron/kiosk/vector-index/index.js';
import { euclideanDistance } from '../../shared/face/descriptor.js';
import { DESCRIPTOR_LENGTH } from '../../shared/face-model.js';
import { distribution } from '../../shared/stats/distribution.js';
import type { BenchResult } from '../report.js';
import type { BenchSuite } from '../run.js';

/**
 * The kiosk's 1:N match: one k=10 query against the whole roster's templates, per vector engine, at 1k, 10k and
 * 100k templates of face-like data (see face-like-data.ts: genuine pairs ~0.4 apart, impostors ~0.8, both measured
 * below), plus what the engines cost to build and to change, and a memory-bandwidth reference: at 100k templates
 * a query reads 51 MB, so no exact scan can beat one pass over that much memory by much.
 */

const SIZES = [1_000, 10_000, 100_000] as const;
const K = 10;

const label = (n: number): string => `${n / 1000}k`;

function row(kase: string, metric: string, value: number, unit: string): BenchResult {
  return { suite: 'kiosk', case: kase, metric, value, unit };
}

function time(fn: () => void): number {
  const t = performance.now();
  fn();
  return performance.now() - t;
}

/** Probes: new photos of enrolled people (4 in 5) and strangers, as a kiosk sees them. */
function probes(set: FaceLikeSet, n: number, seed: number): Float32Array[] {
  const random = seededRandom(seed);
  return Array.from({ length: n }, (_, i) =>
    i % 5 === 4
      ? randomCentre(0.043, random)
      : noisySample(set.centres[Math.floor(random() * set.centres.length)]!, set.sampleSd, random),
  );
}

/** Median genuine and impostor distances of the synthetic data, to check that it is face-like. */
function dataShape(set: FaceLikeSet): BenchResult[] {
  const random = seededRandom(3);
  const genuine: number[] = [];
  const impostor: number[] = [];
  const rows = set.rows;
  for (let i = 0; i < 4000; i++) {
    const a = Math.floor(random() * rows.length);
    const b = Math.floor(random() * rows.length);
    if (a === b) continue;
    const d = euclideanDistance(rows[a]!.descriptor, rows[b]!.descriptor);
    (set.personOfRow[a] === set.personOfRow[b] ? genuine : impostor).push(d);
  }
  for (let p = 0; p < 500; p++) {
    const base = p * 10;
    genuine.push(euclideanDistance(rows[base]!.descriptor, rows[base + 1 + (p % 9)]!.descriptor));
  }
  return [
    row('data (face-like, 10k)', 'genuine distance p50', distribution(genuine).median, ''),
    row('data (face-like, 10k)', 'impostor distance p50', distribution(impostor).median, ''),
    row('data (face-like, 10k)', 'impostor distance p1', distribution(impostor).p1, ''),
  ];
}

/** One pass over 100k×128 float32 (51 MB): summed in JS, and copied with TypedArray.set (memcpy). */
function bandwidth(rounds: number): BenchResult[] {
  const n = 100_000 * DESCRIPTOR_LENGTH;
  const src = new Float32Array(n);
  const random = seededRandom(5);
  for (let i = 0; i < n; i++) src[i] = random();
  const dst = new Float32Array(n);
  const sums: number[] = [];
  const copies: number[] = [];
  let sink = 0;
  for (let r = 0; r < rounds; r++) {
    sums.push(
      time(() => {
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        for (let i = 0; i < n; i += 4) {
          s0 += src[i]!;
          s1 += src[i + 1]!;
          s2 += src[i + 2]!;
          s3 += src[i + 3]!;
        }
        sink += s0 + s1 + s2 + s3;
      }),
    );
    copies.push(time(() => dst.set(src)));
  }
  if (sink === 42) console.log(''); // keeps the loop from being optimised away
  const bytes = src.byteLength;
  const sum = distribution(sums).median;
  const copy = distribution(copies).median;
  const kase = 'bandwidth 100k×128 f32 (51 MB)';
  return [
    row(kase, 'JS sum pass', sum, 'ms'),
    row(kase, 'JS sum pass rate', bytes / sum / 1e6, 'GB/s'),
    row(kase, 'memcpy (TypedArray.set)', copy, 'ms'),
    // A copy reads and writes every byte: this counts the bytes copied, half the memory traffic.
    row(kase, 'memcpy rate (bytes copied)', bytes / copy / 1e6, 'GB/s'),
  ];
}

interface EngineRun {
  engine: VectorEngineName;
  p50: number;
  p95: number;
  buildMs: number;
  coldMs: number;
  addOneMs: number;
  removeOneMs: number;
  hits: VectorHit[][];
  /** Resident memory the index added (RSS after build and the searches, minus before): what the kiosk keeps in RAM. */
  rssMiB: number;
  /** The kiosk database file with the index in it, after a checkpoint. */
  diskMiB: number;
}

function runEngine(engine: VectorEngineName, set: FaceLikeSet, queries: Float32Array[], dir: string): EngineRun {
  const file = join(dir, `${engine}-${set.rows.length}.db`);
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  try {
    const rssBefore = process.memoryUsage().rss;
    const index = openVectorIndex(db, engine);
    const buildMs = time(() => index.rebuild(set.rows));
    for (const q of queries.slice(0, 5)) index.search(q, K); // warm-up
    const samples: number[] = [];
    const hits: VectorHit[][] = [];
    for (const q of queries) {
      const t = performance.now();
      const found = index.search(q, K);
      samples.push(performance.now() - t);
      hits.push(found);
    }
    const rssMiB = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
    db.pragma('wal_checkpoint(TRUNCATE)');
    const diskMiB = statSync(file).size / 2 ** 20;
    // What a roster change costs: one template replaced, one removed (sqlite-vss rewrites its whole index per commit).
    const addOne: number[] = [];
    const removeOne: number[] = [];
    for (let i = 0; i < 3; i++) {
      const r = set.rows[i * 7]!;
      removeOne.push(time(() => index.remove([r.templateId])));
      addOne.push(time(() => index.add([r])));
    }
    index.close();
    // A second connection's first search: what a matcher pays after another connection changed the index.
    const other = new Database(file);
    let coldMs = 0;
    try {
      coldMs = time(() => openVectorIndex(other, engine).search(queries[0]!, K));
    } finally {
      other.close();
    }
    const d = distribution(samples);
    return {
      engine,
      p50: d.median,
      p95: d.p95,
      buildMs,
      coldMs,
      addOneMs: distribution(addOne).median,
      removeOneMs: distribution(removeOne).median,
      hits,
      rssMiB,
      diskMiB,
    };
  } finally {
    db.close();
  }
}

function sameIds(a: VectorHit[], b: VectorHit[]): boolean {
  return a.length === b.length && a.every((h, i) => h.templateId === b[i]?.templateId);
}

export const kioskMatchSuite: BenchSuite = {
  name: 'kiosk',
  description:
    'kiosk 1:N match (k=10) per vector engine at 1k/10k/100k face-like 128-D templates: latency, build, change and reload costs, vs the JS scan and a 51 MB memory pass',
  async run({ full }) {
    const available = availableEngines();
    for (const a of available.filter((e) => !e.available)) {
      console.warn(`[kiosk bench] ${a.engine} not available, not measured: ${a.error ?? ''}`);
    }
    const engines = available.filter((a) => a.available).map((a) => a.engine);
    const results: BenchResult[] = [];
    const dir = mkdtempSync(join(tmpdir(), 'clockface-bench-kiosk-'));
    try {
      for (const size of SIZES) {
        const set = faceLikeSet({ people: size / 10, samplesPerPerson: 10, seed: size });
        if (size === 10_000) results.push(...dataShape(set));
        const queries = probes(set, full ? 1000 : size >= 100_000 ? 60 : 200, size + 1);
        const runs = engines.map((engine) => runEngine(engine, set, queries, dir));
        const js = runs.find((r) => r.engine === 'js');
        for (const r of runs) {
          const kase = `${r.engine} ${label(size)}`;
          results.push(
            row(kase, 'match p50', r.p50, 'ms'),
            row(kase, 'match p95', r.p95, 'ms'),
            row(kase, 'build (rebuild)', r.buildMs / 1000, 's'),
            row(kase, 'add one template', r.addOneMs, 'ms'),
            row(kase, 'remove one template', r.removeOneMs, 'ms'),
            row(kase, 'cold first search (new connection)', r.coldMs, 'ms'),
            // RSS deltas are approximate (the allocator keeps freed pages; runs follow one another in one process).
            row(kase, 'memory: resident added by the index', r.rssMiB, 'MiB'),
            row(kase, 'memory: database file with the index', r.diskMiB, 'MiB'),
            // Bytes of vectors one exact query must read, over its median time: compare with the bandwidth rows.
            row(kase, 'effective scan rate (p50)', (size * DESCRIPTOR_LENGTH * 4) / r.p50 / 1e6, 'GB/s'),
          );
          if (js && r !== js) {
            const same = r.hits.filter((h, i) => sameIds(h, js.hits[i] ?? [])).length / r.hits.length;
            results.push(
              row(kase, 'match speed vs js (p50)', js.p50 / r.p50, 'x'),
              row(kase, 'build time vs js', r.buildMs / js.buildMs, 'x'),
              row(kase, 'top-10 identical to js', same * 100, '%'),
            );
          }
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    results.push(...bandwidth(full ? 20 : 8));
    return results;
  },
};
