import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectAsKiosk } from '../../electron/central/kiosk-connection.js';
import { registerKiosk, type RegisteredKiosk } from '../../electron/central/kiosk-registry.js';
import { readRosterChanges, type RosterChange } from '../../electron/central/roster-feed.js';
import { openKioskDb } from '../../electron/kiosk/store/kiosk-db.js';
import { RosterSync } from '../../electron/kiosk/roster-sync.js';
import { openVectorIndex } from '../../electron/kiosk/vector-index/index.js';
import { recordTally } from '../support/fault-tally.js';
import { serverFactories, startMigrated, type TestCentral } from '../support/centrals.js';
import { expectCacheEquals, expectedFor, syncUntilCaughtUp } from '../support/kiosk-cache.js';
import { addEmployee, addSite, addTemplate, randomDescriptor, seededRandom } from '../support/roster-fixtures.js';
import { sleep } from '../support/waiting.js';

/**
 * Property tests (fast-check) of the roster change feed's xid8 watermark (resources/sql/central/0010_init.sql
 * roster_changes_since, electron/central/roster-feed.ts, electron/kiosk/roster-sync.ts), on the real PostgreSQL
 * server: random interleavings of real concurrent transactions (savepoints, rollbacks to them, whole rollbacks,
 * commits in any order) with a reader that polls at random moments with random page sizes. The reader must get
 * every committed change exactly once, never a rolled-back one, and its watermark must never go backwards.
 * The embedded central cannot hold two transactions open at once (docs/operations.md, "The embedded central"), so this needs the server.
 *
 * The feed only hands out transactions older than the oldest one still running anywhere in the cluster, so other
 * test files writing at the same time delay the reader (never break it): the final catch-up waits for that.
 */

const KIND = 'property: sync watermark (fast-check)';
const WRITERS = 3;
/** One scheduled step: who acts, and a number the interpreter turns into an action valid in that actor's state. */
const step = fc.record({ actor: fc.integer({ min: 0, max: WRITERS }), choice: fc.integer({ min: 0, max: 99 }), pageSize: fc.integer({ min: 1, max: 6 }) });

interface WriterState {
  client: pg.Client;
  open: boolean;
  /** Feed-producing writes of the open transaction: employee id, and the savepoint depth it was made at. */
  pending: Array<{ employeeId: number; depth: number }>;
  depth: number;
}

class Reader {
  watermark = '0';
  readonly received: RosterChange[] = [];
  readonly marks: bigint[] = [];

  constructor(private readonly client: pg.ClientBase) {}

  private advance(next: string): void {
    // The property under test: a watermark handed back is never below the one passed in.
    expect(BigInt(next)).toBeGreaterThanOrEqual(BigInt(this.watermark));
    this.watermark = next;
    this.marks.push(BigInt(next));
  }

  /** One page outside a transaction, as `FeedReader` in test/central does. */
  async page(pageSize: number): Promise<number> {
    const page = await readRosterChanges(this.client, this.watermark, pageSize);
    expect(page.snapshotNeeded).toBe(false);
    this.received.push(...page.changes);
    this.advance(page.nextWatermark);
    return page.changes.length;
  }

  /** Pages until empty inside one REPEATABLE READ transaction, as RosterSync.readIncremental does. */
  async kioskStyle(pageSize: number): Promise<void> {
    await this.client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    try {
      for (;;) {
        const before = this.watermark;
        const n = await this.page(pageSize);
        if (n === 0 || this.watermark === before) break;
      }
      await this.client.query('COMMIT');
    } catch (e) {
      await this.client.query('ROLLBACK').catch(() => undefined);
      throw e;
    }
  }
}

