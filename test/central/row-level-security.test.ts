import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { connectAsKiosk } from '../../electron/central/kiosk-connection.js';
import { asKiosk } from '../support/kiosk-session.js';
import { registerKiosk, revokeKiosk, type RegisteredKiosk } from '../../electron/central/kiosk-registry.js';
import { centralFactories, startMigrated, type TestCentral } from '../support/centrals.js';
import { addEmployee, addSite, addTemplate, randomDescriptor, seededRandom } from '../support/roster-fixtures.js';

const PERMISSION_DENIED = /permission denied for table/;
const RLS_VIOLATION = /new row violates row-level security policy for table "punches"/;

describe.each(centralFactories())('kiosk permissions on $label', (factory) => {
  let central: TestCentral;
  let admin: pg.Client;
  let kioskA: RegisteredKiosk;
  let kioskB: RegisteredKiosk;
  let northEmployee: number;
  let southEmployee: number;
  let punchOfB: string;
  const random = seededRandom(11);

  const punch = (client: pg.ClientBase, kioskId: number, employeeId: number, id: string = randomUUID()) =>
    client.query(
      `INSERT INTO punches (id, employee_id, kiosk_id, direction, punched_at, method, match_distance)
       VALUES ($1, $2, $3, 'in', now(), 'face', 0.31)`,
      [id, employeeId, kioskId],
    );

  const asA = <T>(body: (c: pg.ClientBase) => Promise<T>) => asKiosk(central, kioskA, body);

  beforeAll(async () => {
    central = await startMigrated(factory);
    admin = await central.connect();
    await addSite(admin, 'north');
    await addSite(admin, 'south');
    northEmployee = await addEmployee(admin, 'N-1', 'north');
    southEmployee = await addEmployee(admin, 'S-1', 'south');
    await addTemplate(admin, northEmployee, randomDescriptor(random));
    await addTemplate(admin, southEmployee, randomDescriptor(random));
    kioskA = await registerKiosk(admin, central.url, { name: 'north-door', site: 'north' });
    kioskB = await registerKiosk(admin, central.url, { name: 'south-door', site: 'south' });
    punchOfB = randomUUID();
    await punch(admin, kioskB.id, southEmployee, punchOfB);
    await admin.query("INSERT INTO punch_snapshots (punch_id, jpeg) VALUES ($1, '\\xffd8ffe0ffd9')", [punchOfB]);
  });
  afterAll(async () => {
    await admin.end();
    await central.close();
  });

  it('acts as its own role', async () => {
    const rows = await asA(async (c) => (await c.query('SELECT current_user AS who, clockface_current_kiosk_id()::int AS kiosk')).rows);
    expect(rows[0]).toEqual({ who: kioskA.settings.roleName, kiosk: kioskA.id });
  });

  it('inserts a punch as itself, and is refused one as kiosk B', async () => {
    await asA((c) => punch(c, kioskA.id, northEmployee));
    await expect(asA((c) => punch(c, kioskB.id, northEmployee))).rejects.toThrow(RLS_VIOLATION);
  });

  it('uploads idempotently: the same punch id twice stores one row', async () => {
    const id = randomUUID();
    const insert = `INSERT INTO punches (id, employee_id, kiosk_id, direction, punched_at, method, match_distance)
                    VALUES ($1, $2, $3, 'out', now(), 'face', 0.29) ON CONFLICT (id) DO NOTHING`;
    const first = await asA((c) => c.query(insert, [id, northEmployee, kioskA.id]));
    const again = await asA((c) => c.query(insert, [id, northEmployee, kioskA.id]));
    expect([first.rowCount, again.rowCount]).toEqual([1, 0]);
    const { rows } = await admin.query('SELECT count(*)::int AS n FROM punches WHERE id = $1', [id]);
    expect(rows[0]).toEqual({ n: 1 });
  });

  it('sees its own punches and none of kiosk B', async () => {
    const rows = await asA(async (c) => (await c.query<{ kiosk_id: number }>('SELECT kiosk_id::int FROM punches')).rows);
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => r.kiosk_id === kioskA.id)).toBe(true);
    const other = await asA((c) => c.query('SELECT 1 FROM punches WHERE id = $1', [punchOfB]));
    expect(other.rowCount).toBe(0);
    const all = await admin.query('SELECT count(*)::int AS n FROM punches WHERE kiosk_id = $1', [kioskB.id]);
    expect(all.rows[0]).toEqual({ n: 1 }); // B's punch exists; A just cannot see it
  });

  it('cannot change employees, templates, sites, punches or other kiosks', async () => {
    const refused = [
      ["UPDATE employees SET full_name = 'X' WHERE id = $1", [northEmployee]],
      ["INSERT INTO employees (employee_no, full_name, site) VALUES ('Z', 'Z', 'north')", []],
      ['DELETE FROM employees', []],
      ['DELETE FROM face_templates', []],
      ["INSERT INTO sites (code, name) VALUES ('x', 'x')", []],
      ['DELETE FROM punches', []],
      ["UPDATE punches SET direction = 'out'", []],
      ["UPDATE kiosks SET site = 'south'", []],
      ['DELETE FROM roster_changes', []],
      ['INSERT INTO kiosk_sites (kiosk_id, site) VALUES ($1, $2)', [kioskA.id, 'south']],
    ] as const;
    for (const [sql, params] of refused) {
      await expect(asA((c) => c.query(sql, [...params])), sql).rejects.toThrow(PERMISSION_DENIED);
    }
    // Not even its own row: its heartbeat is central's function, which writes only central's clock and its version.
    await expect(asA((c) => c.query("UPDATE kiosks SET last_seen_at = now(), app_version = 'test'")), 'own row').rejects.toThrow(PERMISSION_DENIED);
    await asA((c) => c.query("SELECT kiosk_heartbeat($1, 'test')", [kioskA.id]));
    const { rows } = await admin.query<{ name: string }>('SELECT name FROM kiosks WHERE app_version IS NOT NULL');
    expect(rows).toEqual([{ name: 'north-door' }]);
  });

  it('cannot read any snapshot, not even of its own punches; writes one only for its own punch', async () => {
    await expect(asA((c) => c.query('SELECT * FROM punch_snapshots'))).rejects.toThrow(PERMISSION_DENIED);
    const own = randomUUID();
    await asA(async (c) => {
      await punch(c, kioskA.id, northEmployee, own);
      await c.query("INSERT INTO punch_snapshots (punch_id, jpeg) VALUES ($1, '\\xffd8ffe0ffd9')", [own]);
    });
    await expect(
      asA((c) => c.query("INSERT INTO punch_snapshots (punch_id, jpeg) VALUES ($1, '\\xffd8ffe0ffd9')", [punchOfB])),
    ).rejects.toThrow(/row-level security policy for table "punch_snapshots"/);
  });

  it('reads only the roster, templates and feed of the sites it serves', async () => {
    const seen = await asA(async (c) => ({
      employees: (await c.query('SELECT employee_no FROM employees')).rows,
      templates: (await c.query<{ e: number }>('SELECT employee_id::int AS e FROM face_templates')).rows,
      feed: (await c.query('SELECT DISTINCT site FROM roster_changes')).rows,
      kiosks: (await c.query('SELECT name FROM kiosks')).rows,
    }));
    expect(seen).toEqual({
      employees: [{ employee_no: 'N-1' }],
      templates: [{ e: northEmployee }],
      feed: [{ site: 'north' }],
      kiosks: [{ name: 'north-door' }],
    });
  });

  it('serves a further site once IT adds it, and loses it when removed', async () => {
    const employeeNos = () =>
      asA(async (c) => (await c.query('SELECT employee_no FROM employees ORDER BY employee_no')).rows);
    await admin.query("INSERT INTO kiosk_sites (kiosk_id, site) VALUES ($1, 'south')", [kioskA.id]);
    expect(await employeeNos()).toEqual([{ employee_no: 'N-1' }, { employee_no: 'S-1' }]);
    await admin.query('DELETE FROM kiosk_sites WHERE kiosk_id = $1', [kioskA.id]);
    expect(await employeeNos()).toEqual([{ employee_no: 'N-1' }]);
  });

  it('keeps no clear-text kiosk secret on central', async () => {
    const password = decodeURIComponent(new URL(kioskA.settings.url).password);
    expect(password.length).toBeGreaterThanOrEqual(32);
    const { rows } = await admin.query(
      `SELECT count(*)::int AS n FROM kiosks k WHERE row_to_json(k)::text LIKE '%' || $1 || '%'`,
      [password],
    );
    expect(rows[0]).toEqual({ n: 0 });
    if (factory.kind === 'server') {
      const { rows: auth } = await admin.query<{ rolpassword: string }>(
        'SELECT rolpassword FROM pg_authid WHERE rolname = $1',
        [kioskA.settings.roleName],
      );
      expect(auth[0]?.rolpassword).toMatch(/^SCRAM-SHA-256\$4096:/);
      expect(auth[0]?.rolpassword).not.toContain(password);
    }
  });

  if (factory.kind === 'server') {
    it('logs in as the kiosk role itself, and not with a wrong password', async () => {
      const rows = await asA(async (c) => (await c.query('SELECT session_user AS login')).rows);
      expect(rows[0]).toEqual({ login: kioskA.settings.roleName });
      const wrong = new URL(kioskA.settings.url);
      wrong.password = 'not-the-password';
      await expect(connectAsKiosk({ ...kioskA.settings, url: wrong.toString() })).rejects.toMatchObject({
        code: 'CENTRAL_AUTH_FAILED',
      });
    });

    it('a revoked kiosk loses its open session and cannot log in again', async () => {
      const asB = await connectAsKiosk(kioskB.settings);
      await revokeKiosk(admin, 'south-door');
      await expect(asB.query('SELECT 1')).rejects.toThrow();
      await asB.end().catch(() => undefined);
      await expect(connectAsKiosk(kioskB.settings)).rejects.toMatchObject({ code: 'CENTRAL_AUTH_FAILED' });
    });
  } else {
    it('a revoked kiosk is no one to the policies (the embedded central cannot refuse its login)', async () => {
      await revokeKiosk(admin, 'south-door');
      const seen = await asKiosk(central, kioskB, async (c) => (await c.query('SELECT count(*)::int AS n FROM employees')).rows);
      expect(seen).toEqual([{ n: 0 }]);
      await expect(asKiosk(central, kioskB, (c) => punch(c, kioskB.id, southEmployee))).rejects.toThrow(RLS_VIOLATION);
    });
  }
});
