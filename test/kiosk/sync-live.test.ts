import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectAsKiosk } from '../../electron/central/kiosk-connection.js';
import { registerKiosk, type RegisteredKiosk } from '../../electron/central/kiosk-registry.js';
import { KioskCore } from '../../electron/kiosk/kiosk-core.js';
import { openKioskDb, type KioskDatabase } from '../../electron/kiosk/store/kiosk-db.js';
import { writeKioskSettings } from '../../electron/kiosk/kiosk-settings.js';
import { RosterFollower } from '../../electron/kiosk/roster-follower.js';
import { RosterSync } from '../../electron/kiosk/roster-sync.js';
import { openVectorIndex, type VectorIndex } from '../../electron/kiosk/vector-index/index.js';
import { centralFactories, serverFactories, startMigrated, type TestCentral } from '../support/centrals.js';
import { expectCacheEquals, expectedFor, syncUntilCaughtUp } from '../support/kiosk-cache.js';
import { addEmployee, addSite, addTemplate, randomDescriptor, seededRandom } from '../support/roster-fixtures.js';
import { sqliteEngines } from '../support/vector-engines.js';
import { sleep, waitFor } from '../support/waiting.js';

// Concurrent open transactions need the real server (the embedded central runs one transaction at a time).
describe.each(serverFactories())('kiosk sync under concurrent central writers on $label', (factory) => {
  let central: TestCentral;
  let admin: pg.Client;
  let writers: pg.Client[];
  let kiosk: RegisteredKiosk;

  beforeAll(async () => {
    central = await startMigrated(factory);
    admin = await central.connect();
    await addSite(admin, 'north');
    kiosk = await registerKiosk(admin, central.url, { name: 'door-n', site: 'north' });
    writers = await Promise.all([1, 2, 3, 4].map(() => central.connect()));
  });
  afterAll(async () => {
    await Promise.all(writers.map((w) => w.end()));
    await admin.end();
    await central.close();
  });

  describe.each(sqliteEngines())('into %s', (engine) => {
    const dir = mkdtempSync(join(tmpdir(), `clockface-live-${engine}-`));
    let db: KioskDatabase;
    let index: VectorIndex;
    let sync: RosterSync;

    beforeAll(async () => {
      db = openKioskDb(join(dir, 'kiosk.db'));
      index = openVectorIndex(db, engine);
      sync = new RosterSync(db, index, { kioskId: kiosk.id });
      await syncUntilCaughtUp(admin, kiosk, sync);
    });
    afterAll(() => {
      index.close();
      db.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('a template committed late by an older transaction reaches the kiosk; nothing is skipped', async () => {
      const [early, late] = writers as [pg.Client, pg.Client];
      const slow = await addEmployee(admin, `SLOW-${engine}`, 'north');
      const fast = await addEmployee(admin, `FAST-${engine}`, 'north');
      await syncUntilCaughtUp(admin, kiosk, sync);
      const random = seededRandom(engine === 'sqlite-vss' ? 7 : 8);
      await early.query('BEGIN');
      const slowTemplate = await addTemplate(early, slow, randomDescriptor(random)); // lower id, commits last
      await late.query('BEGIN');
      const fastTemplate = await addTemplate(late, fast, randomDescriptor(random));
      await late.query('COMMIT');
      const client = await connectAsKiosk(kiosk.settings);
      try {
        await sync.sync(client);
        const has = (id: number) => db.prepare('SELECT 1 FROM templates WHERE id = ?').get(id) !== undefined;
        // The older transaction is still open: the feed holds both back rather than let the watermark pass it.
        expect(has(slowTemplate)).toBe(false);
        await early.query('COMMIT');
      } finally {
        await client.end();
      }
      await syncUntilCaughtUp(admin, kiosk, sync);
      expectCacheEquals(db, index, await expectedFor(admin, kiosk.id));
      expect(slowTemplate).toBeLessThan(fastTemplate);
    });

    it('4 writers × 25 transactions (15% rolled back) while the kiosk syncs continuously: the cache equals central', async () => {
      const random = seededRandom(engine === 'sqlite-vss' ? 11 : 12);
      let writing = true;
      let syncs = 0;
      let incrementalWithChanges = 0;
      const following = (async () => {
        const client = await connectAsKiosk(kiosk.settings);
        try {
          while (writing) {
            const r = await sync.sync(client);
            syncs++;
            if (r.kind === 'incremental' && r.changesRead > 0) incrementalWithChanges++;
            await sleep(random() * 20);
          }
        } finally {
          await client.end();
        }
      })();
      await Promise.all(
        writers.map(async (w, wi) => {
          for (let t = 0; t < 25; t++) {
            await w.query('BEGIN');
            const id = await addEmployee(w, `${engine}-W${wi}-T${t}`, 'north');
            for (let k = 0; k < 1 + Math.floor(random() * 3); k++) await addTemplate(w, id, randomDescriptor(random));
            await sleep(random() * 5); // keep the transaction open so that commits interleave
            const { rows } = await w.query<{ id: number }>(
              "SELECT t.id::int AS id FROM face_templates t JOIN employees e ON e.id = t.employee_id WHERE e.site = 'north' ORDER BY random() LIMIT 1",
            );
            if (rows[0] && random() < 0.3) await w.query('DELETE FROM face_templates WHERE id = $1', [rows[0].id]);
            if (random() < 0.2) await w.query('UPDATE employees SET active = false WHERE id = $1', [id]);
            if (random() < 0.15) await w.query('ROLLBACK'); // never delivered
            else await w.query('COMMIT');
          }
        }),
      );
      writing = false;
      await following;
      await syncUntilCaughtUp(admin, kiosk, sync);
      expectCacheEquals(db, index, await expectedFor(admin, kiosk.id));
      expect(syncs).toBeGreaterThan(5);
      expect(incrementalWithChanges).toBeGreaterThan(1); // the cache followed the feed, not one final snapshot
    });
  });
});

describe.each(centralFactories())('RosterFollower on $label', (factory) => {
  let central: TestCentral;
  let admin: pg.Client;
  let core: KioskCore;
  let follower: RosterFollower;
  const dir = mkdtempSync(join(tmpdir(), 'clockface-follow-'));
  const random = seededRandom(3);
  let employeeId: number;

  beforeAll(async () => {
    central = await startMigrated(factory);
    admin = await central.connect();
    await addSite(admin, 'hq');
    employeeId = await addEmployee(admin, 'F-1', 'hq');
    const kiosk = await registerKiosk(admin, central.url, { name: 'door-f', site: 'hq' });
    writeKioskSettings(dir, {
      ...kiosk.settings,
      kioskId: kiosk.id,
      engine: 'sqlite-vec',
      centralFallback: true,
      pollSeconds: 30,
      uploadBatchSize: 500,
      policy: {},
    });
    core = KioskCore.open(dir);
    follower = new RosterFollower({
      sync: async () => (await core.syncRoster(2_000)).caughtUp,
      listen: (events) => core.listenForRoster(events),
      // The real server must deliver by notification: its poll is far beyond the test's patience. The embedded
      // central does not pass notifications between connections, so there the poll is what delivers.
      pollMs: central.kind === 'server' ? 600_000 : 300,
      retryMs: 200,
    });
    follower.start();
    await waitFor('the first sync', () => follower.completed > 0 && core.status().lastSyncAt !== null);
  });
  afterAll(async () => {
    await follower.stop();
    core.close();
    await admin.end();
    await central.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const cached = (templateId: number) => core.db.prepare('SELECT 1 FROM templates WHERE id = ?').get(templateId) !== undefined;

  it('a central commit reaches the kiosk cache without being asked (notification on a server, polling embedded)', async () => {
    if (central.kind === 'server') await waitFor('the listener', () => follower.listening);
    const id = await addTemplate(admin, employeeId, randomDescriptor(random));
    await waitFor(`template ${id} in the kiosk cache`, () => cached(id));
    expect(core.index.count()).toBe(core.status().templates);
  });

  // Only a server has separate backends to terminate.
  if (factory.kind === 'server') it('a lost listener connection is noticed and replaced; changes keep arriving', async () => {
    await waitFor('the listener', () => follower.listening);
    await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'clockface-kiosk:door-f'");
    await waitFor('the listener to go', () => !follower.listening, 5_000).catch(() => undefined);
    await waitFor('the listener to come back', () => follower.listening);
    const id = await addTemplate(admin, employeeId, randomDescriptor(random));
    await waitFor(`template ${id} in the kiosk cache`, () => cached(id));
  });
});

// A stand-in for a read replica: the same server through a URL whose sessions are read-only, so that any write on
// the roster connection would fail. (A real streaming replica is exercised by the fault tests.)
describe.each(serverFactories())('roster URL apart from the punch URL on $label', (factory) => {
  let central: TestCentral;
  let admin: pg.Client;
  const dir = mkdtempSync(join(tmpdir(), 'clockface-replica-'));

  beforeAll(async () => {
    central = await startMigrated(factory);
    admin = await central.connect();
    await addSite(admin, 'hq');
    const id = await addEmployee(admin, 'R-1', 'hq');
    await addTemplate(admin, id, randomDescriptor(seededRandom(21)));
  });
  afterAll(async () => {
    await admin.end();
    await central.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('syncs the roster over the read-only URL, writes punches and heartbeats to the primary, measures the clock offset', async () => {
    const kiosk = await registerKiosk(admin, central.url, { name: 'door-r', site: 'hq' });
    const rosterUrl = new URL(kiosk.settings.url);
    rosterUrl.searchParams.set('options', '-c default_transaction_read_only=on');
    writeKioskSettings(dir, {
      ...kiosk.settings,
      kioskId: kiosk.id,
      rosterUrl: rosterUrl.toString(),
      engine: 'sqlite-vec',
      centralFallback: true,
      pollSeconds: 30,
      uploadBatchSize: 500,
      policy: {},
    });
    const core = KioskCore.open(dir);
    try {
      const synced = await core.syncRoster(10_000);
      expect(synced).toMatchObject({ kind: 'snapshot', employees: 1, templates: 1 });
      // The roster connection really is read-only: a write there fails.
      const roster = await core.connectRoster();
      await expect(roster.query('UPDATE kiosks SET app_version = $1 WHERE id = $2', ['x', kiosk.id])).rejects.toThrow(/read-only/);
      await roster.end();
      const employeeId = (await admin.query<{ id: number }>("SELECT id::int AS id FROM employees WHERE employee_no = 'R-1'")).rows[0]!.id;
      core.recordPunch({ employeeId, direction: 'in', method: 'pin', matchDistance: null, at: new Date() });
      expect(await core.upload()).toBe(1);
      const status = core.status();
      expect(status.upload).toMatchObject({ connected: true, pending: 0 });
      // The heartbeat measured the kiosk clock against central's (a number, where it was null before any contact).
      expect(Number.isFinite(status.clockOffsetMs)).toBe(true);
      const seen = await admin.query<{ last_seen_at: Date | null }>('SELECT last_seen_at FROM kiosks WHERE id = $1', [kiosk.id]);
      expect(seen.rows[0]?.last_seen_at).toBeInstanceOf(Date);
    } finally {
      core.close();
    }
  });
});