describe.each(serverFactories())('roster feed watermark on $label', (factory) => {
  let central: TestCentral;
  let admin: pg.Client;
  let writers: WriterState[];
  let run = 0;

  beforeAll(async () => {
    central = await startMigrated(factory);
    admin = await central.connect();
    await addSite(admin, 'north');
    await addSite(admin, 'south');
    writers = await Promise.all(
      Array.from({ length: WRITERS }, async () => ({ client: await central.connect(), open: false, pending: [], depth: 0 })),
    );
  });
  afterAll(async () => {
    await Promise.all(writers.map((w) => w.client.end()));
    await admin.end();
    await central.close();
  });

  it('random concurrent transactions, random polls: every committed change exactly once, no rolled-back one, watermark monotonic', async () => {
    const numRuns = 50;
    let changesChecked = 0;
    let rolledBack = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 5, maxLength: 60 }), fc.boolean(), async (schedule, kioskStyle) => {
        run++;
        // A failed case (while fast-check shrinks) may have left transactions open: start every case clean.
        for (const w of writers) {
          if (w.open) await w.client.query('ROLLBACK');
          Object.assign(w, { open: false, pending: [], depth: 0 });
        }
        const reader = new Reader(admin);
        // Start from the present: earlier runs' changes are not this run's business.
        await reader.page(100_000);
        while ((await reader.page(100_000)) > 0) {
          /* drain */
        }
        reader.received.length = 0;
        /** Employee id → how many feed rows its committed writes made. */
        const committed = new Map<number, number>();
        const aborted = new Set<number>();
        let n = 0;
        const finish = async (w: WriterState, commit: boolean) => {
          await w.client.query(commit ? 'COMMIT' : 'ROLLBACK');
          for (const p of w.pending) {
            if (commit) committed.set(p.employeeId, (committed.get(p.employeeId) ?? 0) + 1);
            else aborted.add(p.employeeId);
          }
          w.open = false;
          w.pending = [];
          w.depth = 0;
        };
        for (const s of schedule) {
          if (s.actor === WRITERS) {
            if (kioskStyle) await reader.kioskStyle(s.pageSize);
            else await reader.page(s.pageSize);
            continue;
          }
          const w = writers[s.actor];
          if (!w) continue;
          if (!w.open) {
            await w.client.query('BEGIN');
            w.open = true;
          }
          if (s.choice < 45) {
            const id = await addEmployee(w.client, `WM-${run}-${n++}`, s.choice % 2 === 0 ? 'north' : 'south');
            w.pending.push({ employeeId: id, depth: w.depth });
            // A second change to the same person in the same transaction: delivered too, in order.
            if (s.choice < 10) {
              await w.client.query("UPDATE employees SET full_name = full_name || ' (2)' WHERE id = $1", [id]);
              w.pending.push({ employeeId: id, depth: w.depth });
            }
          } else if (s.choice < 55) {
            await w.client.query(`SAVEPOINT s${w.depth + 1}`);
            w.depth++;
          } else if (s.choice < 65 && w.depth > 0) {
            // Undo everything since the innermost savepoint: those changes must never be delivered.
            await w.client.query(`ROLLBACK TO SAVEPOINT s${w.depth}`);
            for (const p of w.pending.filter((q) => q.depth >= w.depth)) aborted.add(p.employeeId);
            w.pending = w.pending.filter((q) => q.depth < w.depth);
            await w.client.query(`RELEASE SAVEPOINT s${w.depth}`);
            w.depth--;
          } else if (s.choice < 88) {
            await finish(w, true);
          } else {
            await finish(w, false);
          }
        }
        for (const w of writers) if (w.open) await finish(w, true);

        // Catch up: every transaction of this run has ended, so the feed must reach past them.
        const { rows } = await admin.query<{ x: string }>('SELECT pg_snapshot_xmax(pg_current_snapshot())::text AS x');
        const target = BigInt(rows[0]?.x ?? '0');
        const deadline = Date.now() + 60_000;
        while (BigInt(reader.watermark) < target && Date.now() < deadline) {
          if (kioskStyle) await reader.kioskStyle(3);
          else await reader.page(3);
          if (BigInt(reader.watermark) < target) await sleep(50);
        }
        while ((await reader.page(1_000)) > 0) {
          /* drain what the catch-up's last snapshot left */
        }
        expect(BigInt(reader.watermark)).toBeGreaterThanOrEqual(target);

        const got = new Map<number, number>();
        for (const c of reader.received) got.set(c.employeeId, (got.get(c.employeeId) ?? 0) + 1);
        for (const id of aborted) expect(got.has(id)).toBe(false); // never a rolled-back change
        expect(got).toEqual(committed); // every committed change, each exactly once
        expect(new Set(reader.received.map((c) => c.seq)).size).toBe(reader.received.length);
        for (let i = 1; i < reader.marks.length; i++) expect(reader.marks[i]).toBeGreaterThanOrEqual(reader.marks[i - 1] ?? 0n);
        changesChecked += reader.received.length;
        rolledBack += aborted.size;
      }),
      { numRuns },
    );
    console.log(`watermark property: ${numRuns} schedules, ${changesChecked} changes delivered exactly once, ${rolledBack} rolled-back writes never delivered`);
    expect(changesChecked).toBeGreaterThan(0);
    expect(rolledBack).toBeGreaterThan(0);
    recordTally({ area: 'hostile', kind: KIND, count: numRuns, outcome: 'concurrent txns in random commit order: each committed change once, no rolled-back one, watermark monotonic' });
  });

  it('a reader whose watermark is ahead of this server (a lagging replica, a re-pointed rosterUrl) is never sent backwards', async () => {
    const numRuns = 40;
    await fc.assert(
      fc.asyncProperty(fc.bigInt({ min: -50n, max: 5_000n }), fc.boolean(), async (ahead, withChange) => {
        if (withChange) await addEmployee(admin, `AHEAD-${run}-${String(ahead)}-${Date.now()}`, 'north');
        const { rows } = await admin.query<{ x: string }>('SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS x');
        const xmin = BigInt(rows[0]?.x ?? '0');
        const since = xmin + ahead > 0n ? xmin + ahead : 1n;
        const page = await readRosterChanges(admin, since.toString());
        expect(page.snapshotNeeded).toBe(false);
        expect(BigInt(page.nextWatermark)).toBeGreaterThanOrEqual(since);
        // Nothing at or beyond the reader's watermark can have been handed out twice.
        for (const c of page.changes) expect(BigInt(c.txid)).toBeGreaterThanOrEqual(since);
      }),
      { numRuns },
    );
    recordTally({ area: 'hostile', kind: KIND, count: numRuns, outcome: 'a watermark ahead of the server is kept, never moved back' });
  });
});

