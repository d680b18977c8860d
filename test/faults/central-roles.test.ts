import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { connectAsKiosk } from '../../electron/central/kiosk-connection.js';
import { databaseRoles, type DatabaseRoles } from '../../electron/central/database-roles.js';
import { registerKiosk, revokeKiosk, type RegisteredKiosk } from '../../electron/central/kiosk-registry.js';
import { eraseEmployee, setActive } from '../../electron/roster/employee-admin.js';
import { toVectorLiteral } from '../../electron/central/vector-literal.js';
import { FACE_MODEL_ID } from '../../shared/face-model.js';
import { serverFactories, startMigrated, type TestCentral } from '../support/centrals.js';
import { recordTally } from '../support/fault-tally.js';
import { addEmployee, addSite, addTemplate, randomDescriptor, seededRandom } from '../support/roster-fixtures.js';

/**
 * What a kiosk's own database login may and may not do on central (issue 8, security).
 *
 * Every rule is one named case in the table below, run as a real kiosk login (the role and password that
 * `registerKiosk` creates) on a real PostgreSQL server: the embedded central ignores login roles (docs/operations.md, "The embedded central").
 * A refused case must fail with the SQLSTATE the rule produces (not just any error), and the central's data and
 * catalog (tables, grants, policies, functions, roles) must be byte-for-byte the same afterwards.
 *
 * Mutation check, by hand: CLOCKFACE_ROLE_MUTATION=<name> (see MUTATIONS) removes one rule in this test's own
 * scratch database right after set-up; the cases guarding that rule must then go red. It is not a skipped test:
 * without the variable the suite runs unmutated, with it the suite is expected to fail.
 */

const INSUFFICIENT_PRIVILEGE = '42501';
const INVALID_PARAMETER = '22023';
const CHECK_VIOLATION = '23514';
const UNDEFINED_FUNCTION = '42883';

/** The kiosk's view, on which the rules act. */
interface World {
  a: RegisteredKiosk; // the attacker: a kiosk at "north"
  b: RegisteredKiosk; // another site's kiosk ("south"), also serving "east"
  c: RegisteredKiosk; // another kiosk at the attacker's own site
  northEmployees: number[];
  /** N-2's template, for the duplicate guard within the kiosk's own sites. */
  northDescriptor: number[];
  southEmployee: number;
  southDescriptor: number[];
  /** North employees the kiosk may no longer punch: deactivated (N-OFF), erased (N-GONE). */
  inactiveEmployee: number;
  erasedEmployee: number;
  /** A's punch of N-GONE, made before the erasure; its snapshot never reached central. */
  punchOfErased: string;
  /** A's own punch without a snapshot yet. */
  bareOwnPunch: string;
  roles: DatabaseRoles;
  ownPunch: string;
  punchOfB: string;
  punchOfC: string;
  dbName: string;
  /** pid of kiosk B's open session, for the signal case. */
  pidOfB: number;
}

type Expect =
  /** The statement fails with this SQLSTATE. */
  | { refused: string }
  /** The statement runs and returns or touches no row. */
  | 'no rows'
  /** A multi-step attack: refused at some step with 42501, or it got as far as the end and saw nothing. */
  | 'refused or no rows'
  | ((result: pg.QueryResult) => void);

interface Rule {
  kind: string;
  name: string;
  /** The statements; the result of the last one is checked. */
  steps: (w: World) => Array<[string, unknown[]?]>;
  expect: Expect;
}

const FORBIDDEN = 'kiosk role: forbidden statement';
const FOREIGN_READ = 'kiosk role: read of data not its own';
const FORGED = 'kiosk role: forged or altered punch';
const ENROL = 'kiosk role: kiosk_enrol outside its rules';
const HIJACK = 'kiosk role: temp-object search_path hijack';
const LOCKS = 'kiosk role: row and table locks that would hold IT back';
const OWN_ROW = 'kiosk role: its own row, heartbeat and limits';

const sql = (text: string, ...params: unknown[]): [string, unknown[]] => [text, params];
/** The heartbeat with a kiosk's health (0130): eleven arguments. */
const HEALTH_BEAT = 'SELECT kiosk_heartbeat($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)';
const refused = { refused: INSUFFICIENT_PRIVILEGE };
const badValue = { refused: CHECK_VIOLATION };
const punchInsert = (id: string, employeeId: number, kioskId: number, extra = '') =>
  `INSERT INTO punches (id, employee_id, kiosk_id, direction, punched_at, method, match_distance${extra ? ', received_at' : ''})
   VALUES ('${id}', ${employeeId}, ${kioskId}, 'in', now(), 'face', 0.3${extra ? `, ${extra}` : ''})`;
/** A punch of N-1 by kiosk A with one column set to a raw SQL value. */
const punchWith = (w: World, column: 'punched_at' | 'match_distance', value: string) =>
  punchInsert(randomUUID(), w.northEmployees[0] ?? 0, w.a.id).replace(column === 'punched_at' ? "'in', now()" : "'face', 0.3", column === 'punched_at' ? `'in', ${value}` : `'face', ${value}`);
const vectorArray = (vectors: number[][]) => `{${vectors.map((v) => `"${toVectorLiteral(v)}"`).join(',')}}`;
const enrol = 'SELECT * FROM kiosk_enrol($1, $2, $3, $4, $5::vector[])';
/** The kiosk_enrol before migration 0080, whose caller-chosen threshold made it an oracle for other sites' faces. */
const enrolWithThreshold = 'SELECT * FROM kiosk_enrol($1, $2, $3, $4, $5::vector[], $6)';
/** A tiny but well-formed JPEG frame (start and end markers), as central checks them. */
const JPEG = "'\\xffd8ffe0ffd9'";

/** Writes on every table a kiosk must not write, the same four statements each. */
const ROSTER_TABLES: Array<{ table: string; insert?: string; update: string }> = [
  { table: 'employees', insert: "INSERT INTO employees (employee_no, full_name, site) VALUES ('X-1', 'Mallory', 'north')", update: "UPDATE employees SET full_name = 'Mallory'" },
  { table: 'face_templates', insert: `INSERT INTO face_templates (employee_id, model_id, embedding, source) SELECT id, '${FACE_MODEL_ID}', array_fill(0.1, ARRAY[128])::vector, 'kiosk' FROM employees`, update: 'UPDATE face_templates SET quality = 1' },
  { table: 'sites', insert: "INSERT INTO sites (code, name) VALUES ('evil', 'Evil')", update: "UPDATE sites SET time_zone = 'Asia/Tokyo'" },
  { table: 'kiosks', insert: "INSERT INTO kiosks (name, role_name, site) VALUES ('evil', current_user, 'south')", update: "UPDATE kiosks SET site = 'south'" },
  { table: 'kiosk_sites', insert: "INSERT INTO kiosk_sites (kiosk_id, site) SELECT id, 'south' FROM kiosks", update: "UPDATE kiosk_sites SET site = 'north'" },
  { table: 'roster_changes', insert: "INSERT INTO roster_changes (entity, op, employee_id, site) VALUES ('employee', 'delete', 1, 'north')", update: "UPDATE roster_changes SET op = 'delete'" },
  { table: 'roster_feed_state', insert: 'INSERT INTO roster_feed_state DEFAULT VALUES', update: "UPDATE roster_feed_state SET pruned_below = '0'" },
  { table: 'face_models', insert: "INSERT INTO face_models VALUES ('evil@1', 128, 'x')", update: "UPDATE face_models SET description = 'x'" },
  { table: 'clockface_migrations', insert: "INSERT INTO clockface_migrations (version, name, checksum) VALUES (9999, 'evil', 'x')", update: "UPDATE clockface_migrations SET checksum = 'x'" },
  // Punches and snapshots: INSERT is the kiosk's job (its own only, see the forged-punch cases); nothing else is.
  { table: 'punches', update: "UPDATE punches SET direction = 'out'" },
  { table: 'punch_snapshots', update: "UPDATE punch_snapshots SET jpeg = '\\x00000000'" },
];

