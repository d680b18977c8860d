import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectCentral } from '../../electron/central/connect.js';
import { databaseRoles, type DatabaseRoles } from '../../electron/central/database-roles.js';
import { listKiosks } from '../../electron/central/kiosk-fleet.js';
import { connectAsKiosk } from '../../electron/central/kiosk-connection.js';
import { dropKiosk, registerKiosk, rekeyKiosk, revokeKiosk, type RegisteredKiosk } from '../../electron/central/kiosk-registry.js';
import { serverFactories, startMigrated, type TestCentral } from '../support/centrals.js';
import { recordTally } from '../support/fault-tally.js';
import { addEmployee, addSite } from '../support/roster-fixtures.js';
import { runCli } from '../support/run-cli.js';

/**
 * What an IT login may do on central (issue 13): a non-superuser login that is a member of this database's admin
 * group and has no CREATEROLE, the way docs/security.md tells a database administrator to make one.
 *
 * It can run the roster and the kiosk fleet (add, revoke with the kiosk online, re-key, drop), and nothing that
 * reaches beyond: on PostgreSQL 15 a CREATEROLE login could grant itself pg_execute_server_program and run a shell as
 * the postgres OS user; a login of one Clockface database was an administrator of every other one on the server.
 *
 * Mutation check, by hand, as in central-roles.test.ts: CLOCKFACE_IT_MUTATION=<name> (see MUTATIONS) removes one rule
 * in this test's scratch database; the cases guarding it must then go red.
 */

const INSUFFICIENT_PRIVILEGE = '42501';
const INVALID_PARAMETER = '22023';
const ESCALATION = 'IT login: escalation beyond the admin group';
const FLEET = 'IT login: kiosk fleet without CREATEROLE';

interface World {
  roles: DatabaseRoles;
  itLogin: string;
  /** A kiosk for the cases to aim at. */
  target: RegisteredKiosk;
  /** A superuser session's pid (something IT must not be able to signal). */
  adminPid: number;
}

type Expect = { refused: string } | 'no rows';

interface Rule {
  name: string;
  sql: (w: World) => [string, unknown[]?];
  expect: Expect;
}

const refused = { refused: INSUFFICIENT_PRIVILEGE };

