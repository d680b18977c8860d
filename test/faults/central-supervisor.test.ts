import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectCentral } from '../../electron/central/connect.js';
import { databaseRoles, type DatabaseRoles } from '../../electron/central/database-roles.js';
import { registerKiosk } from '../../electron/central/kiosk-registry.js';
import { scramSha256Verifier } from '../../electron/central/scram.js';
import { serverFactories, startMigrated, type TestCentral } from '../support/centrals.js';
import { recordTally } from '../support/fault-tally.js';
import { addEmployee, addSite, addTemplate, randomDescriptor, seededRandom } from '../support/roster-fixtures.js';

/**
 * What a supervisor login may do on central (issue 17, migration 0100), on a real server: the login an IT login (no
 * CREATEROLE) made with supervisor_register for site A only. It reads site A's employees (without PIN hashes),
 * punches, corrections, rules and audit rows; asks for and decides corrections of site A's people through the
 * functions, under the two-person rule when the site has it; and nothing else.
 *
 * Mutation check, by hand, as in central-roles.test.ts: CLOCKFACE_SUPERVISOR_MUTATION=<name> (see MUTATIONS) removes
 * one rule in this test's scratch database; the cases guarding it must then go red.
 */

const INSUFFICIENT_PRIVILEGE = '42501';
const KIND = 'supervisor login: reach beyond its sites';

interface World {
  roles: DatabaseRoles;
  itLogin: string;
  itUrl: string;
  supervisor: string;
  supervisorUrl: string;
  /** Raw punches: one of site A's employee, one of site B's. */
  punchA: string;
  punchB: string;
  /** A correction of site B's employee (IT asked for it). */
  correctionB: string;
}

type Expect = { refused: string } | 'no rows';

interface Rule {
  name: string;
  sql: (w: World) => [string, unknown[]?];
  expect: Expect;
}

const refused = { refused: INSUFFICIENT_PRIVILEGE };

const RULES: Rule[] = [
  { name: "read site B's employees", sql: () => ["SELECT id FROM employees WHERE site = 'b'"], expect: 'no rows' },
  { name: "read site B itself", sql: () => ["SELECT code FROM sites WHERE code = 'b'"], expect: 'no rows' },
  { name: 'read PIN hashes', sql: () => ['SELECT pin_hash FROM employees'], expect: refused },
  { name: 'read face templates', sql: () => ['SELECT id FROM face_templates'], expect: refused },
  { name: 'read audit snapshots', sql: () => ['SELECT punch_id FROM punch_snapshots'], expect: refused },
  { name: 'read the roster feed', sql: () => ['SELECT seq FROM roster_changes'], expect: refused },
  { name: 'read central settings', sql: () => ['SELECT * FROM central_settings'], expect: refused },
  { name: "read kiosks' logins", sql: () => ['SELECT role_name FROM kiosks'], expect: refused },
  { name: "read site B's punches", sql: (w) => ['SELECT id FROM punches WHERE id = $1', [w.punchB]], expect: 'no rows' },
  { name: "read site B's corrections", sql: () => ["SELECT c.id FROM punch_corrections c WHERE c.reason = 'site B fix'"], expect: 'no rows' },
  { name: "read site B's audit rows", sql: () => ["SELECT id FROM audit_log WHERE site = 'b'"], expect: 'no rows' },
  { name: "read other supervisors' sites", sql: (w) => ['SELECT site FROM supervisor_sites WHERE role_name <> $1', [w.supervisor]], expect: 'no rows' },
  { name: 'write a correction row directly', sql: (w) => ["INSERT INTO punch_corrections (kind, employee_id, punch_id, reason) SELECT 'void', employee_id, id, 'x' FROM punches WHERE id = $1", [w.punchA]], expect: refused },
  { name: 'write a decision row directly', sql: () => ['INSERT INTO correction_decisions (correction_id, approved) SELECT id, true FROM punch_corrections LIMIT 1'], expect: refused },
  { name: 'rewrite a raw punch', sql: (w) => ["UPDATE punches SET direction = 'out' WHERE id = $1", [w.punchA]], expect: refused },
  { name: 'delete a raw punch', sql: (w) => ['DELETE FROM punches WHERE id = $1', [w.punchA]], expect: refused },
  { name: 'rewrite the audit log', sql: () => ["UPDATE audit_log SET login = 'someone'"], expect: refused },
  { name: 'delete the audit log', sql: () => ['DELETE FROM audit_log'], expect: refused },
  { name: 'write the audit log', sql: () => ["INSERT INTO audit_log (kind) VALUES ('forged')"], expect: refused },
  { name: 'deactivate an employee', sql: () => ["UPDATE employees SET active = false WHERE employee_no = 'A-1'"], expect: refused },
  { name: "add a punch for site B's employee", sql: () => ["SELECT * FROM correction_add('B-1', 'out', now() - interval '1 hour', 'forgot')"], expect: refused },
  { name: 'add a punch for an employee that does not exist (same answer)', sql: () => ["SELECT * FROM correction_add('Z-9', 'out', now() - interval '1 hour', 'forgot')"], expect: refused },
  { name: "learn whether site B's employee exists from a bad time (same answer)", sql: () => ["SELECT * FROM correction_add('B-1', 'out', NULL, 'forgot')"], expect: refused },
  { name: "void site B's punch", sql: (w) => ["SELECT * FROM correction_void($1, 'not mine')", [w.punchB]], expect: refused },
  { name: "move site B's punch", sql: (w) => ["SELECT * FROM correction_move($1, now() - interval '2 hours', 'not mine')", [w.punchB]], expect: refused },
  { name: "decide site B's correction", sql: (w) => ['SELECT correction_decide($1, false)', [w.correctionB]], expect: refused },
  { name: 'change the rules', sql: () => ["SELECT site_rules_set('a', '{}'::jsonb, false)"], expect: refused },
  { name: 'change a schedule', sql: () => ["SELECT site_schedule_set('a', '{}'::jsonb)"], expect: refused },
  { name: 'register a supervisor', sql: () => ["SELECT supervisor_register('eve.a', 'SCRAM-SHA-256$4096:AA==$BB==:CC==', ARRAY['b'])"], expect: refused },
  { name: 'give itself site B', sql: (w) => ["SELECT supervisor_set_sites($1, ARRAY['a', 'b'])", [w.supervisor]], expect: refused },
  { name: 'join the admin group', sql: (w) => [`GRANT "${w.roles.admin}" TO CURRENT_USER`], expect: refused },
  { name: 'join the kiosk group', sql: (w) => [`GRANT "${w.roles.kiosk}" TO CURRENT_USER`], expect: refused },
  { name: 'create a table', sql: () => ['CREATE TABLE public.mine (x int)'], expect: refused },
  { name: 'create a temp table', sql: () => ['CREATE TEMP TABLE mine (x int)'], expect: refused },
];

