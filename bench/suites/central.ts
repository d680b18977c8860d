import { InvalidArgumentError } from 'commander';
import pg from 'pg';
import { connectCentral } from '../../electron/central/connect.js';
import { toVectorLiteral } from '../../electron/central/vector-literal.js';
import { CENTRAL_EF_SEARCH } from '../../electron/central/search-settings.js';
import { DESCRIPTOR_LENGTH } from '../../shared/face-model.js';
import { faceLikeSet, noisySample, seededRandom } from '../../test/support/face-like-data.js';
import { markdownTable, type BenchResult } from '../report.js';
import type { BenchSuite } from '../run.js';
import { CENTRAL_HNSW_GRAPH, describeGraph, type HnswGraph } from '../support/hnsw-graphs.js';
import { eachCentral, label, type BenchCentral, type CentralTag } from '../support/bench-centrals.js';

/**
 * Central's nearest-template search (issue 7): no index (exact scan) vs pgvector ivfflat (lists ≈ √N) vs hnsw
 * (m = 16, ef_construction = 64), L2 distance (`<->`, what the face model's threshold is in), on a real PostgreSQL
 * server (a fresh database of our own, CLOCKFACE_TEST_DATABASE_URL) and on the embedded central (PGlite in a child
 * process). A plain table (id, identity, embedding vector(128)) without a primary key, so the index under test is
 * the only one.
 *
 * Data: face-like descriptors (test/support/face-like-data.ts: 10 templates per identity, genuine pairs ~0.40 apart,
 * impostors ~0.80, calibrated on ../shared/faces) and, as the worst case for an approximate index, uniform random
 * vectors (no clusters, no near neighbours). Queries on face-like data are new genuine photos (the identity's centre
 * plus the same noise as its templates); on uniform data, fresh uniform vectors.
 *
 * Per index: build time, index size (pg_relation_size), queries/s with 1 client (and 2 at the setting one would
 * run with: ivfflat probes 16, hnsw at the shipped ef_search) (LIMIT 1), recall@1 against the exact scan (same
 * nearest template id), identification accuracy (the nearest template's identity is the query's), and sweeps of
 * hnsw.ef_search (quick 40 default, 100, 200 shipped, 400; full adds 10) and ivfflat.probes (quick 1 default, 16;
 * full 1, 4, 16, 32). The hnsw graph is central's own (m 16, ef_construction 64); `--hnsw 16:64,32:128` builds
 * several side by side, to re-measure a denser graph before changing central's.
 *
 * Sizes: quick 100k on the server and 10k embedded; --full 1M on the server and 100k embedded. Ground truth (the
 * nearest template of every query) is computed in this process by brute force over the same float32 vectors, so that
 * the exact scan in PostgreSQL need only be timed on a sample (at 1M it answers ~3 queries/s; timing it on every query
 * would take longer than everything else together). The exact scan's own answers on that sample are checked against
 * the brute force (any disagreement is printed: float32 ties).
 *
 * maintenance_work_mem is raised for the builds (512 MB quick, 4 GB full on the server, 1 GB in the embedded central, whose 32-bit WebAssembly refuses more than 2 GB), so that hnsw builds in memory: at 1M its
 * graph is ~1 GB, and a build that spills to disk is many times slower.
 */

/** The data sets: face-like clusters (what central holds) and uniform vectors (the worst case for a graph). */
export const CENTRAL_SETS = ['face-like', 'uniform'] as const;
export type CentralSet = (typeof CENTRAL_SETS)[number];

/** `--sets face-like` → the sets, checked. */
export function parseCentralSets(text: string): CentralSet[] {
  const sets = text.split(',').map((s) => s.trim());
  const unknown = sets.filter((s) => !(CENTRAL_SETS as readonly string[]).includes(s));
  if (unknown.length > 0 || sets.length === 0) {
    throw new InvalidArgumentError(`"${text}" is not a list of data sets; choose from ${CENTRAL_SETS.join(', ')}`);
  }
  return sets as CentralSet[];
}

