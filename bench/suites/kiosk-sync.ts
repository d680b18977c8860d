import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { connectCentral } from '../../electron/central/connect.js';
import { toVectorLiteral } from '../../electron/central/vector-literal.js';
import { registerKiosk, type RegisteredKiosk } from '../../electron/central/kiosk-registry.js';
import { migrateCentral } from '../../electron/central/migrate.js';
import { openKioskDb, type KioskDatabase } from '../../electron/kiosk/store/kiosk-db.js';
import { recordPunch } from '../../electron/kiosk/store/punch-store.js';
import { listenForRoster } from '../../electron/kiosk/central/index.js';
import { RosterFollower } from '../../electron/kiosk/roster-follower.js';
import { RosterSync, type SyncResult } from '../../electron/kiosk/roster-sync.js';
import { Uploader } from '../../electron/kiosk/uploader.js';
import {
  availableEngines,
  openVectorIndex,
  type VectorEngineName,
  type VectorHit,
  type VectorIndex,
  type VectorRow,
} from '../../electron/kiosk/vector-index/index.js';
import { FACE_MODEL_ID } from '../../shared/face-model.js';
import { distribution } from '../../shared/stats/distribution.js';
import { seededRandom } from '../../test/support/face-like-data.js';
import { addSite, randomDescriptor } from '../../test/support/roster-fixtures.js';
import type { BenchResult } from '../report.js';
import type { BenchSuite } from '../run.js';
import { eachCentral, type BenchCentral, type CentralTag } from '../support/bench-centrals.js';
import { sleep } from '../../test/support/waiting.js';

/**
 * The kiosk's traffic with central, per vector engine and per central:
 *
 * - initial roster sync of 100k templates (a snapshot: central read, one SQLite transaction, index rebuild);
 * - incremental sync of 1k feed changes (500 new templates, 400 deleted templates, 100 employees deactivated,
 *   whose ~1000 templates leave the kiosk);
 * - commit-to-kiosk latency: an admin inserts a template; a kiosk following with RosterFollower has it in its cache
 *   (table and vector index: sync() returns after the index work). On a real PostgreSQL server the follower is woken
 *   by LISTEN/NOTIFY (its poll is the product default, 30 s); the embedded central does not carry notifications
 *   across connections, so there it can only poll (here every 1 s; latency ≈ uniform(0, poll) + one sync);
 * - outbox drain: 10k punches recorded in a kiosk database, sent by Uploader in its default batches.
 *
 * Centrals: the embedded central (PGlite) in a process of its own, and a fresh database on the real server named
 * by CLOCKFACE_TEST_DATABASE_URL when it is set. Case names say which: [pg-server] or [embedded-pglite].
 *
 * The roster is bulk-loaded with set-based SQL (face-like vectors made in SQL: per person a centre, per template
 * centre + noise), with the feed triggers on, but without central's hnsw index (dropped in the benchmark database
 * first): no sync reads it, and maintaining it for 100k inserts would dominate the set-up.
 */

const SITE = 'bench';
const TEMPLATES_PER_EMPLOYEE = 10;
/** Changes per incremental round, as feed rows. */
const MIX = { newTemplates: 500, deletedTemplates: 400, deactivatedEmployees: 100 } as const;
const SERVER_POLL_MS = 30_000; // kiosk.json pollSeconds default
const EMBEDDED_POLL_MS = 1_000;
/** `kiosk sync --watch` waits this long per trigger for transactions still open on central (kiosk-device.ts). */
const WATCH_WAIT_MS = 2_000;

interface Profile {
  templates: number;
  incrementalRounds: number;
  latencySamples: Record<CentralTag, number>;
  drainPunches: number;
  drainRounds: number;
}

function row(kase: string, metric: string, value: number, unit: string): BenchResult {
  return { suite: 'kiosk', case: kase, metric, value, unit };
}

const label = (n: number): string => (n >= 1000 ? `${n / 1000}k` : String(n));
// ---------------------------------------------------------------------------------------------------------------
// Centrals

