import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectAsKiosk } from '../../electron/central/kiosk-connection.js';
import { registerKiosk, type RegisteredKiosk } from '../../electron/central/kiosk-registry.js';
import { toVectorLiteral } from '../../electron/central/vector-literal.js';
import { KioskCore } from '../../electron/kiosk/kiosk-core.js';
import { initKioskDir } from '../../electron/kiosk/kiosk-init.js';
import { parseKioskSettings } from '../../electron/kiosk/kiosk-settings.js';
import { recordPunch } from '../../electron/kiosk/store/punch-store.js';
import { RosterSync } from '../../electron/kiosk/roster-sync.js';
import { FACE_MODEL_ID } from '../../shared/face-model.js';
import { recordTally } from '../support/fault-tally.js';
import { expectCacheEquals, expectedFor, type Expected } from '../support/kiosk-cache.js';
import { clusterSuites, createCentralDatabase, startCluster, type PgCluster, type StopMode } from '../support/pg-cluster.js';
import { randomDescriptor, seededRandom } from '../support/roster-fixtures.js';
import { TestClock, mondayWeeksAgo } from '../support/test-clock.js';
import { sleep } from '../support/waiting.js';

/**
 * Central (a private PostgreSQL 15 cluster) restarted under a working kiosk, fast (sessions terminated, open
 * transactions rolled back) and immediate (every server process killed, crash recovery at start):
 * - while the kiosk uploads a large outbox in small batches, at random points and with an INSERT in flight;
 * - in the middle of a roster sync's repeatable-read transaction (first snapshot, then incremental syncs).
 * After each: every punch on central exactly once, the kiosk's roster cache whole (the old roster when the sync
 * died, central's roster after the next sync), and the kiosk carries on with no hand repair.
 */