const RULES: Rule[] = [
  // The attack that was observed: CREATEROLE on PostgreSQL 15 grants predefined roles, pg_execute_server_program runs a shell.
  ...['pg_execute_server_program', 'pg_read_server_files', 'pg_write_server_files', 'pg_read_all_data', 'pg_write_all_data', 'pg_signal_backend', 'pg_monitor'].map(
    (role): Rule => ({ name: `grant itself ${role}`, sql: () => [`GRANT ${role} TO CURRENT_USER`], expect: refused }),
  ),
  ...['CREATEROLE', 'CREATEDB', 'SUPERUSER', 'BYPASSRLS', 'REPLICATION'].map(
    (attr): Rule => ({ name: `give itself ${attr}`, sql: () => [`ALTER ROLE CURRENT_USER ${attr}`], expect: refused }),
  ),
  { name: 'CREATE ROLE', sql: () => ['CREATE ROLE clockface_it_evil LOGIN'], expect: refused },
  { name: 'COPY TO PROGRAM', sql: () => ["COPY (SELECT 1) TO PROGRAM 'id'"], expect: refused },
  { name: 'read a server file', sql: () => ["SELECT pg_read_file('/etc/passwd')"], expect: refused },
  { name: 'read password verifiers (pg_authid)', sql: () => ['SELECT rolpassword FROM pg_authid'], expect: refused },
  { name: 'SET ROLE to the registrar', sql: (w) => [`SET ROLE "${w.roles.registrar}"`], expect: refused },
  { name: 'join the registrar', sql: (w) => [`GRANT "${w.roles.registrar}" TO CURRENT_USER`], expect: refused },
  { name: 'join the kiosk group', sql: (w) => [`GRANT "${w.roles.kiosk}" TO CURRENT_USER`], expect: refused },
  { name: "set a kiosk's password directly", sql: (w) => [`ALTER ROLE "${w.target.settings.roleName}" PASSWORD 'stolen'`], expect: refused },
  { name: "switch a kiosk's login off directly", sql: (w) => [`ALTER ROLE "${w.target.settings.roleName}" NOLOGIN`], expect: refused },
  { name: 'point a kiosk row at another role (kiosks.role_name)', sql: () => ["UPDATE kiosks SET role_name = 'postgres'"], expect: refused },
  { name: 'a kiosk row naming its own login', sql: (w) => ["INSERT INTO kiosks (name, role_name, site) VALUES ('evil', $1, 'hq')", [w.itLogin]], expect: refused },
  { name: 'un-revoke a kiosk by hand (kiosks.revoked_at)', sql: () => ['UPDATE kiosks SET revoked_at = NULL'], expect: refused },
  { name: 'rewrite a raw punch', sql: () => ["UPDATE punches SET direction = 'out'"], expect: refused },
  { name: 'delete a raw punch', sql: () => ['DELETE FROM punches'], expect: refused },
  { name: 'edit the migration ledger', sql: () => ["UPDATE clockface_migrations SET checksum = 'x'"], expect: refused },
  { name: 'rename the database roles (clockface_roles)', sql: () => ["UPDATE clockface_roles SET role_name = 'postgres'"], expect: refused },
  { name: 'shadow a function in public', sql: () => ['CREATE FUNCTION public.format(text) RETURNS text LANGUAGE sql AS $$ SELECT $1 $$'], expect: refused },
  { name: 'take over kiosk_register (OWNER)', sql: () => ['ALTER FUNCTION kiosk_register(text, text, text, integer) OWNER TO CURRENT_USER'], expect: refused },
  { name: 'replace kiosk_revoke', sql: () => ['CREATE OR REPLACE FUNCTION kiosk_revoke(p_name text) RETURNS TABLE (role_name name, sessions_ended integer) LANGUAGE sql AS $$ SELECT NULL::name, 0 $$'], expect: refused },
  { name: "terminate a superuser's session", sql: (w) => ['SELECT pg_terminate_backend($1)', [w.adminPid]], expect: refused },
  // The registrar's functions take only what they check: a kiosk name, a SCRAM verifier, a small limit.
  { name: 'kiosk_register with a name that is SQL', sql: () => [`SELECT * FROM kiosk_register('x"; ALTER ROLE postgres NOLOGIN; --', 'hq', 'SCRAM-SHA-256$4096:AA==$BB==:CC==')`], expect: { refused: INVALID_PARAMETER } },
  { name: 'kiosk_register with a clear-text password', sql: () => ["SELECT * FROM kiosk_register('plain-door', 'hq', 'hunter2')"], expect: { refused: INVALID_PARAMETER } },
  { name: 'kiosk_register with 10,000 connections', sql: () => ["SELECT * FROM kiosk_register('greedy-door', 'hq', 'SCRAM-SHA-256$4096:AA==$BB==:CC==', 10000)"], expect: { refused: INVALID_PARAMETER } },
];

/** Removes one rule in this test's database, for the by-hand check that the cases can fail. */
const MUTATIONS: Record<string, (w: World) => string[]> = {
  'it-createrole': (w) => [`ALTER ROLE "${w.itLogin}" CREATEROLE`],
  'it-writes-kiosks': (w) => [`GRANT INSERT, UPDATE ON kiosks TO "${w.roles.admin}"`],
  'it-writes-punches': (w) => [`GRANT UPDATE, DELETE ON punches TO "${w.roles.admin}"`],
  'it-writes-ledger': (w) => [`GRANT UPDATE ON clockface_migrations, clockface_roles TO "${w.roles.admin}"`],
  'registrar-joinable': (w) => [`GRANT "${w.roles.registrar}" TO "${w.roles.admin}"`],
  'registrar-any-role': () => [
    `CREATE OR REPLACE FUNCTION clockface_is_kiosk_login(role_name name) RETURNS boolean LANGUAGE sql STABLE
     SET search_path = pg_catalog, public, pg_temp AS $$ SELECT true $$`,
  ],
  'connect-open': () => [], // applied to the second database, see the per-database case
};