/** Removes one rule in this test's database, for the by-hand check that the cases can fail. */
const MUTATIONS: Record<string, (w: World) => string[]> = {
  'all-employees': (w) => [`CREATE POLICY mutation_all ON employees FOR SELECT TO "${w.roles.supervisor}" USING (true)`],
  'pin-hashes': (w) => [`GRANT SELECT (pin_hash) ON employees TO "${w.roles.supervisor}"`],
  'templates': (w) => [`GRANT SELECT ON face_templates TO "${w.roles.supervisor}"`, `CREATE POLICY mutation_all ON face_templates FOR SELECT TO "${w.roles.supervisor}" USING (true)`],
  'all-audit': (w) => [`CREATE POLICY mutation_all ON audit_log FOR SELECT TO "${w.roles.supervisor}" USING (true)`],
  'corrects-anyone': () => [
    `CREATE OR REPLACE FUNCTION clockface_correctable_site(p_employee_id bigint) RETURNS text LANGUAGE sql STABLE
     SET search_path = pg_catalog, public, pg_temp AS $$ SELECT site FROM employees WHERE id = p_employee_id $$`,
  ],
  'audit-writable': (w) => [`GRANT UPDATE, DELETE ON audit_log TO "${w.roles.supervisor}", "${w.roles.admin}"`, `CREATE POLICY mutation_all ON audit_log TO "${w.roles.supervisor}", "${w.roles.admin}" USING (true)`],
  'one-person': () => [
    `CREATE OR REPLACE FUNCTION correction_decide(p_correction_id bigint, p_approve boolean, p_reason text DEFAULT NULL) RETURNS text
     LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
     BEGIN INSERT INTO correction_decisions (correction_id, approved, decided_by) VALUES (p_correction_id, p_approve, session_user);
     RETURN 'approved'; END $$`,
  ],
};