interface Dataset {
  name: CentralSet;
  vectors: Float32Array[];
  identity: number[];
  queries: Float32Array[];
  /** Identity of each query (face-like only). */
  queryIdentity: number[] | null;
}

function faceLikeDataset(n: number, queries: number): Dataset {
  const perPerson = 10;
  const set = faceLikeSet({ people: Math.ceil(n / perPerson), samplesPerPerson: perPerson, seed: 7 });
  const random = seededRandom(8);
  const queryIdentity: number[] = [];
  const qs: Float32Array[] = [];
  for (let i = 0; i < queries; i++) {
    const person = Math.floor(random() * set.centres.length);
    queryIdentity.push(person);
    qs.push(noisySample(set.centres[person]!, set.sampleSd, random));
  }
  return {
    name: 'face-like',
    vectors: set.rows.slice(0, n).map((r) => r.descriptor),
    identity: set.personOfRow.slice(0, n),
    queries: qs,
    queryIdentity,
  };
}

function uniformVector(random: () => number): Float32Array {
  const v = new Float32Array(DESCRIPTOR_LENGTH);
  for (let d = 0; d < DESCRIPTOR_LENGTH; d++) v[d] = random() * 0.2 - 0.1;
  return v;
}

function uniformDataset(n: number, queries: number): Dataset {
  const random = seededRandom(9);
  const vectors = Array.from({ length: n }, () => uniformVector(random));
  return {
    name: 'uniform',
    vectors,
    identity: vectors.map((_, i) => i),
    queries: Array.from({ length: queries }, () => uniformVector(random)),
    queryIdentity: null,
  };
}

/** Set-based load: per chunk one INSERT … SELECT over unnest, each row's vector a slice of one flat float4[]. */
async function load(client: pg.Client, data: Dataset): Promise<number> {
  const started = performance.now();
  await client.query('DROP TABLE IF EXISTS bench_vectors');
  await client.query(
    'CREATE TABLE bench_vectors (id int NOT NULL, identity int NOT NULL, site int NOT NULL, embedding vector(128) NOT NULL)',
  );
  const chunk = 2000;
  for (let start = 0; start < data.vectors.length; start += chunk) {
    const end = Math.min(start + chunk, data.vectors.length);
    const ids: number[] = [];
    const identities: number[] = [];
    const flat: number[] = [];
    for (let i = start; i < end; i++) {
      ids.push(i + 1);
      identities.push(data.identity[i]!);
      for (const x of data.vectors[i]!) flat.push(x);
    }
    await client.query(
      `INSERT INTO bench_vectors (id, identity, site, embedding)
       SELECT u.id, u.identity, u.identity % ${SITES}, ($3::real[])[(u.k - 1) * 128 + 1 : u.k * 128]::vector
       FROM unnest($1::int[], $2::int[]) WITH ORDINALITY AS u(id, identity, k)`,
      [ids, identities, flat],
    );
  }
  // The kiosk's central fallback searches only its sites: employees.site, by an index on it.
  await client.query('CREATE INDEX bench_vectors_site ON bench_vectors (site)');
  await client.query('ANALYZE bench_vectors');
  return performance.now() - started;
}

/**
 * Brute-force nearest row (1-based id, as loaded) of each query: the ground truth for recall@1. With `sites`, only
 * the rows of query i's site (sites[i]).
 */
function bruteForceNearest(data: Dataset, sites?: readonly number[]): number[] {
  return data.queries.map((q, qi) => {
    let best = -1;
    let bestD = Infinity;
    for (let i = 0; i < data.vectors.length; i++) {
      if (sites && data.identity[i]! % SITES !== sites[qi]) continue;
      const v = data.vectors[i]!;
      let d = 0;
      for (let k = 0; k < DESCRIPTOR_LENGTH; k++) {
        const x = v[k]! - q[k]!;
        d += x * x;
        if (d >= bestD) break;
      }
      if (d < bestD) {
        bestD = d;
        best = i + 1;
      }
    }
    return best;
  });
}