/**
 * The whole kiosk path: RosterSync into a real SQLite cache (sqlite-vec), syncing at random moments while
 * concurrent transactions add, rename, deactivate and move people and add and delete templates, some rolled back.
 * After a final catch-up the cache equals what central says this kiosk should hold, vector for vector.
 */
describe.each(serverFactories())('kiosk roster sync under concurrent writers on $label', (factory) => {
  let central: TestCentral;
  let admin: pg.Client;
  let kiosk: RegisteredKiosk;
  let writers: pg.Client[];
  const random = seededRandom(77);

  beforeAll(async () => {
    central = await startMigrated(factory);
    admin = await central.connect();
    await addSite(admin, 'north');
    await addSite(admin, 'south');
    kiosk = await registerKiosk(admin, central.url, { name: 'prop-sync', site: 'north' });
    writers = await Promise.all([0, 1].map(() => central.connect()));
  });
  afterAll(async () => {
    await Promise.all(writers.map((w) => w.end()));
    await admin.end();
    await central.close();
  });

  const op = fc.record({
    writer: fc.integer({ min: 0, max: 2 }), // 2: the kiosk syncs now
    what: fc.constantFrom('add', 'template', 'rename', 'deactivate', 'move', 'untemplate', 'commit', 'rollback'),
    pick: fc.nat(),
    pageSize: fc.integer({ min: 1, max: 4 }),
  });

  it('the kiosk cache ends equal to central, whatever the interleaving and the moments of sync', async () => {
    const numRuns = 25;
    let syncs = 0;
    let runNo = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 5, maxLength: 40 }), async (ops) => {
        runNo++;
        const dir = mkdtempSync(join(tmpdir(), 'clockface-prop-sync-'));
        const db = openKioskDb(join(dir, 'kiosk.db'));
        const index = openVectorIndex(db, 'sqlite-vec');
        const kioskClient = await connectAsKiosk(kiosk.settings);
        const open = [false, false];
        let n = 0;
        try {
          for (const o of ops) {
            if (o.writer === 2) {
              await new RosterSync(db, index, { kioskId: kiosk.id, pageSize: o.pageSize }).sync(kioskClient);
              syncs++;
              continue;
            }
            const w = writers[o.writer];
            if (!w) continue;
            if (o.what === 'commit' || o.what === 'rollback') {
              if (open[o.writer]) await w.query(o.what === 'commit' ? 'COMMIT' : 'ROLLBACK');
              open[o.writer] = false;
              continue;
            }
            if (!open[o.writer]) {
              await w.query('BEGIN');
              open[o.writer] = true;
            }
            // Each writer touches only the people it made, so that two open transactions never wait on one another.
            const { rows } = await w.query<{ id: number }>(
              "SELECT id::int AS id FROM employees WHERE employee_no LIKE $1 ORDER BY id",
              [`KS-${runNo}-${o.writer}-%`],
            );
            const target = rows.length > 0 ? rows[o.pick % rows.length]?.id : undefined;
            if (o.what === 'add' || target === undefined) {
              const id = await addEmployee(w, `KS-${runNo}-${o.writer}-${n++}`, o.pick % 3 === 0 ? 'south' : 'north');
              await addTemplate(w, id, randomDescriptor(random));
            } else if (o.what === 'template') {
              await addTemplate(w, target, randomDescriptor(random));
            } else if (o.what === 'rename') {
              await w.query("UPDATE employees SET full_name = full_name || '*' WHERE id = $1", [target]);
            } else if (o.what === 'deactivate') {
              await w.query('UPDATE employees SET active = NOT active WHERE id = $1', [target]);
            } else if (o.what === 'move') {
              await w.query("UPDATE employees SET site = CASE site WHEN 'north' THEN 'south' ELSE 'north' END WHERE id = $1", [target]);
            } else {
              await w.query('DELETE FROM face_templates WHERE id = (SELECT min(id) FROM face_templates WHERE employee_id = $1)', [target]);
            }
          }
          for (const [i, w] of writers.entries()) if (open[i]) await w.query(i % 2 === 0 ? 'COMMIT' : 'ROLLBACK');
          await syncUntilCaughtUp(admin, kiosk, new RosterSync(db, index, { kioskId: kiosk.id, pageSize: 2 }));
          syncs++;
          expectCacheEquals(db, index, await expectedFor(admin, kiosk.id));
        } finally {
          for (const [i, w] of writers.entries()) if (open[i]) await w.query('ROLLBACK').catch(() => undefined);
          await kioskClient.end();
          index.close();
          db.close();
          rmSync(dir, { recursive: true, force: true });
        }
      }),
      { numRuns },
    );
    console.log(`kiosk sync property: ${numRuns} interleavings, ${syncs} syncs, cache equal to central after each run`);
    recordTally({ area: 'hostile', kind: KIND, count: numRuns, outcome: 'kiosk cache equals central after random concurrent roster txns and random sync moments' });
  });
});