// ---------------------------------------------------------------------------------------------------------------
// Central set-up and changes

/** `employees` people with TEMPLATES_PER_EMPLOYEE face-like templates each, made in SQL in three statements. */
async function loadRoster(admin: pg.Client, templates: number): Promise<number> {
  const started = performance.now();
  // No sync reads the hnsw index; 100k incremental inserts into it would dominate the set-up.
  await admin.query('DROP INDEX face_templates_embedding_hnsw');
  await addSite(admin, SITE, 'UTC');
  await admin.query(
    `INSERT INTO employees (employee_no, full_name, site)
     SELECT 'B' || lpad(g::text, 6, '0'), 'Bench Employee ' || g, $1 FROM generate_series(1, $2::int) g ORDER BY g`,
    [SITE, templates / TEMPLATES_PER_EMPLOYEE],
  );
  await admin.query('SELECT setseed(0.42)');
  // The same shape as test/support/face-like-data.ts: centre N(0, 0.043) per dimension, template centre + N(0, 0.025).
  await admin.query(
    `CREATE TEMP TABLE bench_centres AS
     SELECT e.id AS employee_id, array_agg(0.043 * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()) ORDER BY d) AS c
     FROM employees e CROSS JOIN generate_series(1, 128) d WHERE e.site = $1 GROUP BY e.id`,
    [SITE],
  );
  await admin.query(
    `INSERT INTO face_templates (employee_id, model_id, embedding, source)
     SELECT b.employee_id, $1,
            (SELECT array_agg(b.c[d] + 0.025 * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()) ORDER BY d)
             FROM generate_series(1, 128) d)::vector,
            'import'
     FROM bench_centres b CROSS JOIN generate_series(1, $2::int) s ORDER BY b.employee_id, s`,
    [FACE_MODEL_ID, TEMPLATES_PER_EMPLOYEE],
  );
  await admin.query('DROP TABLE bench_centres');
  await admin.query('ANALYZE employees, face_templates, roster_changes');
  return performance.now() - started;
}

/** What a kiosk of SITE must hold. */
async function centralCounts(admin: pg.Client): Promise<{ employees: number; templates: number }> {
  const { rows } = await admin.query<{ employees: number; templates: number }>(
    `SELECT (SELECT count(*)::int FROM employees WHERE active AND site = $1) AS employees,
            (SELECT count(*)::int FROM face_templates t JOIN employees e ON e.id = t.employee_id
             WHERE e.active AND e.site = $1 AND t.model_id = $2) AS templates`,
    [SITE, FACE_MODEL_ID],
  );
  const r = rows[0];
  if (!r) throw new Error('no counts');
  return r;
}

async function activeEmployees(admin: pg.Client): Promise<number[]> {
  const { rows } = await admin.query<{ id: number }>('SELECT id::int AS id FROM employees WHERE active AND site = $1 ORDER BY id', [SITE]);
  return rows.map((r) => r.id);
}

