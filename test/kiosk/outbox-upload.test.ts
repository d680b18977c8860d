import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { connectAsKiosk } from '../../electron/central/kiosk-connection.js';
import { registerKiosk, type RegisteredKiosk } from '../../electron/central/kiosk-registry.js';
import { openKioskDb, type KioskDatabase } from '../../electron/kiosk/store/kiosk-db.js';
import { lastPunchOf, pendingCount, recordPunch } from '../../electron/kiosk/store/punch-store.js';
import { Uploader } from '../../electron/kiosk/uploader.js';
import { centralFactories, startMigrated, type TestCentral } from '../support/centrals.js';
import { addEmployee, addSite } from '../support/roster-fixtures.js';

/** A real refused connection: nothing listens on the discard port. */
const unreachable = async () => {
  const client = new pg.Client({ host: '127.0.0.1', port: 9, user: 'x', database: 'x', connectionTimeoutMillis: 2000 });
  await client.connect();
  return client;
};

describe.each(centralFactories())('punch outbox and uploader against $label', (factory) => {
  let central: TestCentral;
  let kiosk: RegisteredKiosk;
  let employeeIds: number[];
  let db: KioskDatabase;
  const dir = mkdtempSync(join(tmpdir(), 'clockface-outbox-'));
  let clock = new Date('2026-03-02T08:00:00Z');

  beforeAll(async () => {
    central = await startMigrated(factory);
    const admin = await central.connect();
    await addSite(admin, 'hq');
    employeeIds = [];
    for (let i = 0; i < 10; i++) employeeIds.push(await addEmployee(admin, `E${i}`, 'hq'));
    kiosk = await registerKiosk(admin, central.url, { name: 'door-1', site: 'hq' });
    await admin.end();
    db = openKioskDb(join(dir, 'kiosk.db'));
  });
  afterAll(async () => {
    db.close();
    await central.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const centralCount = async () => {
    const admin = await central.connect();
    const { rows } = await admin.query<{ n: number; distinct: number }>(
      'SELECT count(*)::int AS n, count(DISTINCT id)::int AS distinct FROM punches WHERE kiosk_id = $1',
      [kiosk.id],
    );
    await admin.end();
    return rows[0];
  };

  it('500 punches while central is unreachable: all confirmed locally, kept, retried with back-off', async () => {
    for (let i = 0; i < 500; i++) {
      const employeeId = employeeIds[i % employeeIds.length] ?? 0;
      const last = lastPunchOf(db, employeeId);
      recordPunch(db, {
        employeeId,
        direction: last?.direction === 'in' ? 'out' : 'in',
        method: 'face',
        matchDistance: 0.3,
        at: new Date(clock.getTime() + i * 1000),
      });
    }
    expect(pendingCount(db)).toBe(500);
    clock = new Date(clock.getTime() + 600_000);
    const uploader = new Uploader(db, { kioskId: kiosk.id, clock: { now: () => clock, monotonicNow: () => 0 }, random: () => 0.5 });
    expect(await uploader.drain(unreachable)).toBe(0);
    const status = uploader.getStatus();
    expect(status).toMatchObject({ connected: false, pending: 500 });
    expect(status.uploadError).toMatchObject({ code: 'CENTRAL_UNREACHABLE', message: expect.stringMatching(/ECONNREFUSED/) });
    const next = db.prepare('SELECT min(next_attempt_at) AS t, max(attempts) AS a FROM outbox').get() as { t: string; a: number };
    expect(next.a).toBe(1);
    expect(new Date(next.t).getTime()).toBeGreaterThan(clock.getTime()); // not hammered again at once
  });

  it('once central is back, exactly 500 rows arrive, none twice; a re-send after a lost acknowledgement adds none', async () => {
    clock = new Date(clock.getTime() + 10 * 60_000); // past the back-off
    const uploader = new Uploader(db, { kioskId: kiosk.id, batchSize: 120, clock: { now: () => clock, monotonicNow: () => 0 } });
    const stored = await uploader.drain(() => connectAsKiosk(kiosk.settings));
    expect(stored).toBe(500);
    expect(uploader.getStatus()).toMatchObject({ connected: true, pending: 0, uploadError: null });
    expect(await centralCount()).toEqual({ n: 500, distinct: 500 });

    // As if the kiosk died after central committed but before the outbox rows were deleted.
    db.prepare(
      "INSERT INTO outbox (punch_id, next_attempt_at) SELECT id, '2000-01-01T00:00:00.000Z' FROM punches ORDER BY punched_at LIMIT 150",
    ).run();
    expect(await uploader.drain(() => connectAsKiosk(kiosk.settings))).toBe(0);
    expect(pendingCount(db)).toBe(0);
    expect(await centralCount()).toEqual({ n: 500, distinct: 500 });
  });

  it('keeps punch times from the kiosk clock and stamps received_at from the server', async () => {
    const admin = await central.connect();
    const { rows } = await admin.query<{ first: Date; server_after: boolean }>(
      `SELECT min(punched_at) AS first, bool_and(received_at > punched_at) AS server_after
       FROM punches WHERE kiosk_id = $1`,
      [kiosk.id],
    );
    await admin.end();
    expect(rows[0]?.first.toISOString()).toBe('2026-03-02T08:00:00.000Z');
    expect(rows[0]?.server_after).toBe(true);
  });

  it('a punch central refuses (its employee deleted there by hand) does not hold back the rest; it stays queued with the reason', async () => {
    const admin = await central.connect();
    const doomed = await addEmployee(admin, 'GONE-1', 'hq');
    clock = new Date(clock.getTime() + 3_600_000);
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      // The refused punch sits in the middle of the batch.
      const employeeId = i === 2 ? doomed : (employeeIds[i] ?? 0);
      ids.push(recordPunch(db, { employeeId, direction: 'in', method: 'pin', matchDistance: null, at: new Date(clock.getTime() + i * 1000) }).id);
    }
    await admin.query('DELETE FROM employees WHERE id = $1', [doomed]);
    clock = new Date(clock.getTime() + 60_000);
    const uploader = new Uploader(db, { kioskId: kiosk.id, batchSize: 500, clock: { now: () => clock, monotonicNow: () => 0 } });
    expect(await uploader.drain(() => connectAsKiosk(kiosk.settings))).toBe(5);
    const { rows } = await admin.query<{ id: string }>('SELECT id::text FROM punches WHERE id = ANY($1::uuid[])', [ids]);
    expect(rows.map((r) => r.id).sort()).toEqual(ids.filter((_, i) => i !== 2).sort());
    const kept = db.prepare('SELECT punch_id, last_error, refused_at FROM outbox').all() as Array<{ punch_id: string; last_error: string; refused_at: string | null }>;
    expect(kept.map((k) => k.punch_id)).toEqual([ids[2]]);
    // The embedded central (no logins) refuses by the foreign key; a server already by the kiosk's punch rule.
    expect(kept[0]?.last_error).toMatch(factory.kind === 'server' ? /row-level security/ : /foreign key/);
    expect(kept[0]?.refused_at).toBe(clock.toISOString());
    expect(uploader.getStatus()).toMatchObject({ pending: 1, refused: 1 });
    await admin.end();
  });
});