/**
 * Sites the rows are spread over (by identity), for the site-scoped search of the kiosk's central fallback: 1M
 * templates → 10k per site, the size of a large plant.
 */
const SITES = 100;

/** Nearest template, over every site (the duplicate guard, `clockface search`). */
const QUERY = 'SELECT id, identity FROM bench_vectors ORDER BY embedding <-> $1::vector LIMIT 1';
/** Nearest template of one site ($2): the kiosk's central fallback. */
const SITE_QUERY = 'SELECT id, identity FROM bench_vectors WHERE site = $2 ORDER BY embedding <-> $1::vector LIMIT 1';
/**
 * Over a halfvec index: the index's RERANK nearest by the 16-bit distance, re-ranked by the exact distance on the
 * full vector (what the match rule's threshold is in). 20 candidates: two people's templates and then some.
 */
const RERANK = 20;
const HALFVEC_QUERY = `SELECT id, identity FROM (
    SELECT id, identity, embedding FROM bench_vectors ORDER BY embedding::halfvec(128) <-> $1::halfvec(128) LIMIT ${RERANK}
  ) c ORDER BY embedding <-> $1::vector LIMIT 1`;
const HALFVEC_SITE_QUERY = `SELECT id, identity FROM (
    SELECT id, identity, embedding FROM bench_vectors WHERE site = $2
    ORDER BY embedding::halfvec(128) <-> $1::halfvec(128) LIMIT ${RERANK}
  ) c ORDER BY embedding <-> $1::vector LIMIT 1`;

interface Answers {
  ids: number[];
  identities: number[];
}

/**
 * Runs the queries on `clients` connections at once (query i on client i mod clients); returns queries/s. With
 * `sites`, the site-scoped form of `sql` gets query i's site as $2.
 */
async function timedQueries(
  clients: pg.Client[],
  queries: readonly string[],
  sql = QUERY,
  sites?: readonly number[],
): Promise<{ qps: number; answers: Answers }> {
  const ids = new Array<number>(queries.length).fill(-1);
  const identities = new Array<number>(queries.length).fill(-1);
  const t = performance.now();
  await Promise.all(
    clients.map(async (client, c) => {
      for (let i = c; i < queries.length; i += clients.length) {
        const params = sites ? [queries[i], sites[i]] : [queries[i]];
        const { rows } = await client.query<{ id: number; identity: number }>(sql, params);
        ids[i] = rows[0]?.id ?? -1;
        identities[i] = rows[0]?.identity ?? -1;
      }
    }),
  );
  return { qps: queries.length / ((performance.now() - t) / 1000), answers: { ids, identities } };
}