const RULES: Rule[] = [
  // ---- Other kiosks' punches and every snapshot --------------------------------------------------------------
  { kind: FOREIGN_READ, name: 'punches of a kiosk at another site', steps: (w) => [sql('SELECT * FROM punches WHERE kiosk_id = $1', w.b.id)], expect: 'no rows' },
  { kind: FOREIGN_READ, name: 'punches of another kiosk at its own site', steps: (w) => [sql('SELECT * FROM punches WHERE kiosk_id = $1', w.c.id)], expect: 'no rows' },
  { kind: FOREIGN_READ, name: "another kiosk's punch by its id", steps: (w) => [sql('SELECT * FROM punches WHERE id = $1', w.punchOfC)], expect: 'no rows' },
  { kind: FOREIGN_READ, name: 'kiosk_last_punches for another kiosk', steps: (w) => [sql("SELECT * FROM kiosk_last_punches($1, '-infinity')", w.b.id)], expect: refused },
  { kind: FOREIGN_READ, name: 'kiosk_last_punches for another kiosk at its own site', steps: (w) => [sql("SELECT * FROM kiosk_last_punches($1, '-infinity')", w.c.id)], expect: refused },
  {
    kind: FOREIGN_READ,
    name: 'kiosk_last_punches for itself: served employees only, and never which kiosk',
    steps: (w) => [sql("SELECT * FROM kiosk_last_punches($1, '-infinity')", w.a.id)],
    expect: (r) => {
      expect(r.fields.map((f) => f.name).sort()).toEqual(['direction', 'employee_id', 'punched_at', 'received_at']);
      expect(r.rows.length).toBeGreaterThan(0);
      const north = [...world().northEmployees, world().inactiveEmployee, world().erasedEmployee];
      for (const row of r.rows) expect(north).toContain(Number(row.employee_id));
    },
  },
  { kind: FOREIGN_READ, name: 'snapshot of its own punch', steps: (w) => [sql('SELECT jpeg FROM punch_snapshots WHERE punch_id = $1', w.ownPunch)], expect: refused },
  { kind: FOREIGN_READ, name: 'any snapshot (count)', steps: () => [sql('SELECT count(*) FROM punch_snapshots')], expect: refused },
  { kind: FOREIGN_READ, name: 'snapshots through a join with its punches', steps: () => [sql('SELECT p.id FROM punches p JOIN punch_snapshots s ON s.punch_id = p.id')], expect: refused },

  // ---- The roster of sites it does not serve -----------------------------------------------------------------
  { kind: FOREIGN_READ, name: 'employees of other sites', steps: () => [sql("SELECT * FROM employees WHERE site <> 'north'")], expect: 'no rows' },
  { kind: FOREIGN_READ, name: 'an employee of another site by id', steps: (w) => [sql('SELECT * FROM employees WHERE id = $1', w.southEmployee)], expect: 'no rows' },
  { kind: FOREIGN_READ, name: 'templates of an employee of another site', steps: (w) => [sql('SELECT * FROM face_templates WHERE employee_id = $1', w.southEmployee)], expect: 'no rows' },
  {
    kind: FOREIGN_READ,
    name: "1:N search with another site's face finds only served employees",
    steps: (w) => [sql('SELECT employee_id FROM face_templates ORDER BY embedding <-> $1::vector LIMIT 10', toVectorLiteral(w.southDescriptor))],
    expect: (r) => {
      expect(r.rows.length).toBeGreaterThan(0);
      for (const row of r.rows) expect(world().northEmployees).toContain(Number(row.employee_id));
    },
  },
  { kind: FOREIGN_READ, name: 'change feed rows of other sites', steps: () => [sql("SELECT * FROM roster_changes WHERE site <> 'north'")], expect: 'no rows' },
  { kind: FOREIGN_READ, name: 'roster_changes_since: other sites', steps: () => [sql("SELECT * FROM roster_changes_since('0') WHERE site <> 'north'")], expect: 'no rows' },
  { kind: FOREIGN_READ, name: 'sites it does not serve', steps: () => [sql("SELECT * FROM sites WHERE code <> 'north'")], expect: 'no rows' },
  { kind: FOREIGN_READ, name: 'other kiosks (role names)', steps: (w) => [sql('SELECT * FROM kiosks WHERE id <> $1', w.a.id)], expect: 'no rows' },
  { kind: FOREIGN_READ, name: "other kiosks' extra sites", steps: () => [sql('SELECT * FROM kiosk_sites')], expect: 'no rows' },
  { kind: FOREIGN_READ, name: 'password verifiers (pg_authid)', steps: () => [sql('SELECT rolpassword FROM pg_authid')], expect: refused },

  // ---- The roster and every other table: no INSERT / UPDATE / DELETE / TRUNCATE ------------------------------
  ...ROSTER_TABLES.flatMap(({ table, insert, update }): Rule[] => [
    ...(insert ? [{ kind: FORBIDDEN, name: `INSERT into ${table}`, steps: () => [sql(insert)], expect: refused }] : []),
    { kind: FORBIDDEN, name: `UPDATE ${table}`, steps: () => [sql(update)], expect: refused },
    { kind: FORBIDDEN, name: `DELETE from ${table}`, steps: () => [sql(`DELETE FROM ${table}`)], expect: refused },
    { kind: FORBIDDEN, name: `TRUNCATE ${table}`, steps: () => [sql(`TRUNCATE ${table} CASCADE`)], expect: refused },
  ]),
  { kind: FORBIDDEN, name: 'un-revoke itself (kiosks.revoked_at)', steps: () => [sql('UPDATE kiosks SET revoked_at = NULL')], expect: refused },
  { kind: FORBIDDEN, name: 'take another role name (kiosks.role_name)', steps: () => [sql("UPDATE kiosks SET role_name = 'postgres'")], expect: refused },
  { kind: FORBIDDEN, name: "another kiosk's heartbeat", steps: (w) => [sql('UPDATE kiosks SET last_seen_at = now(), clock_offset_ms = 0 WHERE id = $1', w.b.id)], expect: refused },

  // ---- DDL, roles, admin-only functions, server-side escapes ------------------------------------------------
  { kind: FORBIDDEN, name: 'CREATE TABLE in public', steps: () => [sql('CREATE TABLE public.evil (x int)')], expect: refused },
  { kind: FORBIDDEN, name: 'CREATE TABLE on the default search_path', steps: () => [sql('CREATE TABLE evil (x int)')], expect: refused },
  { kind: FORBIDDEN, name: 'CREATE VIEW in public', steps: () => [sql('CREATE VIEW public.evil AS SELECT 1')], expect: refused },
  { kind: FORBIDDEN, name: 'CREATE FUNCTION public.now()', steps: () => [sql("CREATE FUNCTION public.now() RETURNS timestamptz LANGUAGE sql AS $$ SELECT timestamptz '2000-01-01' $$")], expect: refused },
  { kind: FORBIDDEN, name: 'CREATE SCHEMA', steps: () => [sql('CREATE SCHEMA evil')], expect: refused },
  { kind: FORBIDDEN, name: 'CREATE TEMP TABLE', steps: () => [sql('CREATE TEMP TABLE evil (x int)')], expect: refused },
  { kind: FORBIDDEN, name: 'CREATE EXTENSION', steps: () => [sql('CREATE EXTENSION IF NOT EXISTS pg_trgm')], expect: refused },
  { kind: FORBIDDEN, name: 'CREATE ROLE', steps: () => [sql('CREATE ROLE clockface_evil LOGIN')], expect: refused },
  { kind: FORBIDDEN, name: 'give itself CREATEROLE', steps: () => [sql('ALTER ROLE CURRENT_USER CREATEROLE')], expect: refused },
  { kind: FORBIDDEN, name: 'join clockface_admin', steps: () => [sql('GRANT clockface_admin TO CURRENT_USER')], expect: refused },
  { kind: FORBIDDEN, name: "SET ROLE to this database's admin group", steps: (w) => [sql(`SET ROLE "${w.roles.admin}"`)], expect: refused },
  { kind: FORBIDDEN, name: 'SET ROLE to the registrar (CREATEROLE)', steps: (w) => [sql(`SET ROLE "${w.roles.registrar}"`)], expect: refused },
  { kind: FORBIDDEN, name: 'join the registrar', steps: (w) => [sql(`GRANT "${w.roles.registrar}" TO CURRENT_USER`)], expect: refused },
  { kind: FORBIDDEN, name: 'grant itself pg_execute_server_program', steps: () => [sql('GRANT pg_execute_server_program TO CURRENT_USER')], expect: refused },
  { kind: FORBIDDEN, name: 'grant itself pg_read_server_files', steps: () => [sql('GRANT pg_read_server_files TO CURRENT_USER')], expect: refused },
  { kind: FORBIDDEN, name: 'raise its own connection limit', steps: () => [sql('ALTER ROLE CURRENT_USER CONNECTION LIMIT -1')], expect: refused },
  { kind: FORBIDDEN, name: 'register a kiosk (kiosk_register)', steps: (w) => [sql("SELECT * FROM kiosk_register('evil', 'north', $1)", w.a.settings.url)], expect: refused },
  { kind: FORBIDDEN, name: 'revoke another kiosk (kiosk_revoke)', steps: (w) => [sql('SELECT * FROM kiosk_revoke($1)', w.b.settings.kioskName)], expect: refused },
  { kind: FORBIDDEN, name: 'drop another kiosk (kiosk_drop)', steps: (w) => [sql('SELECT kiosk_drop($1)', w.c.settings.kioskName)], expect: refused },
  { kind: FORBIDDEN, name: "re-key another kiosk's password (kiosk_rekey)", steps: (w) => [sql('SELECT kiosk_rekey($1, $2)', w.b.settings.kioskName, 'SCRAM-SHA-256$4096:AAAA$BBBB:CCCC')], expect: refused },
  { kind: FORBIDDEN, name: "change another kiosk's password", steps: (w) => [sql(`ALTER ROLE "${w.b.settings.roleName}" PASSWORD 'stolen'`)], expect: refused },
  { kind: FORBIDDEN, name: 'ALTER DATABASE', steps: (w) => [sql(`ALTER DATABASE "${w.dbName}" SET row_security = off`)], expect: refused },
  { kind: FORBIDDEN, name: 'ALTER SYSTEM', steps: () => [sql('ALTER SYSTEM SET log_statement = none')], expect: refused },
  { kind: FORBIDDEN, name: 'switch triggers off (session_replication_role)', steps: () => [sql('SET session_replication_role = replica')], expect: refused },
  { kind: FORBIDDEN, name: 'switch RLS off on punches', steps: () => [sql('ALTER TABLE punches DISABLE ROW LEVEL SECURITY')], expect: refused },
  { kind: FORBIDDEN, name: 'ALTER TABLE employees', steps: () => [sql('ALTER TABLE employees ADD COLUMN evil int')], expect: refused },
  { kind: FORBIDDEN, name: 'DROP TABLE punches', steps: () => [sql('DROP TABLE punches CASCADE')], expect: refused },
  { kind: FORBIDDEN, name: 'DROP a policy', steps: () => [sql('DROP POLICY kiosk_own_punches_read ON punches')], expect: refused },
  { kind: FORBIDDEN, name: 'CREATE a policy', steps: () => [sql('CREATE POLICY evil ON punches FOR SELECT USING (true)')], expect: refused },
  { kind: FORBIDDEN, name: 'DROP TRIGGER (server clock)', steps: () => [sql('DROP TRIGGER punches_received_at ON punches')], expect: refused },
  { kind: FORBIDDEN, name: 'ALTER kiosk_enrol to SECURITY INVOKER', steps: () => [sql('ALTER FUNCTION kiosk_enrol(bigint, text, text, text, vector[]) SECURITY INVOKER')], expect: refused },
  { kind: FORBIDDEN, name: 'replace a policy helper', steps: () => [sql('CREATE OR REPLACE FUNCTION clockface_current_kiosk_id() RETURNS bigint LANGUAGE sql AS $$ SELECT 1::bigint $$')], expect: refused },
  { kind: FORBIDDEN, name: 'DROP a policy helper', steps: () => [sql('DROP FUNCTION clockface_kiosk_sites() CASCADE')], expect: refused },
  { kind: FORBIDDEN, name: 'call prune_roster_changes', steps: () => [sql("SELECT prune_roster_changes('0 seconds')")], expect: refused },
  { kind: FORBIDDEN, name: 'call clockface_caller_is_kiosk directly', steps: (w) => [sql('SELECT clockface_caller_is_kiosk($1)', w.b.id)], expect: refused },
  { kind: FORBIDDEN, name: "terminate another kiosk's session", steps: (w) => [sql('SELECT pg_terminate_backend($1)', w.pidOfB)], expect: refused },
  { kind: FORBIDDEN, name: 'read a server file', steps: () => [sql("SELECT pg_read_file('/etc/passwd')")], expect: refused },
  { kind: FORBIDDEN, name: 'server-side lo_import', steps: () => [sql("SELECT lo_import('/etc/passwd')")], expect: refused },
  { kind: FORBIDDEN, name: 'COPY FROM PROGRAM', steps: () => [sql("COPY punches FROM PROGRAM 'id'")], expect: refused },

  // ---- Forged or altered punches -----------------------------------------------------------------------------
  { kind: FORGED, name: "a punch claiming another site's kiosk", steps: (w) => [sql(punchInsert(randomUUID(), w.southEmployee, w.b.id))], expect: refused },
  { kind: FORGED, name: "a punch claiming another kiosk at its own site", steps: (w) => [sql(punchInsert(randomUUID(), w.northEmployees[0] ?? 0, w.c.id))], expect: refused },
  { kind: FORGED, name: 'rewrite its own punch (UPDATE)', steps: (w) => [sql("UPDATE punches SET punched_at = punched_at - interval '8 hours' WHERE id = $1", w.ownPunch)], expect: refused },
  { kind: FORGED, name: 'delete its own punch', steps: (w) => [sql('DELETE FROM punches WHERE id = $1', w.ownPunch)], expect: refused },
  {
    kind: FORGED,
    name: 'rewrite its own punch by upsert (ON CONFLICT DO UPDATE)',
    steps: (w) => [sql(`${punchInsert(w.ownPunch, w.northEmployees[0] ?? 0, w.a.id)} ON CONFLICT (id) DO UPDATE SET direction = 'out'`)],
    expect: refused,
  },
  {
    kind: FORGED,
    name: "overwrite another kiosk's punch by upsert",
    steps: (w) => [sql(`${punchInsert(w.punchOfC, w.northEmployees[0] ?? 0, w.a.id)} ON CONFLICT (id) DO UPDATE SET kiosk_id = EXCLUDED.kiosk_id`)],
    expect: refused,
  },
  {
    kind: FORGED,
    name: "replay another kiosk's punch id (DO NOTHING) changes nothing",
    steps: (w) => [sql(`${punchInsert(w.punchOfC, w.northEmployees[0] ?? 0, w.a.id)} ON CONFLICT (id) DO NOTHING`)],
    expect: 'no rows',
  },
  { kind: FORGED, name: "a snapshot for another kiosk's punch", steps: (w) => [sql("INSERT INTO punch_snapshots (punch_id, jpeg) VALUES ($1, '\\xffd8ffe0ffd9')", w.punchOfC)], expect: refused },
  { kind: FORGED, name: 'replace its own snapshot', steps: (w) => [sql("UPDATE punch_snapshots SET jpeg = '\\xffd8ffe1ffd9' WHERE punch_id = $1", w.ownPunch)], expect: refused },
  { kind: FORGED, name: 'a snapshot that is not a JPEG', steps: (w) => [sql("INSERT INTO punch_snapshots (punch_id, jpeg) VALUES ($1, decode(repeat('ab', 4096), 'hex'))", w.bareOwnPunch)], expect: badValue },
  { kind: FORGED, name: 'a snapshot of an erased employee (queued on a kiosk that was offline)', steps: (w) => [sql(`INSERT INTO punch_snapshots (punch_id, jpeg) VALUES ($1, ${JPEG})`, w.punchOfErased)], expect: { refused: 'CFE01' } },
  // Whom a kiosk may punch: active, not erased, of a site it serves (a stolen login clocked in another site's people).
  { kind: FORGED, name: 'a punch for an employee of a site it does not serve', steps: (w) => [sql(punchInsert(randomUUID(), w.southEmployee, w.a.id))], expect: refused },
  { kind: FORGED, name: 'a punch for a deactivated employee of its own site', steps: (w) => [sql(punchInsert(randomUUID(), w.inactiveEmployee, w.a.id))], expect: refused },
  { kind: FORGED, name: 'a punch for an erased employee of its own site', steps: (w) => [sql(punchInsert(randomUUID(), w.erasedEmployee, w.a.id))], expect: refused },
  { kind: FORGED, name: "a punch for another site's employee through ON CONFLICT DO NOTHING", steps: (w) => [sql(`${punchInsert(randomUUID(), w.southEmployee, w.a.id)} ON CONFLICT (id) DO NOTHING`)], expect: refused },
  // Values that crashed IT's tools or make no sense as a time clocked.
  ...(
    [
      ['punched_at infinity', 'punched_at', "'infinity'"],
      ['punched_at -infinity', 'punched_at', "'-infinity'"],
      ['punched_at in 1901', 'punched_at', "'1901-06-01T08:00:00Z'"],
      ['punched_at in 2999', 'punched_at', "'2999-06-01T08:00:00Z'"],
      ['punched_at two months ahead of central', 'punched_at', "now() + interval '62 days'"],
      ['match_distance NaN', 'match_distance', "'NaN'"],
      ['match_distance Infinity', 'match_distance', "'Infinity'"],
    ] as const
  ).map(([name, column, value]): Rule => ({ kind: FORGED, name, steps: (w) => [sql(punchWith(w, column, value))], expect: badValue })),

  // ---- kiosk_enrol: only for itself, only for the sites it serves, only inside its limits --------------------
  { kind: ENROL, name: 'enrol as another kiosk', steps: (w) => [sql(enrol, w.b.id, 'N-1', null, FACE_MODEL_ID, vectorArray([randomDescriptor(seededRandom(5))]))], expect: refused },
  { kind: ENROL, name: 'enrol as another kiosk at its own site', steps: (w) => [sql(enrol, w.c.id, 'N-1', null, FACE_MODEL_ID, vectorArray([randomDescriptor(seededRandom(5))]))], expect: refused },
  { kind: ENROL, name: 'enrol an employee of a site it does not serve', steps: (w) => [sql(enrol, w.a.id, 'S-1', null, FACE_MODEL_ID, vectorArray([randomDescriptor(seededRandom(6))]))], expect: refused },
  { kind: ENROL, name: 'more than 10 templates at once', steps: (w) => [sql(enrol, w.a.id, 'N-1', null, FACE_MODEL_ID, vectorArray(Array.from({ length: 11 }, (_, i) => randomDescriptor(seededRandom(100 + i)))))], expect: { refused: INVALID_PARAMETER } },
  {
    kind: ENROL,
    name: 'more than 10 templates as a two-dimensional array',
    steps: (w) => {
      const row = (k: number) => `{${Array.from({ length: 6 }, (_, i) => `"${toVectorLiteral(randomDescriptor(seededRandom(200 + k * 10 + i)))}"`).join(',')}}`;
      return [sql(enrol, w.a.id, 'N-1', null, FACE_MODEL_ID, `{${row(0)},${row(1)}}`)];
    },
    expect: { refused: INVALID_PARAMETER },
  },
  // The old function took the threshold from the caller: bisecting its answer rebuilt another site's template.
  { kind: ENROL, name: 'the threshold-taking kiosk_enrol (the oracle) is gone', steps: (w) => [sql(enrolWithThreshold, w.a.id, 'N-1', null, FACE_MODEL_ID, vectorArray([w.southDescriptor]), 0.01)], expect: { refused: UNDEFINED_FUNCTION } },
  {
    kind: ENROL,
    name: "another site's face: the guard says nothing about other sites (rolled back)",
    steps: (w) => [sql('BEGIN'), sql(enrol, w.a.id, 'N-NEW', 'New Person', FACE_MODEL_ID, vectorArray([w.southDescriptor]))],
    expect: (r) => {
      // Enrolled as anyone new would be: no hint that the face belongs to someone at a site this kiosk does not serve.
      expect(r.rows[0]).toMatchObject({ templates_added: 1, duplicate_employee_no: null, duplicate_full_name: null });
    },
  },
  {
    kind: ENROL,
    name: "a served colleague's face is refused as a duplicate, at central's threshold",
    steps: (w) => [sql(enrol, w.a.id, 'N-NEW', 'New Person', FACE_MODEL_ID, vectorArray([w.northDescriptor.map((v) => v + 0.05 / Math.sqrt(128))]))],
    expect: (r) => {
      expect(r.rows[0]).toMatchObject({ templates_added: 0, duplicate_employee_no: 'N-2' });
    },
  },
  { kind: ENROL, name: 'enrol a deactivated employee', steps: (w) => [sql(enrol, w.a.id, 'N-OFF', null, FACE_MODEL_ID, vectorArray([randomDescriptor(seededRandom(8))]))], expect: refused },
  { kind: ENROL, name: 'enrol an erased employee', steps: (w) => [sql(enrol, w.a.id, 'N-GONE', null, FACE_MODEL_ID, vectorArray([randomDescriptor(seededRandom(9))]))], expect: refused },
  { kind: ENROL, name: 'a new employee whose name holds terminal escapes', steps: (w) => [sql(enrol, w.a.id, 'N-ESC', 'Evil\u001b[2J\u001b]0;pwned\u0007', FACE_MODEL_ID, vectorArray([randomDescriptor(seededRandom(10))]))], expect: { refused: INVALID_PARAMETER } },
  { kind: ENROL, name: 'a new employee number with a right-to-left override', steps: (w) => [sql(enrol, w.a.id, 'N-\u202e1', 'Fake Person', FACE_MODEL_ID, vectorArray([randomDescriptor(seededRandom(11))]))], expect: { refused: INVALID_PARAMETER } },

  // ---- Locks that would hold IT back, and its own row ------------------------------------------------------
  { kind: LOCKS, name: 'lock its own kiosk row (SELECT … FOR UPDATE), which held `kiosk revoke` back', steps: () => [sql('SELECT * FROM kiosks FOR UPDATE')], expect: refused },
  { kind: LOCKS, name: 'FOR SHARE on its kiosk row', steps: () => [sql('SELECT * FROM kiosks FOR SHARE')], expect: refused },
  { kind: LOCKS, name: 'FOR KEY SHARE on employees', steps: () => [sql('SELECT * FROM employees FOR KEY SHARE')], expect: refused },
  { kind: LOCKS, name: 'FOR UPDATE on its own punches', steps: () => [sql('SELECT * FROM punches FOR UPDATE')], expect: refused },
  { kind: LOCKS, name: 'LOCK TABLE punches IN ACCESS EXCLUSIVE MODE', steps: () => [sql('BEGIN'), sql('LOCK TABLE punches IN ACCESS EXCLUSIVE MODE')], expect: refused },
  { kind: LOCKS, name: 'LOCK TABLE employees', steps: () => [sql('BEGIN'), sql('LOCK TABLE employees IN SHARE MODE')], expect: refused },
  { kind: LOCKS, name: "the migrator's lock (LOCK TABLE clockface_migrations)", steps: () => [sql('BEGIN'), sql('LOCK TABLE clockface_migrations IN EXCLUSIVE MODE')], expect: refused },
  { kind: OWN_ROW, name: 'write its own heartbeat columns directly (last_seen_at infinity)', steps: () => [sql("UPDATE kiosks SET last_seen_at = 'infinity'")], expect: refused },
  { kind: OWN_ROW, name: 'an app version with terminal escapes through kiosk_heartbeat', steps: (w) => [sql("SELECT kiosk_heartbeat($1, E'1.0\\033[2J\\033[H')", w.a.id)], expect: { refused: INVALID_PARAMETER } },
  { kind: OWN_ROW, name: 'an app version of 10 kB through kiosk_heartbeat', steps: (w) => [sql('SELECT kiosk_heartbeat($1, $2)', w.a.id, 'x'.repeat(10_000))], expect: { refused: INVALID_PARAMETER } },
  { kind: OWN_ROW, name: "another kiosk's heartbeat through kiosk_heartbeat", steps: (w) => [sql("SELECT kiosk_heartbeat($1, '1.0')", w.b.id)], expect: { refused: 'CFK04' } },
  { kind: OWN_ROW, name: "another kiosk's health through kiosk_heartbeat (0130)", steps: (w) => [sql(HEALTH_BEAT, w.b.id, '1.0', 0, 0, 30, null, '1', 0, 0, 'js', 'FORGED')], expect: { refused: 'CFK04' } },
  { kind: OWN_ROW, name: 'terminal escapes as the last upload error through kiosk_heartbeat (0130)', steps: (w) => [sql(HEALTH_BEAT, w.a.id, '1.0', 0, 0, 30, null, '1', 0, 0, 'js', 'E\u001b[2J')], expect: { refused: INVALID_PARAMETER } },
  { kind: OWN_ROW, name: 'a clock offset of a thousand years', steps: (w) => [sql('SELECT kiosk_report_clock_offset($1, $2)', w.a.id, String(1000 * 365 * 86_400_000))], expect: badValue },
  { kind: OWN_ROW, name: "read central's settings (its limits, the duplicate threshold)", steps: () => [sql('SELECT * FROM central_settings')], expect: refused },
  { kind: OWN_ROW, name: 'raise its own punch limit', steps: () => [sql('UPDATE central_settings SET kiosk_punches_per_hour = 2000000000')], expect: refused },
  { kind: OWN_ROW, name: 'reset its usage counter', steps: () => [sql('DELETE FROM kiosk_usage')], expect: refused },
  { kind: OWN_ROW, name: 'read the usage counters', steps: () => [sql('SELECT * FROM kiosk_usage')], expect: refused },

  // ---- Shadowing the policy helpers with temporary objects --------------------------------------------------
  {
    kind: HIJACK,
    name: "temp table 'kiosks' to read another kiosk's punches",
    steps: (w) => [
      sql('CREATE TEMP TABLE kiosks (id bigint, role_name name, site text, revoked_at timestamptz)'),
      sql(`INSERT INTO pg_temp.kiosks VALUES (${w.b.id}, current_user, 'south', NULL)`),
      sql('SELECT * FROM public.punches WHERE kiosk_id = $1', w.b.id),
    ],
    expect: 'refused or no rows',
  },
  {
    kind: HIJACK,
    name: "temp table 'kiosks' to punch as another kiosk",
    steps: (w) => [
      sql('CREATE TEMP TABLE kiosks (id bigint, role_name name, site text, revoked_at timestamptz)'),
      sql(`INSERT INTO pg_temp.kiosks VALUES (${w.b.id}, current_user, 'south', NULL)`),
      sql(punchInsert(randomUUID(), w.southEmployee, w.b.id)),
    ],
    expect: refused,
  },
  {
    kind: HIJACK,
    name: "temp table 'kiosk_sites' to read the roster of every site",
    steps: (w) => [
      sql('CREATE TEMP TABLE kiosk_sites (kiosk_id bigint, site text)'),
      sql(`INSERT INTO pg_temp.kiosk_sites VALUES (${w.a.id}, 'south'), (${w.a.id}, 'east')`),
      sql("SELECT * FROM public.employees WHERE site <> 'north'"),
    ],
    expect: 'refused or no rows',
  },
  {
    kind: HIJACK,
    name: "search_path = pg_temp first, then enrol at another site",
    steps: (w) => [
      sql('CREATE TEMP TABLE kiosk_sites (kiosk_id bigint, site text)'),
      sql(`INSERT INTO pg_temp.kiosk_sites VALUES (${w.a.id}, 'south')`),
      sql('SET search_path = pg_temp, public'),
      sql(enrol, w.a.id, 'S-1', null, FACE_MODEL_ID, vectorArray([randomDescriptor(seededRandom(7))])),
    ],
    expect: refused,
  },
];