const EMPLOYEES = 1_500;
const UPLOAD_ROUNDS = 12;
const PUNCHES_PER_ROUND = 400;
/** Where in the upload central goes down: fast and immediate each meet each of these (rounds alternate both). */
const STOP_POINTS = ['random point', 'INSERT in flight', 'COMMIT in flight'] as const;
type StopPoint = (typeof STOP_POINTS)[number];
const BATCH = 10;
const SYNC_ROUNDS = 4;
const random = seededRandom(8_808);
const modes: StopMode[] = ['fast', 'immediate'];
describe.each(clusterSuites('a private PostgreSQL 15 central'))('central restarts under a kiosk (%s)', () => {
  let central: PgCluster;
  let adminUrl: string;
  let kiosk: RegisteredKiosk;
  let employeeIds: number[] = [];
  const root = mkdtempSync(join(tmpdir(), 'clockface-restart-'));
  const kioskDir = join(root, 'kiosk');
  const clock = new TestClock(mondayWeeksAgo(12, '05:00'));

  /** A superuser client that outlives restarts: reconnects when the server dropped it. */
  let watcher: pg.Client | null = null;
  async function watch<R extends pg.QueryResultRow>(sql: string, params: unknown[]): Promise<R[]> {
    for (let attempt = 0; ; attempt++) {
      try {
        if (!watcher) {
          watcher = new pg.Client({ connectionString: adminUrl, application_name: 'clockface-test-watcher' });
          watcher.on('error', () => undefined);
          await watcher.connect();
        }
        return (await watcher.query<R>(sql, params)).rows;
      } catch (e) {
        await watcher?.end().catch(() => undefined);
        watcher = null;
        if (attempt > 300) throw e;
        await sleep(20);
      }
    }
  }

  async function admin(): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    return client;
  }

  async function addEmployees(client: pg.ClientBase, prefix: string, count: number): Promise<number[]> {
    const numbers = Array.from({ length: count }, (_, i) => `${prefix}${i}`);
    const { rows } = await client.query<{ id: number }>(
      `INSERT INTO employees (employee_no, full_name, site)
       SELECT n, 'Employee ' || n, 'hq' FROM unnest($1::text[]) AS n RETURNING id::int AS id`,
      [numbers],
    );
    const ids = rows.map((r) => r.id);
    await addTemplates(client, ids);
    return ids;
  }

  async function addTemplates(client: pg.ClientBase, ids: number[]): Promise<void> {
    await client.query(
      `INSERT INTO face_templates (employee_id, model_id, embedding, source)
       SELECT e, $2, v::vector, 'import' FROM unnest($1::bigint[], $3::text[]) AS u(e, v)`,
      [ids, FACE_MODEL_ID, ids.map(() => toVectorLiteral(randomDescriptor(random)))],
    );
  }

  function pick<T>(from: readonly T[], count: number): T[] {
    const copy = [...from];
    const out: T[] = [];
    while (out.length < count && copy.length > 0) out.push(copy.splice(Math.floor(random() * copy.length), 1)[0]!);
    return out;
  }

  beforeAll(async () => {
    central = await startCluster({ name: 'restart' });
    adminUrl = await createCentralDatabase(central);
    const client = await admin();
    try {
      await client.query("INSERT INTO sites (code, name, time_zone) VALUES ('hq', 'hq', 'UTC')");
      employeeIds = await addEmployees(client, 'E', EMPLOYEES);
      kiosk = await registerKiosk(client, adminUrl, { name: 'door-1', site: 'hq' });
    } finally {
      await client.end();
    }
    await initKioskDir(
      kioskDir,
      parseKioskSettings({ ...kiosk.settings, kioskId: kiosk.id, engine: 'sqlite-vec', uploadBatchSize: BATCH }, 'test settings'),
    );
  }, 120_000);

  afterAll(async () => {
    await watcher?.end().catch(() => undefined);
    await central?.destroy();
    rmSync(root, { recursive: true, force: true });
  });

  /** Central's rows of these punches: how many, how many distinct ids, how many distinct (employee, time). */
  async function onCentral(ids: string[]): Promise<{ n: number; ids: number; punches: number }> {
    const [row] = await watch<{ n: number; ids: number; punches: number }>(
      `SELECT count(*)::int AS n, count(DISTINCT id)::int AS ids, count(DISTINCT (employee_id, punched_at))::int AS punches
       FROM punches WHERE id = ANY($1::uuid[])`,
      [ids],
    );
    return row!;
  }

  /** Waits until one of the kiosk's sessions matches `condition` in pg_stat_activity (or the upload ended). */
  async function waitForKiosk(condition: string, ended: () => boolean): Promise<void> {
    for (let i = 0; i < 2_000 && !ended(); i++) {
      const [row] = await watch<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = $1 AND ${condition}`,
        [kiosk.settings.roleName],
      );
      if ((row?.n ?? 0) > 0) return;
      await sleep(5);
    }
    if (!ended()) throw new Error(`no kiosk session with ${condition}`);
  }

  it(`${UPLOAD_ROUNDS} restarts (fast and immediate) while ${UPLOAD_ROUNDS * PUNCHES_PER_ROUND} punches upload in batches of ${BATCH}: each arrives exactly once`, async () => {
    const core = KioskCore.open(kioskDir, { clock });
    const allIds: string[] = [];
    const log: string[] = [];
    let restarts = 0;
    const byPoint: Record<StopPoint, number> = { 'random point': 0, 'INSERT in flight': 0, 'COMMIT in flight': 0 };
    let resentTotal = 0;
    try {
      for (let round = 0; round < UPLOAD_ROUNDS; round++) {
        const mode = modes[round % 2]!;
        const point = STOP_POINTS[round % STOP_POINTS.length]!;
        const ids: string[] = [];
        // The punch store's own write (punch + outbox row), many in one SQLite transaction: one fsync, not hundreds.
        core.db.transaction(() => {
          for (let i = 0; i < PUNCHES_PER_ROUND; i++) {
            clock.elapse(1_000);
            const employeeId = employeeIds[Math.floor(random() * employeeIds.length)]!;
            ids.push(recordPunch(core.db, { employeeId, direction: i % 2 ? 'out' : 'in', method: 'pin', matchDistance: null, at: clock.now() }).id);
          }
        })();
        allIds.push(...ids);
        const threshold = 1 + Math.floor(random() * PUNCHES_PER_ROUND * 0.6);
        let locker: pg.Client | null = null;
        let seenAtStop = 0;
        let stopped = false;
        const uploading = core.upload();
        let finished = false;
        void uploading.then(() => (finished = true));
        while (!finished) {
          seenAtStop = (await onCentral(ids)).n;
          if (seenAtStop >= threshold && seenAtStop < PUNCHES_PER_ROUND) {
            if (point === 'INSERT in flight') {
              // The kiosk's next batch waits for this lock: its INSERT has reached the server, unanswered.
              locker = await admin();
              locker.on('error', () => undefined);
              await locker.query('BEGIN');
              await locker.query('LOCK TABLE punches IN EXCLUSIVE MODE');
              await waitForKiosk("wait_event_type = 'Lock'", () => finished);
            } else if (point === 'COMMIT in flight') {
              // A synchronous standby that does not exist: the next batch commits locally (its commit record is in
              // the WAL, so it survives the restart) and then waits for an acknowledgement that never comes. The
              // kiosk never hears that central holds those punches, keeps them, and must send them again.
              await watch("ALTER SYSTEM SET synchronous_standby_names = 'nobody'", []);
              await watch('SELECT pg_reload_conf()', []);
              await waitForKiosk("wait_event = 'SyncRep'", () => finished);
            }
            if (!finished) {
              await central.stop(mode);
              stopped = true;
            }
            break;
          }
          await sleep(2);
        }
        await uploading;
        await locker?.end().catch(() => undefined);
        if (stopped) {
          restarts++;
          byPoint[point]++;
          // While central is down the kiosk keeps every punch it could not hand over.
          const pendingWhileDown = core.status().pendingPunches;
          expect(core.uploader.getStatus().connected).toBe(false);
          await central.start();
          if (point === 'COMMIT in flight') {
            await watch('ALTER SYSTEM RESET synchronous_standby_names', []);
            await watch('SELECT pg_reload_conf()', []);
          }
          const held = await onCentral(ids);
          const stillOnKiosk = core.db
            .prepare('SELECT punch_id FROM outbox WHERE punch_id IN (SELECT value FROM json_each(?))')
            .pluck()
            .all(JSON.stringify(ids)) as string[];
          const onBoth = (await watch<{ n: number }>('SELECT count(*)::int AS n FROM punches WHERE id = ANY($1::uuid[])', [stillOnKiosk]))[0]!.n;
          // Nothing lost: each punch is on central or in the outbox (both when central committed the batch and the
          // answer died with the server); none twice on central.
          expect(held.n + stillOnKiosk.length - onBoth).toBe(PUNCHES_PER_ROUND);
          expect(held.ids).toBe(held.n);
          expect(pendingWhileDown).toBe(stillOnKiosk.length);
          expect(stillOnKiosk.length).toBeGreaterThan(0);
          // The batch whose commit was in flight is on central and still in the outbox; with the INSERT in flight
          // (rolled back or killed before its commit) none is.
          if (point === 'COMMIT in flight') expect(onBoth).toBe(BATCH);
          if (point === 'INSERT in flight') expect(onBoth).toBe(0);
          resentTotal += onBoth;
          log.push(`${mode}, ${point}: stopped at ${seenAtStop}/${PUNCHES_PER_ROUND} on central; ${stillOnKiosk.length} left in the outbox, ${onBoth} of them already on central`);
        } else {
          log.push(`${mode}, ${point}: the upload finished before the stop (threshold ${threshold})`);
        }
        // No hand repair: past the back-off, the next upload sends the rest.
        clock.elapse(10 * 60_000);
        await core.upload();
        expect(core.uploader.getStatus()).toMatchObject({ connected: true, pending: 0, uploadError: null });
        expect(await onCentral(ids)).toEqual({ n: PUNCHES_PER_ROUND, ids: PUNCHES_PER_ROUND, punches: PUNCHES_PER_ROUND });
      }
      // The restarts this test is about happened, each kind at least once.
      expect(restarts).toBeGreaterThanOrEqual(UPLOAD_ROUNDS - 2);
      for (const p of STOP_POINTS) expect(byPoint[p], p).toBeGreaterThanOrEqual(1);
      expect(resentTotal).toBeGreaterThan(0);

      // The kiosk's punches and central's rows are the same set, field by field.
      const local = core.db
        .prepare('SELECT id, employee_id, direction, punched_at FROM punches ORDER BY id')
        .all() as Array<{ id: string; employee_id: number; direction: string; punched_at: string }>;
      const remote = await watch<{ id: string; employee_id: number; direction: string; punched_at: Date }>(
        'SELECT id::text, employee_id::int AS employee_id, direction, punched_at FROM punches WHERE kiosk_id = $1 ORDER BY id',
        [kiosk.id],
      );
      expect(local).toHaveLength(allIds.length);
      expect(remote.map((p) => `${p.id} ${p.employee_id} ${p.direction} ${p.punched_at.toISOString()}`)).toEqual(
        local.map((p) => `${p.id} ${p.employee_id} ${p.direction} ${p.punched_at}`),
      );
      const total = allIds.length;
      const lost = total - remote.length;
      const duplicated = remote.length - new Set(remote.map((r) => r.id)).size;
      expect({ lost, duplicated }).toEqual({ lost: 0, duplicated: 0 });
      console.log(`[central-restart] upload rounds:\n  ${log.join('\n  ')}\n  ${total} punches on central once each; ${resentTotal} sent twice and absorbed by ON CONFLICT`);
      recordTally({
        area: 'fault',
        kind: 'central restart (fast/immediate) mid-upload',
        count: restarts,
        punches: { expected: total, lost, duplicated },
        outcome: `upload failed, outbox kept, next upload completed (${Object.entries(byPoint).map(([k, v]) => `${v} at ${k}`).join(', ')}); ${resentTotal} punches committed unacknowledged, re-sent and absorbed`,
      });
    } finally {
      core.close();
    }
  });

  it(`${SYNC_ROUNDS} restarts in the middle of a roster sync: the old roster stays whole, the next sync brings central's`, async () => {
    const core = KioskCore.open(kioskDir, { clock });
    const log: string[] = [];
    let restarts = 0;
    let changesMade = 0;
    try {
      // Small pages and snapshot batches give a sync many round trips inside its transaction: many places to die.
      const sync = new RosterSync(core.db, core.index, { kioskId: kiosk.id, snapshotBatch: 100, pageSize: 100 });
      for (let round = 0; round < SYNC_ROUNDS; round++) {
        const mode = modes[round % 2]!;
        const before: Expected | null = round === 0 ? null : await withAdmin((c) => expectedFor(c, kiosk.id));
        let estimatedQueries: number;
        if (round === 0) {
          estimatedQueries = 4 + Math.floor(EMPLOYEES / 100); // BEGIN, watermark, sites, employees, template pages…
        } else {
          const made = await withAdmin((c) => changeRoster(c));
          changesMade += made;
          estimatedQueries = 3 + Math.floor(made / 100); // BEGIN, watermark, sites, feed pages…
        }
        // The kill point: just before the k-th statement of the sync (k ≥ 2: the transaction is open).
        const k = 2 + Math.floor(random() * (estimatedQueries - 1));
        const client = await connectAsKiosk(kiosk.settings);
        let n = 0;
        let stoppedAt = 0;
        const doomed = new Proxy(client, {
          get(target, prop) {
            if (prop !== 'query') return Reflect.get(target, prop, target) as unknown;
            return async (...args: unknown[]) => {
              n++;
              if (n === k) {
                stoppedAt = n;
                await central.stop(mode);
              }
              return (target.query as (...a: unknown[]) => Promise<unknown>).apply(target, args);
            };
          },
        });
        await expect(sync.sync(doomed)).rejects.toThrow();
        await client.end().catch(() => undefined);
        expect(stoppedAt).toBe(k);
        restarts++;
        // The sync died with nothing written: the previous roster, whole (none at all before the first sync).
        if (before === null) {
          expect(sync.counts()).toEqual({ employees: 0, templates: 0 });
          expect(core.index.count()).toBe(0);
        } else {
          expectCacheEquals(core.db, core.index, before);
        }
        await central.start();
        // No hand repair: the kiosk's own sync (new connection) brings central's roster.
        const result = await core.syncRoster(30_000);
        expect(result.caughtUp).toBe(true);
        expect(result.kind).toBe(round === 0 ? 'snapshot' : 'incremental');
        expectCacheEquals(core.db, core.index, await withAdmin((c) => expectedFor(c, kiosk.id)));
        log.push(`${mode} before statement ${k} of ~${estimatedQueries}: sync refused, cache unchanged; next sync ${result.kind} (${result.changesRead} changes) → ${result.employees} employees, ${result.templates} templates`);
      }
      // And it still punches and uploads.
      clock.elapse(60_000);
      const punch = core.recordPunch({ employeeId: employeeIds[0]!, direction: 'in', method: 'pin', matchDistance: null, at: clock.now() });
      await core.upload();
      expect(await onCentral([punch.id])).toEqual({ n: 1, ids: 1, punches: 1 });
      console.log(`[central-restart] sync rounds (${changesMade} roster changes):\n  ${log.join('\n  ')}`);
      recordTally({
        area: 'fault',
        kind: 'central restart mid-sync',
        count: restarts,
        punches: { expected: 1, lost: 0, duplicated: 0 },
        outcome: `sync refused with the cache unchanged, next sync equal to central (${changesMade} roster changes)`,
      });
    } finally {
      core.close();
    }
  });

  async function withAdmin<T>(f: (c: pg.Client) => Promise<T>): Promise<T> {
    const c = await admin();
    try {
      return await f(c);
    } finally {
      await c.end();
    }
  }

  /** A mixed batch of roster changes in separate transactions; returns how many feed rows they made. */
  async function changeRoster(c: pg.Client): Promise<number> {
    const [{ before }] = (await c.query<{ before: number }>('SELECT count(*)::int AS before FROM roster_changes')).rows as [{ before: number }];
    const active = (await c.query<{ id: number }>('SELECT id::int AS id FROM employees WHERE active ORDER BY id')).rows.map((r) => r.id);
    await c.query("UPDATE employees SET full_name = full_name || ' (renamed)' WHERE id = ANY($1)", [pick(active, 200)]);
    await c.query('UPDATE employees SET active = false WHERE id = ANY($1)', [pick(active, 30)]);
    await c.query(
      'DELETE FROM face_templates WHERE id IN (SELECT min(id) FROM face_templates WHERE employee_id = ANY($1) GROUP BY employee_id)',
      [pick(active, 30)],
    );
    await addTemplates(c, pick(active, 50));
    employeeIds.push(...(await addEmployees(c, `N${Date.now()}-`, 80)));
    const [{ after }] = (await c.query<{ after: number }>('SELECT count(*)::int AS after FROM roster_changes')).rows as [{ after: number }];
    return after - before;
  }
});
