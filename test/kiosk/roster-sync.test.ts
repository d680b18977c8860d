import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectAsKiosk } from '../../electron/central/kiosk-connection.js';
import { registerKiosk, revokeKiosk, type RegisteredKiosk } from '../../electron/central/kiosk-registry.js';
import { syncCentralLastPunches } from '../../electron/kiosk/roster-sync.js';
import { openKioskDb, type KioskDatabase } from '../../electron/kiosk/store/kiosk-db.js';
import { getMeta, setMeta } from '../../electron/kiosk/store/kiosk-meta.js';
import { lastPunchOf } from '../../electron/kiosk/store/punch-store.js';
import { RosterSync } from '../../electron/kiosk/roster-sync.js';
import { openVectorIndex, type VectorIndex } from '../../electron/kiosk/vector-index/index.js';
import { isClockfaceError } from '../../shared/errors.js';
import { FACE_MODEL_ID } from '../../shared/face-model.js';
import { centralFactories, startMigrated, type TestCentral } from '../support/centrals.js';
import { addEmployee, addSite, addTemplate, randomDescriptor, seededRandom } from '../support/roster-fixtures.js';
import { sqliteEngines } from '../support/vector-engines.js';
import { expectCacheEquals, expectedFor, syncUntilCaughtUp } from '../support/kiosk-cache.js';

/**
 * Roster sync through the real change feed, on each central and each SQLite vector engine: after every sync the
 * kiosk's employees, template vectors and vector index equal what central says this kiosk should hold (active
 * employees of the sites it serves, templates of the kiosk's model), compared row by row and vector by vector.
 */

const random = seededRandom(505);