async function usesIndex(client: pg.Client, query: string, index: string, sql = QUERY): Promise<boolean> {
  const { rows } = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql.replaceAll('$1', client.escapeLiteral(query)).replaceAll('$2', '0')}`);
  return rows.some((r) => r['QUERY PLAN'].includes(index));
}

interface Profile {
  n: Record<CentralTag, number>;
  queries: Record<CentralTag, number>;
  /** Queries the exact scan is timed on (a sample of the above). */
  exactQueries: number;
  /** Per central: the embedded one is 32-bit WebAssembly and refuses more than 2 GB. */
  maintenanceWorkMem: Record<CentralTag, string>;
  /** The full sweeps (quick keeps pgvector's default, the shipped setting and their neighbours, to stay under 10 min). */
  full: boolean;
  /** Per central: the embedded one (a small site's central) builds only the shipped graph in a full run. */
  hnswGraphs: Record<CentralTag, HnswGraph[]>;
}

async function runOn(central: BenchCentral, data: Dataset, profile: Profile): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  const tag = central.tag;
  const n = data.vectors.length;
  const base = `${data.name} ${label(n)} [${tag}]`;
  const row = (kase: string, metric: string, value: number, unit: string): void => {
    results.push({ suite: 'central', case: kase, metric, value, unit });
    // Each figure as it is measured: a --full run takes hours, and a run stopped part-way keeps what it measured.
    console.log(`[central bench] ${kase} | ${metric} | ${value} ${unit}`);
  };
  const open = (): Promise<pg.Client> => connectCentral({ url: central.url, embeddedDefault: false }, { applicationName: 'clockface-bench-central' });
  const admin = await open();
  const second = await open();
  const clients = [admin, second];
  try {
    await admin.query('CREATE EXTENSION IF NOT EXISTS vector');
    const pgvector = (await admin.query<{ v: string }>("SELECT extversion AS v FROM pg_extension WHERE extname = 'vector'")).rows[0]?.v ?? '?';
    console.log(`[central bench] ${base}: pgvector ${pgvector}`);
    row(`${base} set-up`, 'bulk load (INSERT … SELECT unnest, chunks of 2000)', (await load(admin, data)) / 1000, 's');
    const sharedBuffers = (await admin.query<{ b: string }>("SELECT pg_size_bytes(current_setting('shared_buffers'))::text AS b")).rows[0]?.b;
    row(`${base} set-up`, 'shared_buffers', Number(sharedBuffers) / 2 ** 20, 'MiB');
    row(`${base} set-up`, 'table size', Number((await admin.query<{ s: string }>("SELECT pg_relation_size('bench_vectors') AS s")).rows[0]?.s) / 2 ** 20, 'MiB');
    const queries = data.queries.map((q) => toVectorLiteral(Array.from(q)));
    const warm = queries.slice(0, Math.min(10, queries.length));

    const accuracy = (a: Answers): number | null =>
      data.queryIdentity ? a.identities.filter((id, i) => id === data.queryIdentity![i]).length / queries.length : null;
    const recall = (a: Answers, truth: readonly number[]): number => a.ids.filter((id, i) => id === truth[i]).length / a.ids.length;
    // The site each query is asked at: the person's own (a kiosk where they work); uniform data, any.
    const sites = data.queries.map((_, i) => (data.queryIdentity ? data.queryIdentity[i]! : i) % SITES);

    // Ground truth by brute force; the exact scan (no index) timed on a sample and checked against it.
    const truth = bruteForceNearest(data);
    const siteTruth = bruteForceNearest(data, sites);
    const sample = queries.slice(0, Math.min(profile.exactQueries, queries.length));
    await timedQueries([admin], warm.slice(0, 2));
    const exact1 = await timedQueries([admin], sample);
    const exact2 = await timedQueries(clients, sample);
    const disagree = exact1.answers.ids.filter((id, i) => id !== truth[i]).length;
    if (disagree > 0) console.warn(`[central bench] ${base}: exact scan and brute force disagree on ${disagree}/${sample.length} queries`);
    const exactCase = `${base} no index (exact scan)`;
    row(exactCase, 'queries/s, 1 client', exact1.qps, 'q/s');
    row(exactCase, 'queries/s, 2 clients', exact2.qps, 'q/s');
    row(exactCase, '2 clients vs 1', exact2.qps / exact1.qps, 'x');
    if (data.queryIdentity) {
      const exactAccuracy = truth.filter((id, i) => data.identity[id - 1] === data.queryIdentity![i]).length / truth.length;
      row(exactCase, 'identification accuracy', exactAccuracy, 'fraction');
    }
    // The kiosk's fallback without a vector index: the site's rows by the site index, every distance computed.
    const siteExactCase = `${base} one site of ${SITES}, exact (site index, no vector index)`;
    await timedQueries([admin], warm, SITE_QUERY, sites);
    const siteExact1 = await timedQueries([admin], queries, SITE_QUERY, sites);
    const siteExact2 = await timedQueries(clients, queries, SITE_QUERY, sites);
    row(siteExactCase, 'queries/s, 1 client', siteExact1.qps, 'q/s');
    row(siteExactCase, 'queries/s, 2 clients', siteExact2.qps, 'q/s');
    row(siteExactCase, 'speed vs exact scan of all, 2 clients', siteExact2.qps / exact2.qps, 'x');
    row(siteExactCase, 'recall@1 vs exact scan of the site', recall(siteExact1.answers, siteTruth), 'fraction');
    const siteExactAccuracy = accuracy(siteExact1.answers);
    if (siteExactAccuracy !== null) row(siteExactCase, 'identification accuracy', siteExactAccuracy, 'fraction');

    const indexes = [
      {
        describe: `ivfflat lists=${Math.round(Math.sqrt(n))}`,
        ddl: `CREATE INDEX bench_ivfflat ON bench_vectors USING ivfflat (embedding vector_l2_ops) WITH (lists = ${Math.round(Math.sqrt(n))})`,
        name: 'bench_ivfflat',
        param: 'ivfflat.probes',
        values: profile.full ? [1, 4, 16, 32] : [1, 16],
        twoClientsAt: 16,
        asShipped: false,
        sql: QUERY,
        siteSql: null,
      },
      ...profile.hnswGraphs[tag].map((graph) => {
        const name = `bench_hnsw_${graph.m}_${graph.efConstruction}${graph.halfvec ? '_half' : ''}`;
        const params = `WITH (m = ${graph.m}, ef_construction = ${graph.efConstruction})`;
        return {
          describe: describeGraph(graph),
          ddl: graph.halfvec
            ? `CREATE INDEX ${name} ON bench_vectors USING hnsw ((embedding::halfvec(128)) halfvec_l2_ops) ${params}`
            : `CREATE INDEX ${name} ON bench_vectors USING hnsw (embedding vector_l2_ops) ${params}`,
          name,
          param: 'hnsw.ef_search',
          values: profile.full ? [10, 40, 100, CENTRAL_EF_SEARCH, 400] : [40, 100, CENTRAL_EF_SEARCH, 400],
          twoClientsAt: CENTRAL_EF_SEARCH,
          asShipped:
            !graph.halfvec && graph.m === CENTRAL_HNSW_GRAPH.m && graph.efConstruction === CENTRAL_HNSW_GRAPH.efConstruction,
          sql: graph.halfvec ? HALFVEC_QUERY : QUERY,
          siteSql: graph.halfvec ? HALFVEC_SITE_QUERY : SITE_QUERY,
        };
      }),
    ];
    await admin.query(`SET maintenance_work_mem = '${profile.maintenanceWorkMem[tag]}'`);
    // As central searches (search-settings.ts): a WHERE clause (one site) does not cut the scan short.
    for (const c of clients) await c.query('SET hnsw.iterative_scan = strict_order');
    for (const index of indexes) {
      const t = performance.now();
      await admin.query(index.ddl);
      const buildS = (performance.now() - t) / 1000;
      const size = Number((await admin.query<{ s: string }>('SELECT pg_relation_size($1) AS s', [index.name])).rows[0]?.s);
      const kase = `${base} ${index.describe}`;
      row(kase, 'build time', buildS, 's');
      row(kase, 'build rate', n / buildS, 'vectors/s');
      row(kase, 'index size', size / 2 ** 20, 'MiB');
      if (!(await usesIndex(admin, queries[0]!, index.name, index.sql))) console.warn(`[central bench] ${kase}: the planner does not use the index!`);
      for (const value of index.values) {
        for (const c of clients) await c.query(`SET ${index.param} = ${value}`);
        await timedQueries([admin], warm, index.sql);
        const one = await timedQueries([admin], queries, index.sql);
        // Two clients at the setting one would run with (pgvector's default for ivfflat is probes 1, far too low for
        // faces; hnsw as shipped), not at every sweep point: it doubles the sweep's time for one more ratio.
        const two = value === index.twoClientsAt ? await timedQueries(clients, queries, index.sql) : null;
        const shipped = index.asShipped && value === CENTRAL_EF_SEARCH ? ' (as shipped)' : '';
        const sweep = `${kase} ${index.param.split('.')[1] ?? index.param}=${value}${shipped}`;
        row(sweep, 'queries/s, 1 client', one.qps, 'q/s');
        if (two) {
          row(sweep, 'queries/s, 2 clients', two.qps, 'q/s');
          row(sweep, '2 clients vs 1', two.qps / one.qps, 'x');
        }
        row(sweep, 'speed vs exact scan, 1 client', one.qps / exact1.qps, 'x');
        row(sweep, 'recall@1 vs exact scan', recall(one.answers, truth), 'fraction');
        const acc = accuracy(one.answers);
        if (acc !== null) row(sweep, 'identification accuracy', acc, 'fraction');
        // The same graph asked for one site (the kiosk's fallback): the scan walks past the other 99 sites' rows.
        if (two && index.siteSql) {
          const siteCase = `${sweep}, one site of ${SITES}`;
          const planned = await usesIndex(admin, queries[0]!, index.name, index.siteSql);
          const site2 = await timedQueries(clients, queries, index.siteSql, sites);
          row(siteCase, 'queries/s, 2 clients', site2.qps, 'q/s');
          row(siteCase, 'speed vs site exact, 2 clients', site2.qps / siteExact2.qps, 'x');
          row(siteCase, 'recall@1 vs exact scan of the site', recall(site2.answers, siteTruth), 'fraction');
          const siteAcc = accuracy(site2.answers);
          if (siteAcc !== null) row(siteCase, 'identification accuracy', siteAcc, 'fraction');
          row(siteCase, 'planner chose the vector index', planned ? 1 : 0, 'yes=1');
        }
      }
      for (const c of clients) await c.query(`RESET ${index.param}`);
      await admin.query(`DROP INDEX ${index.name}`);
    }
    await admin.query('DROP TABLE bench_vectors');
  } finally {
    await second.end();
    await admin.end();
  }
  return results;
}

export const centralSuite: BenchSuite = {
  name: 'central',
  description:
    "central's nearest-template search: no index (exact) vs ivfflat vs hnsw on face-like and uniform 128-D vectors, " +
    '[pg-server] = real PostgreSQL (own database), [embedded-pglite] = embedded central in its own process',
  async run({ full, hnswGraphs, centralSets }) {
    const profile: Profile = full
      ? {
          n: { 'pg-server': 1_000_000, 'embedded-pglite': 100_000 },
          queries: { 'pg-server': 300, 'embedded-pglite': 300 },
          exactQueries: 60,
          maintenanceWorkMem: { 'pg-server': '4GB', 'embedded-pglite': '1GB' },
          full: true,
          hnswGraphs: { 'pg-server': hnswGraphs, 'embedded-pglite': [CENTRAL_HNSW_GRAPH] },
        }
      : {
          n: { 'pg-server': 100_000, 'embedded-pglite': 10_000 },
          queries: { 'pg-server': 200, 'embedded-pglite': 200 },
          exactQueries: 50,
          maintenanceWorkMem: { 'pg-server': '512MB', 'embedded-pglite': '512MB' },
          full: false,
          hnswGraphs: { 'pg-server': hnswGraphs, 'embedded-pglite': hnswGraphs },
        };
    const results: BenchResult[] = [];
    await eachCentral('central', async (central) => {
      const n = profile.n[central.tag];
      const q = profile.queries[central.tag];
      for (const set of centralSets) {
        const data = set === 'face-like' ? faceLikeDataset(n, q) : uniformDataset(n, q);
        const t = performance.now();
        const rows = await runOn(central, data, profile);
        results.push(...rows);
        // Printed as each dataset finishes: a --full run takes most of an hour, and a later failure must not lose it.
        console.log(`\n${markdownTable(rows)}\n`);
        console.log(`[central bench] ${data.name} ${label(n)} [${central.tag}] took ${((performance.now() - t) / 1000).toFixed(0)} s`);
      }
    });
    return results;
  },
};
