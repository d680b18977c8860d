import { randomBytes } from 'node:crypto';
import type pg from 'pg';

/**
 * The group roles of ONE Clockface database.
 *
 * PostgreSQL roles are cluster-wide, tables are per database. Before migration 0070 every Clockface database on a
 * server shared `clockface_admin` and `clockface_kiosk`, so an IT login of one database was an administrator of all
 * of them (it read another database's PIN hashes and could set its kiosks' passwords). Since 0070 each database has
 * its own groups, named after it and recorded in its `clockface_roles` table:
 *
 * - `kiosk`: every kiosk's own LOGIN role is a member; row-level security keys kiosk rights on the login.
 * - `admin`: IT logins are members (granted by the database administrator); no CREATEROLE needed.
 * - `registrar`: NOLOGIN, CREATEROLE, no members. It owns the SECURITY DEFINER functions that create, revoke and drop
 *   kiosk and supervisor logins, so that nobody who can log in needs CREATEROLE (on PostgreSQL 15 CREATEROLE reaches
 *   superuser).
 * - `supervisor` (since 0100): each supervisor's own LOGIN role is a member; row-level security limits it to its sites.
 * - `watch` (since 0170): the one login pooled kiosks share to look at the roster head (roster_watch_head only).
 */
export const DATABASE_ROLE_KINDS = ['kiosk', 'admin', 'registrar', 'supervisor', 'watch'] as const;
export type DatabaseRoleKind = (typeof DATABASE_ROLE_KINDS)[number];
export type DatabaseRoles = Record<DatabaseRoleKind, string>;

/**
 * PostgreSQL truncates names at 63 bytes: "clockface_" + slug + a 7-character tag + the longest suffix, "_supervisor",
 * stays within them.
 */
const MAX_SLUG = 34;

/** The group kinds a database had from 0070 on; later kinds are added by later migrations. */
const FIRST_KINDS: readonly DatabaseRoleKind[] = ['kiosk', 'admin', 'registrar'];

async function recordedRoles(client: pg.ClientBase): Promise<DatabaseRoles | null> {
  const { rows: exists } = await client.query<{ x: boolean }>(
    "SELECT to_regclass('public.clockface_roles') IS NOT NULL AS x",
  );
  if (!exists[0]?.x) return null;
  const { rows } = await client.query<{ kind: string; role_name: string }>('SELECT kind, role_name FROM clockface_roles');
  const found = new Map(rows.map((r) => [r.kind, r.role_name]));
  const roles: Partial<DatabaseRoles> = {};
  for (const kind of FIRST_KINDS) {
    const name = found.get(kind);
    if (name === undefined) throw new Error(`clockface_roles has no "${kind}" role; the database was changed by hand`);
    roles[kind] = name;
  }
  // A kind a later migration adds (supervisor, 0100) is named like the others: the admin group's prefix.
  for (const kind of DATABASE_ROLE_KINDS) {
    roles[kind] ??= found.get(kind) ?? (await freeName(client, `${(roles.admin ?? '').replace(/_admin$/, '')}_${kind}`));
  }
  return roles as DatabaseRoles;
}

/** `name`, or `name` with a random tag when a role of that name exists already (someone else's: never reused). */
async function freeName(client: pg.ClientBase, name: string): Promise<string> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const candidate = attempt === 0 ? name : `${name}_${randomBytes(3).toString('hex')}`;
    const taken = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [candidate]);
    if (taken.rowCount === 0) return candidate;
  }
  throw new Error(`cannot find a free role name for ${name}`);
}

/**
 * This database's group roles: as recorded, or (before migration 0070 has run) the names 0070 will create:
 * `clockface_<database>_<kind>`, with a random tag when a role of that name already exists, since a role someone else
 * made beforehand must never be handed this database's rights.
 */
export async function databaseRoles(client: pg.ClientBase): Promise<DatabaseRoles> {
  const recorded = await recordedRoles(client);
  if (recorded) return recorded;
  const { rows } = await client.query<{ db: string }>('SELECT current_database() AS db');
  const slug =
    (rows[0]?.db ?? 'db')
      .toLowerCase()
      .replace(/[^a-z0-9_]+/g, '_')
      .replace(/^_+|_+$/g, '')
      .slice(0, MAX_SLUG) || 'db';
  for (let attempt = 0; ; attempt++) {
    const prefix = attempt === 0 ? `clockface_${slug}` : `clockface_${slug}_${randomBytes(3).toString('hex')}`;
    const names = Object.fromEntries(DATABASE_ROLE_KINDS.map((k) => [k, `${prefix}_${k}`])) as DatabaseRoles;
    const taken = await client.query('SELECT 1 FROM pg_roles WHERE rolname = ANY($1)', [Object.values(names)]);
    if (taken.rowCount === 0) return names;
    if (attempt >= 10) throw new Error('cannot find free role names for this database');
  }
}

const PLACEHOLDER = /\{\{([a-z_]+)(:literal)?\}\}/g;

/**
 * Fills a migration's role placeholders: `{{admin}}` becomes the quoted identifier of this database's admin group,
 * `{{admin:literal}}` its name as a string literal (for pg_has_role and the like). The checksum is of the file as
 * shipped, placeholders and all, so it is the same on every database.
 */
export function renderMigrationSql(sql: string, roles: DatabaseRoles): string {
  return sql.replace(PLACEHOLDER, (match, kind: string, literal: string | undefined) => {
    if (!(DATABASE_ROLE_KINDS as readonly string[]).includes(kind)) throw new Error(`unknown placeholder ${match} in a migration`);
    const name = roles[kind as DatabaseRoleKind];
    return literal ? `'${name.replaceAll("'", "''")}'` : `"${name.replaceAll('"', '""')}"`;
  });
}