describe.each(serverFactories())('what a supervisor login may do on central ($label)', (factory) => {
  let central: TestCentral;
  let root: pg.Client;
  let it_: pg.Client;
  let sup: pg.Client;
  let w: World;
  const mutation = process.env['CLOCKFACE_SUPERVISOR_MUTATION'];
  let tried = 0;
  const loginUrl = (login: string, password: string): string => {
    const url = new URL(central.url);
    url.username = login;
    url.password = password;
    return url.toString();
  };

  beforeAll(async () => {
    central = await startMigrated(factory);
    root = await central.connect();
    await addSite(root, 'a');
    await addSite(root, 'b');
    const a1 = await addEmployee(root, 'A-1', 'a', 'Ann Ay');
    const b1 = await addEmployee(root, 'B-1', 'b', 'Bo Bee');
    await root.query("UPDATE employees SET pin_hash = 'scrypt$32768$8$1$AA==$AA=' WHERE employee_no = 'A-1'");
    await addTemplate(root, a1, randomDescriptor(seededRandom(7)));
    const roles = await databaseRoles(root);
    // IT as docs/security.md tells a database administrator to make it: no CREATEROLE.
    const itLogin = `clockface_it_${randomBytes(4).toString('hex')}`;
    const itPassword = randomBytes(12).toString('hex');
    await root.query(`CREATE ROLE "${itLogin}" LOGIN NOCREATEROLE NOCREATEDB PASSWORD '${itPassword}' IN ROLE "${roles.admin}"`);
    const itUrl = loginUrl(itLogin, itPassword);
    it_ = await connectCentral({ url: itUrl, embeddedDefault: false });
    const kiosk = await registerKiosk(it_, itUrl, { name: 'door-ab', site: 'a' });
    const punchA = randomUUID();
    const punchB = randomUUID();
    await root.query(
      `INSERT INTO punches (id, employee_id, kiosk_id, direction, punched_at, method)
       VALUES ($1, $2, $4, 'in', now() - interval '26 hours', 'pin'), ($3, $5, $4, 'in', now() - interval '26 hours', 'pin')`,
      [punchA, a1, punchB, kiosk.id, b1],
    );
    // Site B has a correction and audit rows of its own, which the supervisor of A must not see.
    // Pending, so that deciding it is a real attempt (site B has the two-person rule).
    await it_.query("SELECT site_rules_set('b', '{}'::jsonb, true)");
    const correctionB = (await it_.query<{ id: string }>("SELECT correction_id::text AS id FROM correction_add('B-1', 'out', now() - interval '20 hours', 'site B fix')")).rows[0]?.id ?? '';
    const supervisor = `sue.${randomBytes(3).toString('hex')}`;
    const supPassword = randomBytes(12).toString('hex');
    await it_.query("SELECT supervisor_register($1, $2, ARRAY['a'])", [supervisor, scramSha256Verifier(supPassword)]);
    const supervisorUrl = loginUrl(supervisor, supPassword);
    sup = await connectCentral({ url: supervisorUrl, embeddedDefault: false });
    w = { roles, itLogin, itUrl, supervisor, supervisorUrl, punchA, punchB, correctionB };
    if (mutation) {
      const steps = MUTATIONS[mutation];
      if (!steps) throw new Error(`unknown mutation ${mutation}; known: ${Object.keys(MUTATIONS).join(', ')}`);
      console.warn(`\n*** MUTATION ${mutation} applied: this run is expected to FAIL in the cases guarding that rule ***\n`);
      for (const step of steps(w)) await root.query(step);
    }
  });

  afterAll(async () => {
    console.log(`central-supervisor: ${tried} statements tried as a supervisor login`);
    await sup?.end().catch(() => undefined);
    await it_?.end().catch(() => undefined);
    await root?.end();
    await central?.close();
    if (w) {
      const c = new pg.Client({ connectionString: process.env['CLOCKFACE_TEST_DATABASE_URL'] });
      await c.connect();
      await c.query(`DROP ROLE IF EXISTS "${w.itLogin}"`);
      await c.end();
    }
  });

  it.each(RULES.map((r) => [r.name, r] as const))('refused: %s', async (_name, rule) => {
    const [text, params] = rule.sql(w);
    // A fresh session each time: a refused statement must not leave the next case in an aborted transaction.
    const client = await connectCentral({ url: w.supervisorUrl, embeddedDefault: false });
    let outcome: { code?: string; rowCount?: number | null; message?: string };
    try {
      const r = await client.query(text, params ?? []);
      outcome = { rowCount: r.rowCount };
    } catch (e) {
      outcome = { code: (e as { code?: string }).code ?? 'none', message: (e as Error).message };
    } finally {
      await client.end();
    }
    if (rule.expect === 'no rows') expect(outcome, JSON.stringify(outcome)).toMatchObject({ rowCount: 0 });
    else expect(outcome.code, JSON.stringify(outcome)).toBe(rule.expect.refused);
    tried++;
    recordTally({ area: 'hostile', kind: KIND, count: 1, outcome: 'refused' });
  });

  it("reads its own site: employees without PIN hashes, punches, rules; the login holds only the supervisor group", async () => {
    const employees = await sup.query('SELECT employee_no, full_name, site, active FROM employees');
    expect(employees.rows).toEqual([{ employee_no: 'A-1', full_name: 'Ann Ay', site: 'a', active: true }]);
    expect((await sup.query('SELECT id FROM punches')).rows).toEqual([{ id: w.punchA }]);
    const { rows } = await root.query<{ attrs: boolean; groups: string[] }>(
      `SELECT (r.rolsuper OR r.rolcreaterole OR r.rolcreatedb OR r.rolbypassrls) AS attrs,
              (SELECT array_agg(g.rolname::text) FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = r.oid) AS groups
       FROM pg_roles r WHERE r.rolname = $1`,
      [w.supervisor],
    );
    expect(rows).toEqual([{ attrs: false, groups: [w.roles.supervisor] }]);
  });

  it('corrects its own people: the correction and its approval are in the audit log with its login and reason', async () => {
    const added = await sup.query<{ correction_id: string; status: string }>(
      "SELECT correction_id::text, status FROM correction_add('A-1', 'out', now() - interval '18 hours', 'forgot to clock out')",
    );
    expect(added.rows[0]?.status).toBe('approved');
    const audit = await sup.query<{ kind: string; login: string; reason: string | null }>(
      "SELECT kind, login, after ->> 'reason' AS reason FROM audit_log WHERE subject = $1 ORDER BY id",
      [`correction ${added.rows[0]?.correction_id}`],
    );
    expect(audit.rows).toEqual([
      { kind: 'correction.requested', login: w.supervisor, reason: 'forgot to clock out' },
      { kind: 'correction.approved', login: w.supervisor, reason: null },
    ]);
    // A void of the same raw punch twice is refused: a punch is voided once.
    await sup.query("SELECT * FROM correction_void($1, 'double punch')", [w.punchA]);
    await expect(sup.query("SELECT * FROM correction_void($1, 'again')", [w.punchA])).rejects.toMatchObject({ code: 'CFP02' });
    await expect(sup.query("SELECT * FROM correction_move($1, now() - interval '3 hours', 'moved')", [w.punchA])).rejects.toMatchObject({ code: 'CFP02' });
  });

  it('the two-person rule: the supervisor who asked cannot approve; IT (another login) can, and that is audited too', async () => {
    await it_.query("SELECT site_rules_set('a', '{}'::jsonb, true)");
    const asked = await sup.query<{ correction_id: string; status: string }>(
      "SELECT correction_id::text, status FROM correction_add('A-1', 'in', now() - interval '30 hours', 'badge left at home')",
    );
    expect(asked.rows[0]?.status).toBe('pending');
    const id = asked.rows[0]?.correction_id;
    await expect(sup.query('SELECT correction_decide($1, true)', [id])).rejects.toMatchObject({ code: 'CFC03' });
    expect((await it_.query('SELECT correction_decide($1, true, $2) AS s', [id, 'checked the camera log'])).rows).toEqual([{ s: 'approved' }]);
    await expect(it_.query('SELECT correction_decide($1, false)', [id])).rejects.toMatchObject({ code: 'CFC02' });
    const decided = await sup.query('SELECT status, decided_by FROM punch_correction_status WHERE id = $1', [id]);
    expect(decided.rows).toEqual([{ status: 'approved', decided_by: w.itLogin }]);
    const rulesAudit = await sup.query("SELECT login FROM audit_log WHERE kind = 'rules.changed'");
    expect(rulesAudit.rows).toEqual([{ login: w.itLogin }]);
  });

  it('IT cannot rewrite or delete the audit log either, nor a correction', async () => {
    for (const sql of ["UPDATE audit_log SET login = 'x'", 'DELETE FROM audit_log', "UPDATE punch_corrections SET reason = 'x'", 'DELETE FROM correction_decisions']) {
      await expect(it_.query(sql), sql).rejects.toMatchObject({ code: INSUFFICIENT_PRIVILEGE });
    }
  });

  it('IT removes the supervisor: its sessions end, the login is gone, its corrections keep its name', async () => {
    const open = await connectCentral({ url: w.supervisorUrl, embeddedDefault: false });
    await it_.query('SELECT supervisor_remove($1)', [w.supervisor]);
    await expect(open.query('SELECT 1')).rejects.toThrow();
    await open.end().catch(() => undefined);
    await expect(connectCentral({ url: w.supervisorUrl, embeddedDefault: false })).rejects.toMatchObject({ code: 'CENTRAL_AUTH_FAILED' });
    const kept = await root.query<{ n: number }>('SELECT count(*)::int AS n FROM punch_corrections WHERE requested_by = $1', [w.supervisor]);
    expect(kept.rows[0]?.n).toBeGreaterThan(0);
    expect((await root.query("SELECT kind FROM audit_log WHERE kind = 'supervisor.site_removed'")).rowCount).toBe(1);
    await sup.end().catch(() => undefined);
  });
});