describe.each(centralFactories())('roster sync against $label', (factory) => {
  let central: TestCentral;
  let admin: pg.Client;
  let kiosk: RegisteredKiosk;

  beforeAll(async () => {
    central = await startMigrated(factory);
    admin = await central.connect();
    await addSite(admin, 'hq');
    await addSite(admin, 'branch');
    await admin.query("INSERT INTO face_models (model_id, dimension, description) VALUES ('other-model@1', 128, 'test')");
    for (let i = 0; i < 3; i++) {
      const id = await addEmployee(admin, `H${i}`, 'hq');
      for (let j = 0; j < 2; j++) await addTemplate(admin, id, randomDescriptor(random));
    }
    for (let i = 0; i < 3; i++) {
      const id = await addEmployee(admin, `B${i}`, 'branch');
      await addTemplate(admin, id, randomDescriptor(random));
    }
    // Not for this kiosk: an inactive employee, and a template of another model.
    const inactive = await addEmployee(admin, 'H-inactive', 'hq');
    await addTemplate(admin, inactive, randomDescriptor(random));
    await admin.query('UPDATE employees SET active = false WHERE id = $1', [inactive]);
    await admin.query(
      `INSERT INTO face_templates (employee_id, model_id, embedding, source)
       SELECT id, 'other-model@1', $1, 'import' FROM employees WHERE employee_no = 'H1'`,
      [`[${randomDescriptor(random).join(',')}]`],
    );
    kiosk = await registerKiosk(admin, central.url, { name: 'door-1', site: 'hq' });
  });
  afterAll(async () => {
    await admin.end();
    await central.close();
  });

  describe.each(sqliteEngines())('into %s', (engine) => {
    const dir = mkdtempSync(join(tmpdir(), `clockface-sync-${engine}-`));
    let db: KioskDatabase;
    let index: VectorIndex;
    let sync: RosterSync;

    const syncNow = (s: RosterSync = sync) => syncUntilCaughtUp(admin, kiosk, s);
    const check = async () => expectCacheEquals(db, index, await expectedFor(admin, kiosk.id));

    /** Each engine's cases change their own people, so that the two engines' runs do not meet on central. */
    const no = (i: number) => `${engine}-${i}`;
    const idOf = async (i: number) =>
      (await admin.query<{ id: number }>('SELECT id::int AS id FROM employees WHERE employee_no = $1', [no(i)])).rows[0]!.id;

    beforeAll(async () => {
      for (let i = 0; i < 6; i++) {
        const id = await addEmployee(admin, no(i), 'hq');
        for (let j = 0; j < 2; j++) await addTemplate(admin, id, randomDescriptor(random));
      }
      db = openKioskDb(join(dir, 'kiosk.db'));
      index = openVectorIndex(db, engine);
      sync = new RosterSync(db, index, { kioskId: kiosk.id });
    });
    afterAll(() => {
      index.close();
      db.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('the first sync is a snapshot of the active employees of the served site, templates of the kiosk model only', async () => {
      const result = await syncNow();
      expect(result).toMatchObject({ kind: 'snapshot', snapshotReason: 'first sync' });
      expect(result.employees).toBeGreaterThanOrEqual(6);
      await check();
      expect(getMeta(db, 'roster_model_id')).toBe(FACE_MODEL_ID);
      // The screen's header and clock: the kiosk's own site as central names it, and its zone.
      expect([getMeta(db, 'site_name'), getMeta(db, 'site_time_zone')]).toEqual(['hq', 'UTC']);
      await admin.query("UPDATE sites SET name = 'Head office', time_zone = 'Asia/Shanghai' WHERE code = 'hq'");
      await syncNow();
      expect([getMeta(db, 'site_name'), getMeta(db, 'site_time_zone')]).toEqual(['Head office', 'Asia/Shanghai']);
      await admin.query("UPDATE sites SET name = 'hq', time_zone = 'UTC' WHERE code = 'hq'");
      const noChange = await syncNow();
      expect(noChange).toMatchObject({ kind: 'incremental', templatesRemoved: 0, employeesRemoved: 0 });
    });

    it('incremental: a new employee with templates, a template added and one deleted, a rename, a new PIN', async () => {
      const before = getMeta(db, 'roster_watermark');
      const id = await addEmployee(admin, `N-${engine}`, 'hq');
      await addTemplate(admin, id, randomDescriptor(random));
      await addTemplate(admin, id, randomDescriptor(random));
      const h1 = await idOf(1);
      await addTemplate(admin, h1, randomDescriptor(random));
      await admin.query('DELETE FROM face_templates WHERE id = (SELECT min(id) FROM face_templates WHERE employee_id = $1)', [await idOf(2)]);
      await admin.query("UPDATE employees SET full_name = 'Renamed Person', pin_hash = 'scrypt$test' WHERE employee_no = $1", [no(3)]);
      const result = await syncNow();
      expect(result.kind).toBe('incremental');
      expect(result.changesRead).toBeGreaterThanOrEqual(6);
      expect(result.templatesRemoved).toBe(1);
      expect(BigInt(result.watermark)).toBeGreaterThan(BigInt(before ?? '0'));
      await check();
    });

    it('deactivation removes the person and their vectors; activation brings them back', async () => {
      await admin.query('UPDATE employees SET active = false WHERE employee_no = $1', [no(4)]);
      const off = await syncNow();
      expect(off).toMatchObject({ kind: 'incremental', employeesRemoved: 1, templatesRemoved: 2 });
      await check();
      await admin.query('UPDATE employees SET active = true WHERE employee_no = $1', [no(4)]);
      const on = await syncNow();
      expect(on.templatesUpserted).toBe(2);
      await check();
    });

    it('erasure removes the person from the kiosk, vectors, PIN hash and queued audit images; central keeps the row for payroll', async () => {
      await admin.query("UPDATE employees SET pin_hash = 'scrypt$h5' WHERE employee_no = $1", [no(5)]);
      await syncNow();
      // A punch of theirs made here with an audit image still queued (the kiosk was offline when IT erased them).
      const { id } = db.prepare('SELECT id FROM employees WHERE employee_no = ?').get(no(5)) as { id: number };
      db.prepare("INSERT INTO punches (id, employee_id, direction, punched_at, method, match_distance) VALUES ('p-erased', ?, 'in', '2026-01-05T08:00:00.000Z', 'face', 0.3)").run(id);
      db.prepare("INSERT INTO punch_snapshots (punch_id, jpeg) VALUES ('p-erased', x'ffd8ffe0ffd9')").run();
      const { eraseEmployee } = await import('../../electron/roster/employee-admin.js');
      await eraseEmployee(admin, no(5));
      const result = await syncNow();
      expect(result).toMatchObject({ templatesRemoved: 2, employeesRemoved: 1 });
      await check();
      expect(db.prepare('SELECT 1 FROM employees WHERE employee_no = ?').get(no(5))).toBeUndefined();
      // The image goes; the punch (a payroll record) stays.
      expect(db.prepare("SELECT count(*) AS n FROM punch_snapshots WHERE punch_id = 'p-erased'").get()).toEqual({ n: 0 });
      expect(db.prepare("SELECT count(*) AS n FROM punches WHERE id = 'p-erased'").get()).toEqual({ n: 1 });
    });

    it('a person moved to a site the kiosk does not serve is dropped; serving that site brings its people in', async () => {
      await admin.query("UPDATE employees SET site = 'branch' WHERE employee_no = $1", [no(0)]);
      const moved = await syncNow();
      expect(moved.employeesRemoved).toBe(1);
      await check();
      await admin.query("INSERT INTO kiosk_sites (kiosk_id, site) VALUES ($1, 'branch')", [kiosk.id]);
      const wider = await syncNow();
      expect(wider).toMatchObject({ kind: 'snapshot', snapshotReason: 'the sites this kiosk serves changed' });
      await check();
      expect(db.prepare("SELECT count(*) AS n FROM employees WHERE site = 'branch'").get()).toEqual({
        n: (await admin.query("SELECT 1 FROM employees WHERE site = 'branch' AND active")).rowCount,
      });
      await admin.query("DELETE FROM kiosk_sites WHERE kiosk_id = $1", [kiosk.id]);
      await syncNow();
      await check();
    });

    it('a feed pruned past the watermark, or a backlog over the limit, makes the next sync a snapshot', async () => {
      const id = await addEmployee(admin, `P-${engine}`, 'hq');
      await addTemplate(admin, id, randomDescriptor(random));
      await admin.query("SELECT prune_roster_changes('0 seconds')");
      const pruned = await syncNow();
      expect(pruned).toMatchObject({ kind: 'snapshot', snapshotReason: 'the change feed was pruned past this kiosk' });
      await check();

      const small = new RosterSync(db, index, { kioskId: kiosk.id, maxIncrementalChanges: 3, pageSize: 2 });
      for (let i = 0; i < 4; i++) await addTemplate(admin, id, randomDescriptor(random));
      const behind = await syncNow(small);
      expect(behind).toMatchObject({ kind: 'snapshot', snapshotReason: 'more than 3 changes behind' });
      await check();
    });

    it('a cache built by another model version is rebuilt from a snapshot', async () => {
      setMeta(db, 'roster_model_id', 'faceapi-resnet128@0');
      const result = await syncNow();
      expect(result.kind).toBe('snapshot');
      expect(result.snapshotReason).toMatch(/model faceapi-resnet128@0/);
      await check();
    });

    it('a change for an employee the cache lacks fetches that employee instead of storing an orphan template', async () => {
      const h1 = await idOf(1);
      // A damaged cache: the employee row and the vectors are gone locally (the index follows the table).
      db.prepare('DELETE FROM employees WHERE id = ?').run(h1);
      index.remove((await admin.query<{ id: number }>('SELECT id::int AS id FROM face_templates WHERE employee_id = $1', [h1])).rows.map((r) => r.id));
      await addTemplate(admin, h1, randomDescriptor(random));
      await syncNow();
      await check();
    });

    it('a descriptor of the wrong length or with NaN is refused by the cache search with a clear error', () => {
      for (const bad of [new Float32Array(127), Float32Array.from({ length: 128 }, (_, i) => (i === 5 ? Number.NaN : 0.1))]) {
        let caught: unknown;
        try {
          index.search(bad, 5);
        } catch (e) {
          caught = e;
        }
        expect(isClockfaceError(caught) && caught.code).toBe('INVALID_DESCRIPTOR');
      }
    });
  });

  it("central last punches: a clock-in at another door turns this kiosk's next punch into an OUT", async () => {
    const other = await registerKiosk(admin, central.url, { name: 'door-2', site: 'hq' });
    const h1 = (await admin.query<{ id: number }>("SELECT id::int AS id FROM employees WHERE employee_no = 'H1'")).rows[0]!.id;
    const dir = mkdtempSync(join(tmpdir(), 'clockface-lastpunch-'));
    const db = openKioskDb(join(dir, 'kiosk.db'));
    try {
      await admin.query(
        `INSERT INTO punches (id, employee_id, kiosk_id, direction, punched_at, method, match_distance)
         VALUES (gen_random_uuid(), $1, $2, 'in', now() - interval '2 hours', 'face', 0.3)`,
        [h1, other.id],
      );
      const client = await connectAsKiosk(kiosk.settings);
      try {
        expect(await syncCentralLastPunches(db, client, kiosk.id)).toBe(1);
        expect(lastPunchOf(db, h1)?.direction).toBe('in');
        // Nothing new: the cursor holds, the row stays.
        expect(await syncCentralLastPunches(db, client, kiosk.id)).toBe(0);
        if (central.kind === 'server') {
          // A kiosk asking for another kiosk's sites is refused.
          await expect(client.query('SELECT * FROM kiosk_last_punches($1, now())', [other.id])).rejects.toMatchObject({ code: '42501' });
        }
      } finally {
        await client.end();
      }
    } finally {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a revoked kiosk gets a clear error and its cache is left exactly as it was', async () => {
    const doomed = await registerKiosk(admin, central.url, { name: 'door-revoked', site: 'hq' });
    const dir = mkdtempSync(join(tmpdir(), 'clockface-revoked-'));
    const db = openKioskDb(join(dir, 'kiosk.db'));
    const index = openVectorIndex(db, 'sqlite-vec');
    const sync = new RosterSync(db, index, { kioskId: doomed.id });
    try {
      let client = await connectAsKiosk(doomed.settings);
      await sync.sync(client);
      await client.end();
      const before = { counts: sync.counts(), watermark: getMeta(db, 'roster_watermark') };
      await addTemplate(admin, (await admin.query<{ id: number }>("SELECT id::int AS id FROM employees WHERE employee_no = 'H2'")).rows[0]!.id, randomDescriptor(random));
      await revokeKiosk(admin, 'door-revoked');
      let caught: unknown;
      try {
        client = await connectAsKiosk(doomed.settings);
        try {
          await sync.sync(client);
        } finally {
          await client.end();
        }
      } catch (e) {
        caught = e;
      }
      // A real server refuses the login; the embedded central (which ignores logins) refuses the revoked kiosk.
      expect(isClockfaceError(caught) && caught.code).toBe(central.kind === 'server' ? 'CENTRAL_AUTH_FAILED' : 'KIOSK_REFUSED');
      expect({ counts: sync.counts(), watermark: getMeta(db, 'roster_watermark') }).toEqual(before);
      expect(index.count()).toBe(before.counts.templates);
    } finally {
      index.close();
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
