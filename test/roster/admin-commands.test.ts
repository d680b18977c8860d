import { performance } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import type { KioskConnectionSettings } from '../../electron/central/kiosk-registry.js';
import type { EmployeeDetails } from '../../electron/roster/employee-admin.js';
import { connectAsKiosk } from '../../electron/central/kiosk-connection.js';
import { sendHeartbeat } from '../../electron/kiosk/central/index.js';
import { describeClockOffset } from '../../shared/kiosk/clock-offset.js';
import { bbtPhoto, GROUP_DIR } from '../support/faces.js';
import { centralFactories, startMigrated, type TestCentral } from '../support/centrals.js';
import { addEmployee, addSite } from '../support/roster-fixtures.js';
import { runCli } from '../support/run-cli.js';

describe.each(centralFactories())('employee, enroll and kiosk commands on $label', (factory) => {
  let central: TestCentral;
  let admin: pg.Client;
  const cli = (args: string[]) => runCli(args, { CLOCKFACE_DATABASE_URL: central.url }, 180_000);

  beforeAll(async () => {
    central = await startMigrated(factory);
    admin = await central.connect();
    await addSite(admin, 'hq');
    await addEmployee(admin, 'A-1', 'hq', 'Amy');
    await addEmployee(admin, 'P-1', 'hq', 'Penny');
  });
  afterAll(async () => {
    await admin.end();
    await central.close();
  });

  it('enroll adds templates, skips a photo already enrolled, refuses bad photos and a colleague\'s face', async () => {
    const first = await cli(['enroll', 'A-1', bbtPhoto('amy', 1), bbtPhoto('amy', 2), '--json']);
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout).outcomes.map((o: { status: string }) => o.status)).toEqual(['added', 'added']);
    const again = await cli(['enroll', 'A-1', bbtPhoto('amy', 1), '--json']);
    expect(JSON.parse(again.stdout).outcomes[0].status).toBe('already-enrolled');
    await cli(['enroll', 'P-1', bbtPhoto('penny', 1)]);
    const refused = await cli(['enroll', 'A-1', `${GROUP_DIR}/bbt2.jpg`, bbtPhoto('penny', 2), '--json']);
    expect(refused.code).toBe(1);
    const codes = JSON.parse(refused.stdout).outcomes.map((o: { code?: string }) => o.code);
    expect(codes).toEqual(['MULTIPLE_FACES', 'DUPLICATE_FACE']);
    const unknown = await cli(['enroll', 'NOBODY', bbtPhoto('amy', 3)]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no employee NOBODY');
  });

  it('deactivate and activate: the feed carries each change; list hides inactive people by default', async () => {
    const feed = async () =>
      (
        await admin.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM roster_changes c JOIN employees e ON e.id = c.employee_id
           WHERE e.employee_no = 'P-1' AND c.entity = 'employee' AND c.op = 'upsert'`,
        )
      ).rows[0]?.n ?? 0;
    const before = await feed();
    expect((await cli(['employee', 'deactivate', 'P-1'])).code).toBe(0);
    expect(await feed()).toBe(before + 1);
    const listed = JSON.parse((await cli(['employee', 'list', '--json'])).stdout) as EmployeeDetails[];
    expect(listed.map((e) => e.employeeNo)).toEqual(['A-1']);
    const all = JSON.parse((await cli(['employee', 'list', '--all', '--json'])).stdout) as EmployeeDetails[];
    expect(all.map((e) => [e.employeeNo, e.active])).toEqual([['A-1', true], ['P-1', false]]);
    expect((await cli(['employee', 'activate', 'P-1'])).code).toBe(0);
    expect(await feed()).toBe(before + 2);
    const shown = JSON.parse((await cli(['employee', 'show', 'P-1', '--json'])).stdout) as EmployeeDetails;
    expect(shown).toMatchObject({ active: true, templates: 1 });
    const missing = await cli(['employee', 'deactivate', 'NOBODY']);
    expect(missing.code).toBe(1);
  });

  it('erase removes templates, PIN and snapshots, leaves punches, and tells kiosks through the feed', async () => {
    await admin.query("UPDATE employees SET pin_hash = 'scrypt$1$1$1$x$y' WHERE employee_no = 'A-1'");
    await admin.query("INSERT INTO kiosks (name, role_name, site) VALUES ('k-erase', 'clockface_kiosk_erase_test', 'hq')");
    const punchId = randomUUID();
    await admin.query(
      `INSERT INTO punches (id, employee_id, kiosk_id, direction, punched_at, method, match_distance)
       SELECT $1, e.id, k.id, 'in', now(), 'face', 0.3 FROM employees e, kiosks k
       WHERE e.employee_no = 'A-1' AND k.name = 'k-erase'`,
      [punchId],
    );
    await admin.query("INSERT INTO punch_snapshots (punch_id, jpeg) VALUES ($1, '\\xffd8ffe0ffd9')", [punchId]);
    const feedBefore = await admin.query<{ n: string }>('SELECT coalesce(max(seq), 0)::text AS n FROM roster_changes');

    const result = await cli(['employee', 'erase', 'A-1']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('2 face templates, 1 snapshots deleted, PIN cleared');

    const { rows } = await admin.query(
      `SELECT (SELECT count(*)::int FROM face_templates t WHERE t.employee_id = e.id) AS templates,
              e.pin_hash, e.erased_at IS NOT NULL AS erased,
              (SELECT count(*)::int FROM punches p WHERE p.employee_id = e.id) AS punches,
              (SELECT count(*)::int FROM punch_snapshots) AS snapshots
       FROM employees e WHERE e.employee_no = 'A-1'`,
    );
    expect(rows[0]).toEqual({ templates: 0, pin_hash: null, erased: true, punches: 1, snapshots: 0 });
    const tombstones = await admin.query(
      "SELECT entity, op FROM roster_changes WHERE seq > $1 AND entity = 'template' ORDER BY seq",
      [feedBefore.rows[0]?.n ?? '0'],
    );
    expect(tombstones.rows).toEqual([
      { entity: 'template', op: 'delete' },
      { entity: 'template', op: 'delete' },
    ]);
  });

  it('kiosk add prints its settings once, list shows it, revoke disables it', async () => {
    const added = await cli(['kiosk', 'add', 'lobby-1', '--site', 'hq', '--json']);
    expect(added.code, added.stderr).toBe(0);
    const settings = JSON.parse(added.stdout) as KioskConnectionSettings;
    expect(settings).toMatchObject({ kioskName: 'lobby-1', site: 'hq' });
    expect(new URL(settings.url).username).toBe(settings.roleName);
    const listed = await cli(['kiosk', 'list']);
    expect(listed.stdout).toMatch(/lobby-1\s+site hq\s+never seen.*\s+status offline$/m);
    // The kiosk's heartbeat (on the server as its own login) with its clock 1 h 30 min 20 s ahead: IT sees the drift.
    const skewMs = 90 * 60_000 + 20_000;
    const kioskId = Number((await admin.query<{ id: string }>("SELECT id::text AS id FROM kiosks WHERE name = 'lobby-1'")).rows[0]?.id);
    const asKiosk = factory.kind === 'server' ? await connectAsKiosk(settings) : admin;
    let offset: number;
    try {
      const sent = performance.now();
      offset = await sendHeartbeat(asKiosk, kioskId, { appVersion: '9.9.9', pending: 3, refused: 1 }, () => new Date(Date.now() + skewMs));
      const roundTripMs = performance.now() - sent;
      // Central reads this machine's clock, so the measured offset is the skew to within half the heartbeat's round
      // trip (it takes the midpoint) plus rounding: the bound comes from this run, not from a time limit.
      expect(Math.abs(offset - skewMs) <= roundTripMs / 2 + 1, `offset ${offset} ms for a skew of ${skewMs} ms (round trip ${roundTripMs} ms)`).toBe(true);
    } finally {
      if (asKiosk !== admin) await asKiosk.end();
    }
    // `kiosk list` shows exactly what the kiosk measured (the wording is unit-tested in shared/kiosk/clock-offset.test.ts).
    expect(describeClockOffset(offset)).toMatch(/ ahead$/);
    expect((await cli(['kiosk', 'list'])).stdout).toMatch(/lobby-1\s+site hq\s+last seen \S+\s+v9\.9\.9\s+clock /);
    expect((await cli(['kiosk', 'list'])).stdout).toContain(`clock ${describeClockOffset(offset)}`);
    // What waits on the kiosk, as its heartbeat said: IT sees punches central refused without walking to it.
    expect((await cli(['kiosk', 'list'])).stdout).toContain('3 punches waiting (1 refused by central)');
    const json = JSON.parse((await cli(['kiosk', 'list', '--json'])).stdout) as Array<{ name: string; clockOffsetMs: number | null; status: string[] }>;
    expect(json.find((k) => k.name === 'lobby-1')).toMatchObject({ clockOffsetMs: offset, status: ['ok'] });
    // A heartbeat with the kiosk's health (0130): the statuses the console's Kiosks page shows, judged in the same place.
    const health = { intervalSeconds: 30, oldestPendingAgeS: 1800, rosterWatermark: '42', rosterSyncAgeS: 5, templates: 12, vectorEngine: 'sqlite-vss', lastUploadError: 'CENTRAL_LIMIT' };
    const healthSession = factory.kind === 'server' ? await connectAsKiosk(settings) : admin;
    try {
      await sendHeartbeat(healthSession, kioskId, { appVersion: '9.9.9', pending: 3, refused: 1, health }, () => new Date());
    } finally {
      if (healthSession !== admin) await healthSession.end();
    }
    expect((await cli(['kiosk', 'list'])).stdout).toMatch(/lobby-1 .*12 template\(s\) on sqlite-vss\s+last upload error CENTRAL_LIMIT\s+status backlog$/m);
    const withHealth = JSON.parse((await cli(['kiosk', 'list', '--json'])).stdout) as Array<{ name: string }>;
    expect(withHealth.find((k) => k.name === 'lobby-1')).toMatchObject({
      status: ['backlog'],
      pendingPunches: 3,
      templatesCached: 12,
      vectorEngine: 'sqlite-vss',
      rosterWatermark: '42',
      lastUploadError: 'CENTRAL_LIMIT',
    });
    const duplicate = await cli(['kiosk', 'add', 'lobby-1', '--site', 'hq']);
    expect(duplicate.code).toBe(1);
    const noSite = await cli(['kiosk', 'add', 'lobby-2', '--site', 'mars']);
    expect(noSite.stderr).toContain('no site "mars"');
    if (factory.kind === 'server') {
      const kiosk = await connectAsKiosk(settings);
      await kiosk.end();
    }
    expect((await cli(['kiosk', 'revoke', 'lobby-1'])).code).toBe(0);
    expect((await cli(['kiosk', 'list'])).stdout).toMatch(/lobby-1\s+site hq\s+REVOKED.*\s+status revoked$/m);
    if (factory.kind === 'server') {
      await expect(connectAsKiosk(settings)).rejects.toMatchObject({ code: 'CENTRAL_AUTH_FAILED' });
    }
  });
});