function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** One admin transaction with MIX's changes on distinct employees; returns the feed rows it wrote. */
async function changeRoster(admin: pg.Client, random: () => number): Promise<number> {
  const people = shuffled(await activeEmployees(admin), random);
  const deactivate = people.slice(0, MIX.deactivatedEmployees);
  const loseOne = people.slice(MIX.deactivatedEmployees, MIX.deactivatedEmployees + MIX.deletedTemplates);
  const gainOne = people.slice(MIX.deactivatedEmployees + MIX.deletedTemplates).slice(0, MIX.newTemplates);
  await admin.query('BEGIN');
  try {
    await admin.query('UPDATE employees SET active = false WHERE id = ANY($1::bigint[])', [deactivate]);
    await admin.query(
      `DELETE FROM face_templates WHERE id IN
         (SELECT min(id) FROM face_templates WHERE employee_id = ANY($1::bigint[]) GROUP BY employee_id)`,
      [loseOne],
    );
    // A new photo of the same person: their newest template plus N(0, 0.025) noise.
    await admin.query(
      `INSERT INTO face_templates (employee_id, model_id, embedding, source)
       SELECT t.employee_id, t.model_id,
              (SELECT array_agg(x + 0.025 * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()) ORDER BY i)
               FROM unnest(t.embedding::real[]) WITH ORDINALITY AS u(x, i))::vector,
              'import'
       FROM face_templates t
       WHERE t.id IN (SELECT max(id) FROM face_templates WHERE employee_id = ANY($1::bigint[]) GROUP BY employee_id)`,
      [gainOne],
    );
    const { rows } = await admin.query<{ n: number }>('SELECT count(*)::int AS n FROM roster_changes WHERE txid = pg_current_xact_id()');
    await admin.query('COMMIT');
    return rows[0]?.n ?? 0;
  } catch (e) {
    await admin.query('ROLLBACK').catch(() => undefined);
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Kiosk side

/** A VectorIndex that adds up the time spent in its writes (rebuild, add, remove). */
class TimedIndex implements VectorIndex {
  writeMs = 0;
  constructor(private readonly inner: VectorIndex) {}
  get engine(): VectorEngineName {
    return this.inner.engine;
  }
  get chosenBecause(): string {
    return this.inner.chosenBecause;
  }
  private timed(work: () => void): void {
    const t = performance.now();
    try {
      work();
    } finally {
      this.writeMs += performance.now() - t;
    }
  }
  rebuild(rows: Iterable<VectorRow>): void {
    this.timed(() => this.inner.rebuild(rows));
  }
  add(rows: readonly VectorRow[]): void {
    this.timed(() => this.inner.add(rows));
  }
  remove(templateIds: readonly number[]): void {
    this.timed(() => this.inner.remove(templateIds));
  }
  count(): number {
    return this.inner.count();
  }
  search(descriptor: Float32Array, k: number): VectorHit[] {
    return this.inner.search(descriptor, k);
  }
  close(): void {
    this.inner.close();
  }
}

/** Adds up the time `client` spends in awaited queries (RosterSync awaits each one: they never overlap). */
function timeQueries(client: pg.Client): () => number {
  let ms = 0;
  const original = client.query.bind(client) as unknown as (...args: unknown[]) => Promise<unknown>;
  Object.assign(client, {
    query: async (...args: unknown[]): Promise<unknown> => {
      const t = performance.now();
      try {
        return await original(...args);
      } finally {
        ms += performance.now() - t;
      }
    },
  });
  return () => ms;
}

interface BenchKiosk {
  engine: VectorEngineName;
  db: KioskDatabase;
  index: TimedIndex;
  sync: RosterSync;
}

interface TimedSync {
  result: SyncResult;
  totalMs: number;
  centralMs: number;
  indexMs: number;
}

async function timedSync(kiosk: BenchKiosk, connect: () => Promise<pg.Client>): Promise<TimedSync> {
  const client = await connect();
  try {
    const centralMs = timeQueries(client);
    const indexBefore = kiosk.index.writeMs;
    const t = performance.now();
    const result = await kiosk.sync.sync(client);
    const totalMs = performance.now() - t;
    return { result, totalMs, centralMs: centralMs(), indexMs: kiosk.index.writeMs - indexBefore };
  } finally {
    await client.end();
  }
}

function checkKiosk(kiosk: BenchKiosk, expected: { employees: number; templates: number }, what: string): void {
  const have = kiosk.sync.counts();
  const indexed = kiosk.index.count();
  if (have.employees !== expected.employees || have.templates !== expected.templates || indexed !== expected.templates) {
    throw new Error(
      `${what} (${kiosk.engine}): kiosk holds ${have.employees} employees / ${have.templates} templates / ${indexed} indexed, ` +
        `central has ${expected.employees} / ${expected.templates}`,
    );
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Commit-to-kiosk latency

interface LatencyRun {
  latencies: number[];
  /** Per follower trigger: connect and sync passes. */
  syncMs: number[];
  /** Per RosterSync.sync pass. */
  passMs: number[];
  notifications: number;
  syncs: number;
  /**
   * Sync passes that started after a sample's commit and still did not deliver it: the feed only hands out transactions
   * older than the oldest one still running anywhere on the server (see roster_changes_since), so a writing
   * transaction that began before the admin's and was still open held it back; the next trigger brings it.
   */
  heldBack: number;
}

async function followLatency(
  kiosk: BenchKiosk,
  admin: pg.Client,
  connect: () => Promise<pg.Client>,
  people: readonly number[],
  options: { samples: number; pollMs: number; gapMs: () => number; random: () => number },
): Promise<LatencyRun> {
  const has = kiosk.db.prepare('SELECT 1 FROM templates WHERE id = ?').pluck();
  const waiting = new Map<number, (at: number) => void>();
  const syncMs: number[] = [];
  let notifications = 0;
  let inFlight = 0;
  let lastSyncEnd = performance.now();
  const passes: Array<{ start: number; end: number; watermark: bigint }> = [];
  const arrivals = (): void => {
    const now = performance.now();
    for (const [id, resolve] of waiting) {
      if (has.get(id) !== undefined) {
        waiting.delete(id);
        resolve(now);
      }
    }
  };
  const follower = new RosterFollower({
    // What `kiosk sync --watch` runs per trigger (KioskCore.syncRoster(WATCH_WAIT_MS)), without the central last
    // punches and the upload: sync passes until every transaction begun before the trigger has been read, for at
    // most WATCH_WAIT_MS; "not caught up" makes the follower look again a second later.
    sync: async () => {
      inFlight++;
      const t = performance.now();
      try {
        const client = await connect();
        try {
          const { rows } = await client.query<{ x: string }>('SELECT pg_snapshot_xmax(pg_current_snapshot())::text AS x');
          const target = BigInt(rows[0]?.x ?? '0');
          const deadline = Date.now() + WATCH_WAIT_MS;
          for (;;) {
            const start = performance.now();
            const result = await kiosk.sync.sync(client);
            const watermark = BigInt(result.watermark);
            passes.push({ start, end: performance.now(), watermark });
            arrivals();
            if (watermark >= target) return true;
            if (Date.now() >= deadline) return false;
            await sleep(200);
          }
        } finally {
          await client.end();
        }
      } finally {
        inFlight--;
        lastSyncEnd = performance.now();
        syncMs.push(lastSyncEnd - t);
      }
    },
    listen: async (events) =>
      listenForRoster(await connect(), {
        notified: () => {
          notifications++;
          events.notified();
        },
        lost: events.lost,
      }),
    pollMs: options.pollMs,
  });
  follower.start();
  try {
    // Settle: the start-up syncs (one at start, one once listening) catch up with earlier changes.
    const settleBy = performance.now() + 30_000;
    while (!(follower.listening && inFlight === 0 && performance.now() - lastSyncEnd > 300 && follower.completed >= 1)) {
      if (performance.now() > settleBy) throw new Error(`kiosk ${kiosk.engine} follower did not settle`);
      await sleep(50);
    }
    syncMs.length = 0;
    passes.length = 0;
    const notificationsBefore = notifications;
    const syncsBefore = follower.completed;
    const latencies: number[] = [];
    let heldBack = 0;
    for (let i = 0; i < options.samples; i++) {
      await sleep(options.gapMs());
      const employee = people[Math.floor(options.random() * people.length)]!;
      // An admin adding one template (what test/support/roster-fixtures addTemplate does), plus its transaction id.
      const inserted = await admin.query<{ id: number; txid: string }>(
        `INSERT INTO face_templates (employee_id, model_id, embedding, source) VALUES ($1, $2, $3, 'import')
         RETURNING id::int AS id, pg_current_xact_id()::text AS txid`,
        [employee, FACE_MODEL_ID, toVectorLiteral(randomDescriptor(options.random))],
      );
      const committedAt = performance.now();
      const id = inserted.rows[0]!.id;
      const txid = BigInt(inserted.rows[0]!.txid);
      const arrivedAt =
        has.get(id) !== undefined
          ? performance.now()
          : await new Promise<number>((resolve, reject) => {
              const timer = setTimeout(() => {
                waiting.delete(id);
                reject(new Error(`template ${id} did not reach kiosk ${kiosk.engine} within ${2 * options.pollMs + 30_000} ms`));
              }, 2 * options.pollMs + 30_000);
              waiting.set(id, (at) => {
                clearTimeout(timer);
                resolve(at);
              });
            });
      latencies.push(arrivedAt - committedAt);
      heldBack += passes.filter((p) => p.start >= committedAt && p.end < arrivedAt && p.watermark <= txid).length;
    }
    return {
      latencies,
      syncMs,
      passMs: passes.map((p) => p.end - p.start),
      notifications: notifications - notificationsBefore,
      syncs: follower.completed - syncsBefore,
      heldBack,
    };
  } finally {
    await follower.stop();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Outbox

/** Records `n` punches (one outer transaction: set-up, not what is measured) for the given employees. */
function fillOutbox(db: KioskDatabase, n: number, people: readonly number[], random: () => number): void {
  const base = Date.now() - n * 1000;
  db.transaction(() => {
    for (let i = 0; i < n; i++) {
      recordPunch(db, {
        employeeId: people[Math.floor(random() * people.length)]!,
        direction: i % 2 === 0 ? 'in' : 'out',
        method: 'face',
        matchDistance: 0.3 + random() * 0.2,
        liveness: 'not_checked',
        at: new Date(base + i * 1000),
      });
    }
  })();
}

/** What one punch costs on the kiosk before the screen says "Clocked IN": one transaction, fsynced (WAL, FULL). */
function recordPunchLatency(dir: string, n: number): BenchResult[] {
  const db = openKioskDb(join(dir, 'record-punch.db'));
  try {
    const samples: number[] = [];
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      recordPunch(db, { employeeId: 1 + (i % 50), direction: 'in', method: 'pin', matchDistance: null, at: new Date() });
      samples.push(performance.now() - t);
    }
    const d = distribution(samples);
    const kase = `record punch (kiosk SQLite, WAL, synchronous=FULL), ${n} punches`;
    return [row(kase, 'p50', d.median, 'ms'), row(kase, 'p95', d.p95, 'ms')];
  } finally {
    db.close();
  }
}

// ---------------------------------------------------------------------------------------------------------------

async function runCentral(central: BenchCentral, engines: VectorEngineName[], profile: Profile, dir: string): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  const tag = central.tag;
  const n = label(profile.templates);
  const admin = await connectCentral({ url: central.url, embeddedDefault: false }, { applicationName: 'clockface-bench-admin' });
  const kiosks: BenchKiosk[] = [];
  try {
    await migrateCentral(admin);
    const loadMs = await loadRoster(admin, profile.templates);
    results.push(row(`set-up [${tag}]`, `bulk load ${n} templates (SQL, feed triggers on, no hnsw)`, loadMs / 1000, 's'));
    const registered: RegisteredKiosk = await registerKiosk(admin, central.url, { name: 'bench-door', site: SITE });
    // As the kiosk itself: on the server its own role, under row-level security; the embedded central ignores logins.
    const connect = (): Promise<pg.Client> =>
      connectCentral({ url: registered.settings.url, embeddedDefault: false }, { applicationName: 'clockface-bench-kiosk' });

    // 1. Initial sync: a snapshot of the whole roster, per engine.
    let expected = await centralCounts(admin);
    const initial = new Map<VectorEngineName, TimedSync>();
    for (const engine of engines) {
      const db = openKioskDb(join(dir, `${tag}-${engine}.db`));
      const index = new TimedIndex(openVectorIndex(db, engine));
      const kiosk: BenchKiosk = { engine, db, index, sync: new RosterSync(db, index, { kioskId: registered.id }) };
      kiosks.push(kiosk);
      const s = await timedSync(kiosk, connect);
      if (s.result.kind !== 'snapshot') throw new Error(`first sync of ${engine} was ${s.result.kind}`);
      checkKiosk(kiosk, expected, 'initial sync');
      initial.set(engine, s);
    }
    const jsInitial = initial.get('js');
    for (const [engine, s] of initial) {
      const kase = `initial sync ${n} [${tag}] ${engine}`;
      results.push(
        row(kase, 'time', s.totalMs / 1000, 's'),
        row(kase, 'templates/s', s.result.templates / (s.totalMs / 1000), 'templates/s'),
        row(kase, 'of which central reads', s.centralMs / 1000, 's'),
        row(kase, 'of which vector index rebuild', s.indexMs / 1000, 's'),
        row(kase, 'of which kiosk SQLite write', (s.totalMs - s.centralMs - s.indexMs) / 1000, 's'),
      );
      if (jsInitial && engine !== 'js') results.push(row(kase, 'time vs js', s.totalMs / jsInitial.totalMs, 'x'));
    }

    // 2. Incremental sync: the same 1k feed changes reach every engine's kiosk.
    const random = seededRandom(11);
    const incremental = new Map<VectorEngineName, TimedSync[]>(engines.map((e) => [e, []]));
    let feedRows = 0;
    let firstDelta: SyncResult | null = null;
    for (let round = 0; round < profile.incrementalRounds; round++) {
      feedRows = await changeRoster(admin, random);
      expected = await centralCounts(admin);
      for (const kiosk of kiosks) {
        const s = await timedSync(kiosk, connect);
        if (s.result.kind !== 'incremental') throw new Error(`sync after changes was ${s.result.kind}: ${s.result.snapshotReason ?? ''}`);
        checkKiosk(kiosk, expected, 'incremental sync');
        incremental.get(kiosk.engine)?.push(s);
        firstDelta ??= s.result;
      }
    }
    const rounds = profile.incrementalRounds > 1 ? ` (median of ${profile.incrementalRounds})` : '';
    if (firstDelta) {
      results.push(
        row(`incremental sync 1k [${tag}] changes`, 'feed rows per round', feedRows, 'changes'),
        row(`incremental sync 1k [${tag}] changes`, 'templates upserted on kiosk', firstDelta.templatesUpserted, 'templates'),
        row(`incremental sync 1k [${tag}] changes`, 'templates removed on kiosk', firstDelta.templatesRemoved, 'templates'),
      );
    }
    const median = (xs: number[]): number => distribution(xs).median;
    const jsIncremental = incremental.get('js');
    const jsMs = jsIncremental ? median(jsIncremental.map((s) => s.totalMs)) : null;
    for (const [engine, runs] of incremental) {
      const total = median(runs.map((s) => s.totalMs));
      const kase = `incremental sync 1k [${tag}] ${engine}`;
      results.push(
        row(kase, `time${rounds}`, total, 'ms'),
        row(kase, 'changes/s', feedRows / (total / 1000), 'changes/s'),
        row(kase, 'of which central reads', median(runs.map((s) => s.centralMs)), 'ms'),
        row(kase, 'of which vector index add/remove', median(runs.map((s) => s.indexMs)), 'ms'),
        row(kase, 'of which kiosk SQLite write', median(runs.map((s) => s.totalMs - s.centralMs - s.indexMs)), 'ms'),
      );
      if (jsMs !== null && engine !== 'js') results.push(row(kase, 'time vs js', total / jsMs, 'x'));
    }

    // 3. Commit-to-kiosk latency, one engine's kiosk following at a time.
    const people = await activeEmployees(admin);
    const server = tag === 'pg-server';
    const pollMs = server ? SERVER_POLL_MS : EMBEDDED_POLL_MS;
    const path = server ? 'LISTEN/NOTIFY, poll 30 s' : `polling every ${pollMs / 1000} s`;
    const latencyRandom = seededRandom(13);
    for (const kiosk of kiosks) {
      const run = await followLatency(kiosk, admin, connect, people, {
        samples: profile.latencySamples[tag],
        pollMs,
        // Commits at random phases of the poll timer; on the notify path, just apart.
        gapMs: () => (server ? 50 + latencyRandom() * 100 : latencyRandom() * pollMs),
        random: latencyRandom,
      });
      const d = distribution(run.latencies);
      const kase = `commit→kiosk cache [${tag}, ${path}] ${kiosk.engine}`;
      results.push(
        row(kase, 'p50', d.median, 'ms'),
        row(kase, 'p95', d.p95, 'ms'),
        row(kase, 'max', d.max, 'ms'),
        row(kase, 'samples', run.latencies.length, ''),
        row(kase, 'notifications received', run.notifications, ''),
        row(kase, 'follower syncs run', run.syncs, ''),
        row(kase, 'sync passes after a commit that could not see it yet', run.heldBack, ''),
        row(kase, 'one sync pass (RosterSync.sync) p50', distribution(run.passMs).median, 'ms'),
        row(kase, 'one follower sync (connect + passes) p50', distribution(run.syncMs).median, 'ms'),
      );
    }

    // 4. Outbox drain: punches recorded on a kiosk, uploaded as that kiosk.
    const drainRates: number[] = [];
    const batchSize = 500;
    for (let round = 0; round < profile.drainRounds; round++) {
      const db = openKioskDb(join(dir, `${tag}-outbox-${round}.db`));
      try {
        fillOutbox(db, profile.drainPunches, people, seededRandom(17 + round));
        const before = Number((await admin.query<{ n: string }>('SELECT count(*) AS n FROM punches')).rows[0]?.n ?? 0);
        const uploader = new Uploader(db, { kioskId: registered.id, batchSize });
        const t = performance.now();
        const stored = await uploader.drain(connect);
        const seconds = (performance.now() - t) / 1000;
        const after = Number((await admin.query<{ n: string }>('SELECT count(*) AS n FROM punches')).rows[0]?.n ?? 0);
        const status = uploader.getStatus();
        if (stored !== profile.drainPunches || after - before !== profile.drainPunches || status.pending !== 0) {
          throw new Error(
            `outbox drain stored ${stored}, central gained ${after - before}, ${status.pending} pending ` +
              `(last error: ${status.uploadError?.message ?? 'none'})`,
          );
        }
        drainRates.push(profile.drainPunches / seconds);
      } finally {
        db.close();
      }
    }
    const rate = distribution(drainRates).median;
    const kase = `outbox drain ${label(profile.drainPunches)} punches [${tag}] batches of ${batchSize}`;
    results.push(
      row(kase, `punches/s${profile.drainRounds > 1 ? ` (median of ${profile.drainRounds})` : ''}`, rate, 'punches/s'),
      row(kase, 'time', profile.drainPunches / rate, 's'),
    );
  } finally {
    for (const k of kiosks) {
      k.index.close();
      k.db.close();
    }
    await admin.end();
  }
  return results;
}

export const kioskSyncSuite: BenchSuite = {
  name: 'kiosk',
  description:
    'kiosk ↔ central per vector engine and per central ([pg-server] = real PostgreSQL, [embedded-pglite] = embedded central in its own process): ' +
    'initial sync of 100k templates, incremental sync of 1k changes, commit→kiosk latency with RosterFollower, outbox drain',
  async run({ full }) {
    const profile: Profile = {
      templates: 100_000,
      incrementalRounds: full ? 3 : 1,
      latencySamples: full ? { 'pg-server': 60, 'embedded-pglite': 40 } : { 'pg-server': 20, 'embedded-pglite': 12 },
      drainPunches: 10_000,
      drainRounds: full ? 3 : 1,
    };
    const engines = availableEngines()
      .filter((a) => a.available)
      .map((a) => a.engine);
    const results: BenchResult[] = [];
    const dir = mkdtempSync(join(tmpdir(), 'clockface-bench-kiosk-sync-'));
    try {
      results.push(...recordPunchLatency(dir, full ? 1000 : 200));
      await eachCentral('kiosk', async (central) => {
        results.push(...(await runCentral(central, engines, profile, dir)));
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    return results;
  },
};