/**
 * A kiosk login. Other test files may share the server and briefly use up its connection slots: "too many
 * clients" (53300) is waited out here rather than counted as a verdict on a rule; every other error is returned.
 */
async function kioskLogin(settings: RegisteredKiosk['settings']): Promise<pg.Client> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await connectAsKiosk(settings);
    } catch (e) {
      if ((e as { code?: string }).code !== '53300' || attempt >= 120) throw e;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

/** The rules' view of the world, set in beforeAll (the table is built before it exists). */
let currentWorld: World | undefined;
function world(): World {
  if (!currentWorld) throw new Error('world not set up');
  return currentWorld;
}

/**
 * Everything a kiosk must not be able to change, as one digest: the data (kiosks' heartbeat columns excepted, they
 * are the kiosk's to write), and the catalog of this database: tables and their grants and RLS flags, policies,
 * functions (source, settings, grants), schemas, the database's grants, and the roles of this database's kiosks.
 */
const FINGERPRINT = `
  SELECT md5(string_agg(x, E'\\n' ORDER BY x)) AS digest FROM (
    SELECT 'e' || row_to_json(e)::text AS x FROM employees e
    UNION ALL SELECT 't' || row(t.id, t.employee_id, t.model_id, md5(t.embedding::text), t.quality, t.source, t.photo_sha256)::text FROM face_templates t
    UNION ALL SELECT 's' || row_to_json(s)::text FROM sites s
    UNION ALL SELECT 'k' || row(k.id, k.name, k.role_name, k.site, k.revoked_at, k.dropped_at)::text FROM kiosks k
    UNION ALL SELECT 'ks' || row_to_json(ks)::text FROM kiosk_sites ks
    UNION ALL SELECT 'rc' || row_to_json(rc)::text FROM roster_changes rc
    UNION ALL SELECT 'rf' || row_to_json(rf)::text FROM roster_feed_state rf
    UNION ALL SELECT 'fm' || row_to_json(fm)::text FROM face_models fm
    UNION ALL SELECT 'm' || row_to_json(m)::text FROM clockface_migrations m
    UNION ALL SELECT 'cs' || row_to_json(cs)::text FROM central_settings cs
    UNION ALL SELECT 'cr' || row_to_json(cr)::text FROM clockface_roles cr
    UNION ALL SELECT 'p' || row_to_json(p)::text FROM punches p
    UNION ALL SELECT 'ps' || row(ps.punch_id, md5(ps.jpeg), ps.created_at)::text FROM punch_snapshots ps
    UNION ALL SELECT 'lo' || count(*)::text FROM pg_largeobject_metadata
    UNION ALL SELECT 'c' || row(c.relname, c.relkind, c.relrowsecurity, c.relforcerowsecurity, c.relacl)::text
      FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace
    UNION ALL SELECT 'a' || row(a.attrelid::regclass, a.attname, a.attacl)::text
      FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
      WHERE c.relnamespace = 'public'::regnamespace AND a.attnum > 0 AND NOT a.attisdropped
    UNION ALL SELECT 'y' || row(y.polname, y.polrelid::regclass, y.polcmd, y.polroles::text,
                               pg_get_expr(y.polqual, y.polrelid), pg_get_expr(y.polwithcheck, y.polrelid))::text FROM pg_policy y
    UNION ALL SELECT 'tg' || row(tg.tgname, tg.tgrelid::regclass, tg.tgenabled)::text FROM pg_trigger tg WHERE NOT tg.tgisinternal
    UNION ALL SELECT 'f' || row(f.oid::regprocedure, md5(f.prosrc), f.proconfig, f.proacl, f.prosecdef, f.proowner)::text
      FROM pg_proc f WHERE f.pronamespace = 'public'::regnamespace
    UNION ALL SELECT 'n' || row(n.nspname, n.nspacl)::text FROM pg_namespace n
      WHERE n.nspname NOT LIKE 'pg\\_temp\\_%' AND n.nspname NOT LIKE 'pg\\_toast\\_temp\\_%'
    UNION ALL SELECT 'x' || row(x.extname, x.extversion)::text FROM pg_extension x
    UNION ALL SELECT 'd' || coalesce(d.datacl::text, '') || coalesce(dc.cfg::text, '') FROM pg_database d
      LEFT JOIN LATERAL (SELECT array_agg(setconfig) AS cfg FROM pg_db_role_setting WHERE setdatabase = d.oid) dc ON true
      WHERE d.datname = current_database()
    UNION ALL SELECT 'r' || row(r.rolname, r.rolsuper, r.rolcreaterole, r.rolcreatedb, r.rolcanlogin, r.rolbypassrls,
                                r.rolinherit, md5(coalesce(r.rolpassword, '')),
                                (SELECT array_agg(g.rolname ORDER BY g.rolname) FROM pg_auth_members m
                                   JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = r.oid))::text
      FROM pg_authid r WHERE r.rolname IN (SELECT role_name FROM kiosks) OR r.rolname IN (SELECT role_name FROM clockface_roles)
  ) all_rows`;

/**
 * Mutations for the by-hand check that the cases can fail: each removes one rule in this test's scratch database.
 * SQL on the admin connection; `fn` rewrites a function's definition (pg_get_functiondef) with a string replace.
 */
const MUTATIONS: Record<string, Array<string | { fn: string; from: string | RegExp; to: string }>> = {
  'punches-open-read': ['DROP POLICY kiosk_own_punches_read ON punches', 'CREATE POLICY kiosk_own_punches_read ON punches FOR SELECT TO :kiosk USING (true)'],
  'punches-rls-off': ['ALTER TABLE punches DISABLE ROW LEVEL SECURITY'],
  'punches-insert-any-kiosk': ['DROP POLICY kiosk_own_punches_write ON punches', 'CREATE POLICY kiosk_own_punches_write ON punches FOR INSERT TO :kiosk WITH CHECK (true)'],
  'punches-update-delete': ['GRANT UPDATE, DELETE, TRUNCATE ON punches TO :kiosk', 'CREATE POLICY evil ON punches TO :kiosk USING (true)'],
  'snapshots-select': ['GRANT SELECT ON punch_snapshots TO :kiosk', 'CREATE POLICY evil ON punch_snapshots FOR SELECT TO :kiosk USING (true)'],
  'snapshots-any-punch': ['DROP POLICY kiosk_own_snapshots_write ON punch_snapshots', 'CREATE POLICY evil ON punch_snapshots FOR INSERT TO :kiosk WITH CHECK (true)'],
  'roster-writes': ['GRANT INSERT, UPDATE, DELETE, TRUNCATE ON employees, face_templates, sites, kiosk_sites, roster_changes, roster_feed_state, face_models, clockface_migrations TO :kiosk'],
  'kiosks-all-columns': ['GRANT UPDATE ON kiosks TO :kiosk'],
  'employees-rls-off': ['ALTER TABLE employees DISABLE ROW LEVEL SECURITY'],
  'templates-open': ['DROP POLICY kiosk_served_templates ON face_templates', 'CREATE POLICY kiosk_served_templates ON face_templates FOR SELECT TO :kiosk USING (true)'],
  'feed-open': ['DROP POLICY kiosk_served_changes ON roster_changes', 'CREATE POLICY kiosk_served_changes ON roster_changes FOR SELECT TO :kiosk USING (true)'],
  'sites-kiosks-open': ['ALTER TABLE sites DISABLE ROW LEVEL SECURITY', 'ALTER TABLE kiosks DISABLE ROW LEVEL SECURITY', 'ALTER TABLE kiosk_sites DISABLE ROW LEVEL SECURITY'],
  'create-on-public': ['GRANT CREATE ON SCHEMA public TO :kiosk'],
  'temp-allowed': ['DO $$ BEGIN EXECUTE format(\'GRANT TEMPORARY ON DATABASE %I TO PUBLIC\', current_database()); END $$'],
  // The state before migration 0050: temp tables allowed and the policy helpers resolving names through the caller.
  'before-0050-helpers': [
    'DO $$ BEGIN EXECUTE format(\'GRANT TEMPORARY ON DATABASE %I TO PUBLIC\', current_database()); END $$',
    'ALTER FUNCTION clockface_current_kiosk_id() RESET search_path',
    'ALTER FUNCTION clockface_kiosk_sites() RESET search_path',
  ],
  'prune-executable': ['GRANT EXECUTE ON FUNCTION prune_roster_changes(interval) TO :kiosk', 'GRANT DELETE ON roster_changes TO :kiosk', 'GRANT UPDATE ON roster_feed_state TO :kiosk', 'CREATE POLICY evil ON roster_changes FOR DELETE TO :kiosk USING (true)'],
  'caller-check-public': ['GRANT EXECUTE ON FUNCTION clockface_caller_is_kiosk(bigint) TO :kiosk'],
  'last-punches-no-caller-check': [{ fn: 'kiosk_last_punches(bigint, timestamptz)', from: 'IF NOT clockface_caller_is_kiosk(for_kiosk) THEN', to: 'IF false THEN' }],
  'last-punches-kiosk-column': [
    'DROP FUNCTION kiosk_last_punches(bigint, timestamptz)',
    `CREATE FUNCTION kiosk_last_punches(for_kiosk bigint, received_after timestamptz)
     RETURNS TABLE (employee_id bigint, direction text, punched_at timestamptz, received_at timestamptz, kiosk_id bigint)
     LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
       SELECT p.employee_id, p.direction, p.punched_at, p.received_at, p.kiosk_id FROM punches p WHERE clockface_caller_is_kiosk(for_kiosk) $$`,
    'GRANT EXECUTE ON FUNCTION kiosk_last_punches(bigint, timestamptz) TO :kiosk',
  ],
  'enrol-no-caller-check': [{ fn: 'kiosk_enrol(bigint, text, text, text, vector[])', from: 'IF NOT clockface_caller_is_kiosk(for_kiosk) THEN', to: 'IF false THEN' }],
  'enrol-any-site': [{ fn: 'kiosk_enrol(bigint, text, text, text, vector[])', from: 'IF emp.site <> ALL (served) OR', to: 'IF' }],
  'enrol-first-dimension-only': [{ fn: 'kiosk_enrol(bigint, text, text, text, vector[])', from: 'coalesce(array_ndims(p_embeddings), 0) <> 1 OR coalesce(cardinality(p_embeddings), 0)', to: 'coalesce(array_length(p_embeddings, 1), 0)' }],
  // The oracle back: a kiosk_enrol that takes the caller's threshold (as before 0080) is reachable again.
  'enrol-oracle-back': [
    `CREATE FUNCTION kiosk_enrol(for_kiosk bigint, p_employee_no text, p_full_name text, p_model_id text, p_embeddings vector[], p_threshold real)
     RETURNS SETOF record LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$ SELECT NULL::record WHERE false $$`,
    'GRANT EXECUTE ON FUNCTION kiosk_enrol(bigint, text, text, text, vector[], real) TO :kiosk',
  ],
  'server-clock-trigger': ['DROP TRIGGER punches_received_at ON punches'],
  // Two layers: the helpers check revoked_at, and read kiosks through kiosk_own_row, which checks it again. Removing
  // one layer alone is expected to leave the suite green (scripts/check-security-mutations.sh knows); both turn it red.
  'revoked-helpers-only': [{ fn: 'clockface_current_kiosk_id()', from: /AND k\.revoked_at IS NULL/, to: '' }, { fn: 'clockface_kiosk_sites()', from: /AND k\.revoked_at IS NULL/g, to: '' }],
  'revoked-still-kiosk': [
    { fn: 'clockface_current_kiosk_id()', from: /AND k\.revoked_at IS NULL/, to: '' },
    { fn: 'clockface_kiosk_sites()', from: /AND k\.revoked_at IS NULL/g, to: '' },
    'DROP POLICY kiosk_own_row ON kiosks',
    'CREATE POLICY kiosk_own_row ON kiosks FOR SELECT TO :kiosk USING (role_name = current_user)',
  ],
  'kiosk-createrole': ['ALTER ROLE :a CREATEROLE'],
  'kiosk-in-admin': ['GRANT :admin TO :a'],
  // Migration 0080's rules, one by one.
  'punch-any-employee': [
    'DROP POLICY kiosk_own_punches_write ON punches',
    'CREATE POLICY kiosk_own_punches_write ON punches FOR INSERT TO :kiosk WITH CHECK (kiosk_id = clockface_current_kiosk_id())',
  ],
  'punch-time-any': ['ALTER TABLE punches DROP CONSTRAINT punches_punched_at_plausible'],
  'punch-distance-any': ['ALTER TABLE punches DROP CONSTRAINT punches_match_distance_finite'],
  'snapshot-not-jpeg': ['ALTER TABLE punch_snapshots DROP CONSTRAINT punch_snapshots_jpeg'],
  'snapshot-of-erased': ['DROP TRIGGER punch_snapshots_not_erased ON punch_snapshots'],
  'kiosk-updates-own-row': [
    'GRANT UPDATE (last_seen_at, app_version, clock_offset_ms) ON kiosks TO :kiosk',
    'CREATE POLICY kiosk_own_heartbeat ON kiosks FOR UPDATE TO :kiosk USING (role_name = current_user) WITH CHECK (role_name = current_user)',
  ],
  'heartbeat-any-version': [
    { fn: 'kiosk_heartbeat(bigint, text, integer, integer)', from: 'IF NOT clockface_printable(p_app_version, 64) THEN', to: 'IF false THEN' },
    'ALTER TABLE kiosks DROP CONSTRAINT kiosks_app_version_printable',
  ],
  'heartbeat-any-kiosk': [{ fn: 'kiosk_heartbeat(bigint, text, integer, integer)', from: 'IF NOT clockface_caller_is_kiosk(for_kiosk) THEN', to: 'IF false THEN' }],
  'heartbeat-health-any-kiosk': [
    { fn: 'kiosk_heartbeat(bigint, text, integer, integer, integer, integer, xid8, integer, integer, text, text)', from: /IF NOT clockface_caller_is_kiosk\(for_kiosk\)[\s\S]*?THEN/, to: 'IF false THEN' },
  ],
  'clock-offset-any': ['ALTER TABLE kiosks DROP CONSTRAINT kiosks_clock_offset_plausible'],
  'settings-open': ['GRANT SELECT, UPDATE ON central_settings TO :kiosk', 'GRANT SELECT, DELETE ON kiosk_usage TO :kiosk'],
  'enrol-cross-site-guard': [{ fn: 'kiosk_enrol(bigint, text, text, text, vector[])', from: 'WHERE x.site = ANY (served) AND', to: 'WHERE' }],
  'enrol-inactive': [{ fn: 'kiosk_enrol(bigint, text, text, text, vector[])', from: 'OR NOT emp.active OR emp.erased_at IS NOT NULL', to: '' }],
  'enrol-any-text': [{ fn: 'kiosk_enrol(bigint, text, text, text, vector[])', from: /IF NOT clockface_printable\(p_employee_no, 64\)[^\n]*THEN/, to: 'IF false THEN' }],
  'registrar-open': [
    { fn: 'clockface_require_admin()', from: 'IF NOT clockface_caller_is_admin() THEN', to: 'IF false THEN' },
    'GRANT EXECUTE ON FUNCTION kiosk_register(text, text, text, integer), kiosk_revoke(text), kiosk_drop(text), kiosk_rekey(text, text) TO :kiosk',
  ],
  'registrar-joinable': ['GRANT :registrar TO :kiosk'],
  'lock-rows': ['GRANT UPDATE (site) ON kiosks, employees TO :kiosk', 'GRANT UPDATE ON punches TO :kiosk'],
  'migrations-lockable': ['GRANT UPDATE ON clockface_migrations, employees TO :kiosk'],
};

async function applyMutation(admin: pg.Client, name: string, w: World): Promise<void> {
  const steps = MUTATIONS[name];
  if (!steps) throw new Error(`unknown mutation ${name}; known: ${Object.keys(MUTATIONS).join(', ')}`);
  console.warn(`\n*** MUTATION ${name} applied: this run is expected to FAIL in the cases guarding that rule ***\n`);
  for (const step of steps) {
    if (typeof step === 'string') {
      const named: Record<string, string> = { ':admin': w.roles.admin, ':kiosk': w.roles.kiosk, ':registrar': w.roles.registrar, ':a': w.a.settings.roleName };
      await admin.query(step.replace(/:admin|:kiosk|:registrar|:a\b/g, (m) => admin.escapeIdentifier(named[m] ?? m)));
      continue;
    }
    const { rows } = await admin.query<{ def: string }>('SELECT pg_get_functiondef($1::regprocedure) AS def', [step.fn]);
    const def = rows[0]?.def ?? '';
    const changed = def.replace(step.from, step.to);
    if (changed === def) throw new Error(`mutation ${name}: pattern not found in ${step.fn}`);
    await admin.query(changed);
  }
}

describe.each(serverFactories())('what a kiosk login may do on central ($label)', (factory) => {
  let central: TestCentral;
  let admin: pg.Client;
  let sessionOfB: pg.Client;
  let fingerprint: () => Promise<string>;
  const tried = new Map<string, number>();
  const random = seededRandom(808);

  beforeAll(async () => {
    central = await startMigrated(factory);
    admin = await central.connect();
    for (const site of ['north', 'south', 'east']) await addSite(admin, site);
    const northEmployees = [await addEmployee(admin, 'N-1', 'north', 'Nina North'), await addEmployee(admin, 'N-2', 'north', 'Ned North')];
    const southEmployee = await addEmployee(admin, 'S-1', 'south', 'Sam South');
    await addEmployee(admin, 'E-1', 'east', 'Eve East');
    const northDescriptors = northEmployees.map(() => randomDescriptor(random));
    for (const [i, id] of northEmployees.entries()) await addTemplate(admin, id, northDescriptors[i] ?? []);
    const southDescriptor = randomDescriptor(random);
    await addTemplate(admin, southEmployee, southDescriptor);
    const inactiveEmployee = await addEmployee(admin, 'N-OFF', 'north', 'Olly Off');
    const erasedEmployee = await addEmployee(admin, 'N-GONE', 'north', 'Gina Gone');
    const a = await registerKiosk(admin, central.url, { name: 'north-door', site: 'north' });
    const b = await registerKiosk(admin, central.url, { name: 'south-door', site: 'south' });
    const c = await registerKiosk(admin, central.url, { name: 'north-back-door', site: 'north' });
    await admin.query("INSERT INTO kiosk_sites (kiosk_id, site) VALUES ($1, 'east')", [b.id]);
    const [ownPunch, punchOfB, punchOfC, punchOfErased, bareOwnPunch] = [randomUUID(), randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    // Each kiosk writes its own punch and snapshot as itself, the way the uploader does.
    for (const [kiosk, id, employee] of [[a, ownPunch, northEmployees[0]], [b, punchOfB, southEmployee], [c, punchOfC, northEmployees[1]]] as const) {
      const k = await kioskLogin(kiosk.settings);
      try {
        await k.query(punchInsert(id, employee ?? 0, kiosk.id));
        await k.query(`INSERT INTO punch_snapshots (punch_id, jpeg) VALUES ($1, ${JPEG})`, [id]);
      } finally {
        await k.end();
      }
    }
    // Punches made while these two were still active; then one is deactivated and the other erased.
    const k = await kioskLogin(a.settings);
    try {
      await k.query(punchInsert(punchOfErased, erasedEmployee, a.id));
      await k.query(punchInsert(bareOwnPunch, northEmployees[0] ?? 0, a.id));
    } finally {
      await k.end();
    }
    await setActive(admin, 'N-OFF', false);
    await eraseEmployee(admin, 'N-GONE');
    sessionOfB = await kioskLogin(b.settings);
    const pid = (await sessionOfB.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid ?? 0;
    const dbName = decodeURIComponent(new URL(central.url).pathname.slice(1));
    currentWorld = {
      a, b, c, northEmployees, northDescriptor: northDescriptors[1] ?? [], southEmployee, southDescriptor, inactiveEmployee, erasedEmployee,
      punchOfErased, bareOwnPunch, roles: await databaseRoles(admin), ownPunch, punchOfB, punchOfC, dbName, pidOfB: pid,
    };
    fingerprint = async () => (await admin.query<{ digest: string }>(FINGERPRINT)).rows[0]?.digest ?? '';
    const mutation = process.env['CLOCKFACE_ROLE_MUTATION'];
    if (mutation) await applyMutation(admin, mutation, currentWorld);
  });

  afterAll(async () => {
    const total = [...tried.values()].reduce((s, n) => s + n, 0);
    console.log(`central-roles: ${total} hostile statements tried as a kiosk login, ${RULES.length} rules`, Object.fromEntries(tried));
    await sessionOfB?.end().catch(() => undefined);
    await admin?.end();
    await central?.close();
  });

  /** Runs one rule's statements on a fresh kiosk login. Returns the last result, or the SQLSTATE that stopped it. */
  async function attempt(rule: Rule): Promise<{ result?: pg.QueryResult; code?: string; message?: string; statements: number }> {
    const client = await kioskLogin(world().a.settings);
    let statements = 0;
    try {
      let result: pg.QueryResult | undefined;
      for (const [text, params] of rule.steps(world())) {
        statements++;
        try {
          result = await client.query(text, params ?? []);
        } catch (e) {
          const err = e as { code?: string; message?: string };
          return { ...(err.code ? { code: err.code } : {}), ...(err.message ? { message: err.message } : {}), statements };
        }
      }
      return { ...(result ? { result } : {}), statements };
    } finally {
      await client.end();
    }
  }

  it.each(RULES.map((r) => [`${r.kind} — ${r.name}`, r] as const))('%s', async (_label, rule) => {
    const before = await fingerprint();
    const outcome = await attempt(rule);
    const shown = outcome.code ? `${outcome.code} ${outcome.message}` : `${outcome.result?.rowCount} row(s): ${JSON.stringify(outcome.result?.rows.slice(0, 3))}`;
    if (rule.expect === 'no rows') {
      expect(outcome.code, shown).toBeUndefined();
      expect(outcome.result?.rowCount, shown).toBe(0);
    } else if (rule.expect === 'refused or no rows') {
      if (outcome.code !== undefined) expect(outcome.code, shown).toBe(INSUFFICIENT_PRIVILEGE);
      else expect(outcome.result?.rowCount, shown).toBe(0);
    } else if (typeof rule.expect === 'function') {
      expect(outcome.code, shown).toBeUndefined();
      if (outcome.result) rule.expect(outcome.result);
      else throw new Error('no result');
    } else {
      expect(outcome.code, shown).toBe(rule.expect.refused);
    }
    expect(await fingerprint(), `central changed after: ${rule.name}`).toBe(before);
    tried.set(rule.kind, (tried.get(rule.kind) ?? 0) + outcome.statements);
    recordTally({ area: 'hostile', kind: rule.kind, count: outcome.statements, outcome: 'refused or saw nothing; central data and catalog unchanged' });
  });

  it("kiosk B's session survived the attempt to terminate it", async () => {
    const { rows } = await sessionOfB.query<{ n: number }>('SELECT 1 AS n');
    expect(rows).toEqual([{ n: 1 }]);
  });

  it('positive controls: the same login does see its own punch, its roster and templates', async () => {
    // Without these, "no rows" above could mean an empty or broken database rather than a policy at work.
    const client = await kioskLogin(world().a.settings);
    try {
      const punches = await client.query<{ id: string }>('SELECT id FROM punches');
      expect(punches.rows.map((r) => r.id)).toContain(world().ownPunch);
      const employees = await client.query<{ employee_no: string }>('SELECT employee_no FROM employees ORDER BY 1');
      expect(employees.rows.map((r) => r.employee_no)).toEqual(['N-1', 'N-2', 'N-GONE', 'N-OFF']);
      const templates = await client.query('SELECT 1 FROM face_templates');
      expect(templates.rowCount).toBe(2);
      const heartbeat = await client.query("SELECT kiosk_heartbeat($1, 'roles-test') AS now", [world().a.id]);
      expect(heartbeat.rows[0]?.now).toBeInstanceOf(Date);
      // And a punch of an active employee of its own site, under its own id.
      expect((await client.query(punchInsert(randomUUID(), world().northEmployees[1] ?? 0, world().a.id))).rowCount).toBe(1);
    } finally {
      await client.end();
    }
  });

  it('a forged received_at is replaced by the server clock', async () => {
    const id = randomUUID();
    const client = await kioskLogin(world().a.settings);
    try {
      await client.query(punchInsert(id, world().northEmployees[0] ?? 0, world().a.id, "'2001-01-01T00:00:00Z'"));
    } finally {
      await client.end();
    }
    const { rows } = await admin.query<{ fresh: boolean }>(
      "SELECT received_at > now() - interval '1 hour' AS fresh FROM punches WHERE id = $1",
      [id],
    );
    expect(rows).toEqual([{ fresh: true }]);
    recordTally({ area: 'hostile', kind: FORGED, count: 1, outcome: 'received_at set by the server, never by the kiosk' });
  });

  it('kiosk_enrol inside its rules: a new employee lands at its own site, templates marked as from a kiosk', async () => {
    const client = await kioskLogin(world().a.settings);
    try {
      const { rows } = await client.query<{ templates_added: number }>(enrol, [
        world().a.id, 'N-3', 'Nora North', FACE_MODEL_ID, vectorArray([randomDescriptor(random), randomDescriptor(random)]),
      ]);
      expect(rows[0]?.templates_added).toBe(2);
    } finally {
      await client.end();
    }
    const { rows } = await admin.query(
      `SELECT e.site, array_agg(DISTINCT t.source) AS sources, array_agg(DISTINCT t.enrolled_by_kiosk::int) AS kiosks,
              e.enrolled_by_kiosk::int AS created_by
       FROM employees e JOIN face_templates t ON t.employee_id = e.id
       WHERE e.employee_no = 'N-3' GROUP BY e.site, e.enrolled_by_kiosk`,
    );
    // Visible to IT: which kiosk added the person and their faces (`clockface kiosk list` counts them).
    expect(rows).toEqual([{ site: 'north', sources: ['kiosk'], kiosks: [world().a.id], created_by: world().a.id }]);
  });

  it('a kiosk marked revoked can do nothing in a session that outlived the revocation', async () => {
    // revokeKiosk ends open sessions; this proves the second line too: were a session to survive (a race with
    // the termination), the policies no longer know it as a kiosk, even through temp tables.
    const d = await registerKiosk(admin, central.url, { name: 'doomed-door', site: 'north' });
    const session = await kioskLogin(d.settings);
    try {
      await admin.query('UPDATE kiosks SET revoked_at = now() WHERE id = $1', [d.id]);
      let statements = 0;
      const run = async (text: string, params: unknown[] = []) => {
        statements++;
        return session.query(text, params);
      };
      expect((await run('SELECT 1 FROM employees')).rowCount).toBe(0);
      expect((await run('SELECT 1 FROM face_templates')).rowCount).toBe(0);
      expect((await run('SELECT 1 FROM roster_changes')).rowCount).toBe(0);
      await expect(run(punchInsert(randomUUID(), world().northEmployees[0] ?? 0, d.id))).rejects.toMatchObject({ code: INSUFFICIENT_PRIVILEGE });
      await expect(run("SELECT * FROM kiosk_last_punches($1, '-infinity')", [d.id])).rejects.toMatchObject({ code: INSUFFICIENT_PRIVILEGE });
      await expect(run(enrol, [d.id, 'N-1', null, FACE_MODEL_ID, vectorArray([randomDescriptor(random)])])).rejects.toMatchObject({
        code: INSUFFICIENT_PRIVILEGE,
      });
      await expect(run('CREATE TEMP TABLE kiosks (id bigint, role_name name, site text, revoked_at timestamptz)')).rejects.toMatchObject({
        code: INSUFFICIENT_PRIVILEGE,
      });
      await expect(run("SELECT kiosk_heartbeat($1, 'zombie')", [d.id])).rejects.toMatchObject({ code: 'CFK04' });
      recordTally({ area: 'hostile', kind: 'revoked kiosk: session that outlived the revocation', count: statements, outcome: 'saw nothing, wrote nothing' });
    } finally {
      await session.end().catch(() => undefined);
    }
  });

  it('revokeKiosk ends open sessions (idle and mid-transaction) and the login is refused with CENTRAL_AUTH_FAILED', async () => {
    const d = await registerKiosk(admin, central.url, { name: 'stolen-door', site: 'north' });
    const idle = await kioskLogin(d.settings);
    const busy = await kioskLogin(d.settings);
    const punchId = randomUUID();
    try {
      await busy.query('BEGIN');
      await busy.query(punchInsert(punchId, world().northEmployees[0] ?? 0, d.id));
      await revokeKiosk(admin, 'stolen-door');
      // The termination is a signal: wait until the server has let both sessions go (behaviour, not a timing).
      for (let i = 0; i < 100; i++) {
        const { rows } = await admin.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = $1', [d.settings.roleName]);
        if (rows[0]?.n === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await expect(idle.query('SELECT 1')).rejects.toThrow();
      await expect(busy.query('COMMIT')).rejects.toThrow();
      const { rows } = await admin.query('SELECT 1 FROM punches WHERE id = $1', [punchId]);
      expect(rows).toEqual([]); // the open transaction died with its session
      let refused: unknown;
      try {
        const again = await kioskLogin(d.settings);
        await again.end();
      } catch (e) {
        refused = e;
      }
      expect(refused).toMatchObject({ code: 'CENTRAL_AUTH_FAILED', message: expect.stringMatching(/refused the login/) });
      recordTally({ area: 'hostile', kind: 'revoked kiosk: open sessions and new login', count: 3, outcome: 'sessions ended; login refused with CENTRAL_AUTH_FAILED' });
    } finally {
      await idle.end().catch(() => undefined);
      await busy.end().catch(() => undefined);
    }
  });

  it('every SECURITY DEFINER function and every policy helper pins its search_path, with pg_temp last', async () => {
    const { rows } = await admin.query<{ fn: string; config: string[] | null }>(
      `SELECT f.oid::regprocedure::text AS fn, f.proconfig AS config FROM pg_proc f
       WHERE f.pronamespace = 'public'::regnamespace
         AND (f.prosecdef OR f.proname IN ('clockface_current_kiosk_id', 'clockface_kiosk_sites'))
       ORDER BY 1`,
    );
    expect(rows.length).toBeGreaterThanOrEqual(5);
    for (const r of rows) {
      const path = (r.config ?? []).find((c) => c.startsWith('search_path='));
      expect(path, r.fn).toBeDefined();
      expect(path?.replace(/\s/g, ''), r.fn).toMatch(/^search_path=(pg_catalog,)?public,pg_temp$/);
    }
  });
});
