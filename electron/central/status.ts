import type pg from 'pg';
import { CENTRAL_MIGRATIONS_DIR } from '../config/paths.js';
import { loadMigrationFiles, type MigrationFile } from '../sql/migration-files.js';
import { appliedMigrations } from './migrate.js';
import { databaseRoles, type DatabaseRoles } from './database-roles.js';

export interface CentralStatus {
  server: string;
  pgvector: string | null;
  schemaVersion: number;
  latestKnownVersion: number;
  pendingMigrations: number;
  /**
   * This database's own group roles (migration 0070): grant `admin` to IT logins. Null before 0070. With them, the
   * logins of this database that are members of the admin group and hold CREATEROLE, which on PostgreSQL 15 reaches
   * superuser (docs/security.md): they should not.
   */
  roles: (DatabaseRoles & { adminsWithCreaterole: string[] }) | null;
  /** Null until the schema exists. */
  counts: {
    sites: number;
    employeesActive: number;
    employeesInactive: number;
    faceTemplates: number;
    kiosks: number;
    punches: number;
    rosterChanges: number;
  } | null;
}

export async function centralStatus(
  client: pg.ClientBase,
  files: MigrationFile[] = loadMigrationFiles(CENTRAL_MIGRATIONS_DIR),
): Promise<CentralStatus> {
  const server = await client.query<{ v: string }>('SELECT version() AS v');
  const vector = await client.query<{ v: string }>("SELECT extversion AS v FROM pg_extension WHERE extname = 'vector'");
  const applied = await appliedMigrations(client);
  const schemaVersion = applied.at(-1)?.version ?? 0;
  const latestKnownVersion = files.at(-1)?.version ?? 0;
  const pendingMigrations = files.filter((f) => !applied.some((a) => a.version === f.version)).length;

  let counts: CentralStatus['counts'] = null;
  if (schemaVersion > 0) {
    const { rows } = await client.query<Record<string, string>>(`
      SELECT (SELECT count(*) FROM sites)::text AS sites,
             (SELECT count(*) FROM employees WHERE active)::text AS employees_active,
             (SELECT count(*) FROM employees WHERE NOT active)::text AS employees_inactive,
             (SELECT count(*) FROM face_templates)::text AS face_templates,
             (SELECT count(*) FROM kiosks)::text AS kiosks,
             (SELECT count(*) FROM punches)::text AS punches,
             (SELECT count(*) FROM roster_changes)::text AS roster_changes`);
    const r = rows[0] ?? {};
    const n = (key: string): number => Number(r[key] ?? 0);
    counts = {
      sites: n('sites'),
      employeesActive: n('employees_active'),
      employeesInactive: n('employees_inactive'),
      faceTemplates: n('face_templates'),
      kiosks: n('kiosks'),
      punches: n('punches'),
      rosterChanges: n('roster_changes'),
    };
  }
  let roles: CentralStatus['roles'] = null;
  if (applied.some((a) => a.version >= 70)) {
    const names = await databaseRoles(client);
    const { rows } = await client.query<{ rolname: string }>(
      `SELECT r.rolname FROM pg_roles r WHERE r.rolcreaterole AND NOT r.rolsuper AND pg_has_role(r.oid, $1, 'MEMBER')
       ORDER BY 1`,
      [names.admin],
    );
    roles = { ...names, adminsWithCreaterole: rows.map((r) => r.rolname) };
  }
  return {
    server: server.rows[0]?.v.split(' on ')[0] ?? 'unknown',
    roles,
    pgvector: vector.rows[0]?.v ?? null,
    schemaVersion,
    latestKnownVersion,
    pendingMigrations,
    counts,
  };
}