describe.each(serverFactories())('what an IT login may do on central ($label)', (factory) => {
  let central: TestCentral;
  let other: TestCentral;
  let root: pg.Client;
  let it_: pg.Client;
  let itUrl: string;
  let w: World;
  const mutation = process.env['CLOCKFACE_IT_MUTATION'];
  let tried = 0;

  beforeAll(async () => {
    central = await startMigrated(factory);
    other = await startMigrated(factory);
    root = await central.connect();
    await addSite(root, 'hq');
    await addEmployee(root, 'H-1', 'hq', 'Hana Hq');
    const roles = await databaseRoles(root);
    // The IT login a database administrator makes: LOGIN, no CREATEROLE, a member of this database's admin group.
    const itLogin = `clockface_it_${randomBytes(4).toString('hex')}`;
    const password = randomBytes(12).toString('hex');
    await root.query(`CREATE ROLE "${itLogin}" LOGIN NOCREATEROLE NOCREATEDB PASSWORD '${password}' IN ROLE "${roles.admin}"`);
    const url = new URL(central.url);
    url.username = itLogin;
    url.password = password;
    itUrl = url.toString();
    it_ = await connectCentral({ url: itUrl, embeddedDefault: false });
    const target = await registerKiosk(it_, itUrl, { name: 'target-door', site: 'hq' });
    const adminPid = (await root.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid ?? 0;
    w = { roles, itLogin, target, adminPid };
    if (mutation) {
      const steps = MUTATIONS[mutation];
      if (!steps) throw new Error(`unknown mutation ${mutation}; known: ${Object.keys(MUTATIONS).join(', ')}`);
      console.warn(`\n*** MUTATION ${mutation} applied: this run is expected to FAIL in the cases guarding that rule ***\n`);
      for (const step of steps(w)) await root.query(step);
    }
  });

  afterAll(async () => {
    console.log(`central-it-login: ${tried} statements tried as an IT login`);
    await it_?.end().catch(() => undefined);
    await root?.end();
    await central?.close();
    await other?.close();
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
    const client = await connectCentral({ url: itUrl, embeddedDefault: false });
    let outcome: { code?: string; rowCount?: number | null; message?: string };
    try {
      const r = await client.query(text, params ?? []);
      outcome = { rowCount: r.rowCount };
    } catch (e) {
      outcome = { code: (e as { code?: string }).code ?? 'none', message: (e as Error).message };
    } finally {
      await client.end();
    }
    if (rule.expect === 'no rows') expect(outcome).toMatchObject({ rowCount: 0 });
    else expect(outcome.code, JSON.stringify(outcome)).toBe(rule.expect.refused);
    tried++;
    recordTally({ area: 'hostile', kind: ESCALATION, count: 1, outcome: 'refused' });
  });

  it('the IT login holds no predefined role, no attribute beyond LOGIN, and only its admin group', async () => {
    const { rows } = await root.query<{ super: boolean; createrole: boolean; createdb: boolean; groups: string[] }>(
      `SELECT r.rolsuper AS super, r.rolcreaterole AS createrole, r.rolcreatedb AS createdb,
              (SELECT array_agg(g.rolname::text ORDER BY g.rolname) FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
               WHERE m.member = r.oid) AS groups
       FROM pg_roles r WHERE r.rolname = $1`,
      [w.itLogin],
    );
    expect(rows).toEqual([{ super: false, createrole: false, createdb: false, groups: [w.roles.admin] }]);
  });

  it('adds a kiosk that logs in as itself, and revokes it while the kiosk is online: its sessions end', async () => {
    const k = await registerKiosk(it_, itUrl, { name: 'online-door', site: 'hq' });
    const idle = await connectAsKiosk(k.settings);
    const busy = await connectAsKiosk(k.settings);
    const punchId = randomUUID();
    const employeeId = Number((await root.query<{ id: string }>("SELECT id::text AS id FROM employees WHERE employee_no = 'H-1'")).rows[0]?.id);
    await busy.query('BEGIN');
    await busy.query(
      `INSERT INTO punches (id, employee_id, kiosk_id, direction, punched_at, method, match_distance)
       VALUES ($1, $2, $3, 'in', now(), 'face', 0.3)`,
      [punchId, employeeId, k.id],
    );
    // The open session also holds its own kiosk row's lock through the heartbeat, as a stalled kiosk would.
    await busy.query("SELECT kiosk_heartbeat($1, '1.0')", [k.id]);
    const revoked = await revokeKiosk(it_, 'online-door');
    expect(revoked.sessionsEnded).toBe(2);
    await expect(idle.query('SELECT 1')).rejects.toThrow();
    await expect(busy.query('COMMIT')).rejects.toThrow();
    await idle.end().catch(() => undefined);
    await busy.end().catch(() => undefined);
    await expect(connectAsKiosk(k.settings)).rejects.toMatchObject({ code: 'CENTRAL_AUTH_FAILED' });
    const listed = (await listKiosks(it_)).find((x) => x.name === 'online-door');
    expect(listed).toMatchObject({ loginProblem: null });
    expect(listed?.revokedAt).toBeInstanceOf(Date);
    expect((await root.query('SELECT 1 FROM punches WHERE id = $1', [punchId])).rowCount).toBe(0);
    recordTally({ area: 'hostile', kind: FLEET, count: 1, outcome: 'kiosk revoked while online by a non-superuser IT login: 2 sessions ended, login refused' });
  });

  it('re-keys a kiosk whose password someone holding it changed; the old sessions end', async () => {
    const k = await registerKiosk(it_, itUrl, { name: 'rekey-door', site: 'hq' });
    const attacker = await connectAsKiosk(k.settings);
    // PostgreSQL lets every login change its own password: the real kiosk is locked out.
    await attacker.query("ALTER ROLE CURRENT_USER PASSWORD 'mine-now'");
    await expect(connectAsKiosk(k.settings)).rejects.toMatchObject({ code: 'CENTRAL_AUTH_FAILED' });
    const fresh = await rekeyKiosk(it_, itUrl, 'rekey-door');
    await expect(attacker.query('SELECT 1')).rejects.toThrow();
    await attacker.end().catch(() => undefined);
    const kiosk = await connectAsKiosk(fresh.settings);
    expect((await kiosk.query("SELECT kiosk_heartbeat($1, '1.0') IS NOT NULL AS ok", [k.id])).rows).toEqual([{ ok: true }]);
    await kiosk.end();
    recordTally({ area: 'hostile', kind: FLEET, count: 1, outcome: 'kiosk password changed by its thief: re-keyed by IT, thief ended' });
  });

  it('drops a kiosk whose stolen login made large objects and default privileges to block DROP ROLE', async () => {
    const k = await registerKiosk(it_, itUrl, { name: 'doomed-door', site: 'hq' });
    const attacker = await connectAsKiosk(k.settings);
    await attacker.query('SELECT lo_create(0)');
    await attacker.query('ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO PUBLIC');
    await attacker.end();
    expect(await dropKiosk(it_, 'doomed-door')).toBe(k.settings.roleName);
    expect((await root.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [k.settings.roleName])).rowCount).toBe(0);
    const row = (await root.query<{ dropped: boolean; revoked: boolean }>(
      "SELECT dropped_at IS NOT NULL AS dropped, revoked_at IS NOT NULL AS revoked FROM kiosks WHERE name = 'doomed-door'",
    )).rows;
    expect(row).toEqual([{ dropped: true, revoked: true }]);
    expect((await listKiosks(it_)).find((x) => x.name === 'doomed-door')?.loginProblem).toBeNull();
    recordTally({ area: 'hostile', kind: FLEET, count: 2, outcome: 'large object and default privileges did not block kiosk drop' });
  });

  it('a revocation that cannot get its lock changes nothing, and a row and login that disagree are flagged', async () => {
    const k = await registerKiosk(it_, itUrl, { name: 'stuck-door', site: 'hq' });
    const holder = await central.connect();
    await holder.query('BEGIN');
    await holder.query("SELECT * FROM kiosks WHERE name = 'stuck-door' FOR UPDATE");
    await expect(revokeKiosk(it_, 'stuck-door')).rejects.toMatchObject({ code: 'CENTRAL_LOCKED' });
    await holder.query('ROLLBACK');
    await holder.end();
    // All or nothing: the login still works and the row is not marked, so the list tells the truth.
    const kiosk = await connectAsKiosk(k.settings);
    await kiosk.end();
    expect((await listKiosks(it_)).find((x) => x.name === 'stuck-door')).toMatchObject({ revokedAt: null, loginProblem: null });
    // Someone disables the login by hand: the list says so, and what to do.
    await root.query(`ALTER ROLE "${k.settings.roleName}" NOLOGIN`);
    const listed = await runCli(['kiosk', 'list'], { CLOCKFACE_DATABASE_URL: itUrl });
    expect(listed.stdout).toMatch(/stuck-door .*ATTENTION: its login is disabled on central but it is not marked revoked/);
    await revokeKiosk(it_, 'stuck-door');
    expect((await listKiosks(it_)).find((x) => x.name === 'stuck-door')?.loginProblem).toBeNull();
  });

  it("refuses to revoke a kiosk row that names a role which is not a kiosk login (a damaged row can't aim the registrar)", async () => {
    // Only the schema owner can write such a row (IT cannot write kiosks at all, see the rules above).
    await root.query("INSERT INTO kiosks (name, role_name, site) VALUES ('forged-door', $1, 'hq')", [w.itLogin]);
    await expect(revokeKiosk(it_, 'forged-door')).rejects.toMatchObject({ code: 'CENTRAL_PERMISSION_DENIED' });
    await expect(dropKiosk(it_, 'forged-door')).rejects.toMatchObject({ code: 'CENTRAL_PERMISSION_DENIED' });
    const { rows } = await root.query<{ login: boolean }>('SELECT rolcanlogin AS login FROM pg_roles WHERE rolname = $1', [w.itLogin]);
    expect(rows).toEqual([{ login: true }]);
    await root.query("DELETE FROM kiosks WHERE name = 'forged-door'");
  });

  it("this database's IT login cannot even connect to another Clockface database on the server", async () => {
    const otherRoot = await other.connect();
    try {
      if (mutation === 'connect-open') {
        const db = decodeURIComponent(new URL(other.url).pathname.slice(1));
        await otherRoot.query(`GRANT CONNECT ON DATABASE "${db}" TO PUBLIC`);
        await otherRoot.query(`GRANT SELECT ON employees TO PUBLIC`);
      }
      const url = new URL(other.url);
      const mine = new URL(itUrl);
      url.username = mine.username;
      url.password = mine.password;
      await expect(connectCentral({ url: url.toString(), embeddedDefault: false })).rejects.toMatchObject({ code: INSUFFICIENT_PRIVILEGE });
      // The other database has groups of its own.
      const theirs = await databaseRoles(otherRoot);
      expect(theirs.admin).not.toBe(w.roles.admin);
    } finally {
      await otherRoot.end();
    }
    recordTally({ area: 'hostile', kind: ESCALATION, count: 1, outcome: "connection to another Clockface database refused" });
  });

  it('nothing in a migrated database is granted to the shared roles of earlier versions', async () => {
    const { rows } = await root.query<{ what: string }>(
      `WITH old AS (SELECT oid FROM pg_roles WHERE rolname IN ('clockface_kiosk', 'clockface_admin'))
       SELECT 'table ' || c.relname AS what FROM pg_class c, aclexplode(c.relacl) a
         WHERE c.relnamespace = 'public'::regnamespace AND a.grantee IN (SELECT oid FROM old)
       UNION ALL SELECT 'column ' || a.attrelid::regclass || '.' || a.attname FROM pg_attribute a, aclexplode(a.attacl) x
         WHERE x.grantee IN (SELECT oid FROM old)
       UNION ALL SELECT 'function ' || p.oid::regprocedure FROM pg_proc p, aclexplode(p.proacl) x
         WHERE p.pronamespace = 'public'::regnamespace AND x.grantee IN (SELECT oid FROM old)
       UNION ALL SELECT 'schema ' || n.nspname FROM pg_namespace n, aclexplode(n.nspacl) x WHERE x.grantee IN (SELECT oid FROM old)
       UNION ALL SELECT 'database' FROM pg_database d, aclexplode(d.datacl) x
         WHERE d.datname = current_database() AND x.grantee IN (SELECT oid FROM old)
       UNION ALL SELECT 'policy ' || p.polname FROM pg_policy p WHERE p.polroles && ARRAY(SELECT oid FROM old)`,
    );
    expect(rows).toEqual([]);
  });
});
