import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { ClockfaceError } from '../../shared/errors.js';
import { scramSha256Verifier } from './scram.js';
import { explainSqlError } from './sql-errors.js';

/** What a kiosk needs to reach central as itself. Shown once by `kiosk add`; central keeps only a verifier. */
export interface KioskConnectionSettings {
  kioskName: string;
  site: string;
  roleName: string;
  /** A URL with the kiosk's own role and password. */
  url: string;
  /** Behind a transaction pooler (`kiosk add --pooler-url`): see kiosk.json's `pooler`. */
  pooler?: 'transaction';
  /** The shared login pooled kiosks look at the roster head with (central 0170). */
  watchLogin?: { user: string; password: string };
}

/** Where a kiosk reaches central: the admin's own address, or a transaction pooler in front of it. */
export interface KioskRoute {
  /** PgBouncer's address in transaction mode (postgres://host:6432/database): the kiosk's url leads there. */
  poolerUrl?: string | undefined;
}

/** What is wrong with a pooler address, which must be a postgres:// URL without a login (each kiosk brings its own). */
export type PoolerUrlProblem = 'not-a-url' | 'not-postgres' | 'has-login';

/** The CLI's `--pooler-url` and the console's Kiosks page check the address alike, and word the problem their way. */
export function poolerUrlProblem(value: string): PoolerUrlProblem | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'not-a-url';
  }
  if (!/^postgres(ql)?:$/.test(url.protocol)) return 'not-postgres';
  return url.username || url.password ? 'has-login' : null;
}

export interface RegisteredKiosk {
  id: number;
  settings: KioskConnectionSettings;
}

/** A kiosk's name: it becomes part of its login role's name and of file names, so a plain token. */
export const KIOSK_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** Sessions a kiosk login may hold at once (it uses about 3: listen, upload, sync). */
export const KIOSK_CONNECTION_LIMIT = 8;

function kioskUrl(adminUrl: string, roleName: string, password: string): string {
  const url = new URL(adminUrl);
  url.username = encodeURIComponent(roleName);
  url.password = encodeURIComponent(password);
  return url.toString();
}

/** Runs one of central's kiosk-login functions, turning its SQLSTATEs into ClockfaceErrors. */
async function call<T extends pg.QueryResultRow>(client: pg.ClientBase, text: string, params: unknown[]): Promise<T[]> {
  try {
    return (await client.query<T>(text, params)).rows;
  } catch (e) {
    throw explainSqlError(e);
  }
}

/**
 * Creates the kiosk row and its LOGIN role through central's kiosk_register (migration 0070), which runs as the
 * database's registrar role: the caller needs no CREATEROLE, only membership in the database's admin group (or to be
 * its owner). The password is made here and sent only as a SCRAM verifier.
 */
export async function registerKiosk(
  client: pg.ClientBase,
  adminUrl: string,
  kiosk: { name: string; site: string },
  route: KioskRoute = {},
): Promise<RegisteredKiosk> {
  if (!KIOSK_NAME.test(kiosk.name)) {
    throw new ClockfaceError('INVALID_ARGUMENT', `invalid kiosk name "${kiosk.name}" (letters, digits, _ . -)`);
  }
  const password = randomBytes(24).toString('base64url');
  const [row] = await call<{ kiosk_id: string; role_name: string }>(
    client,
    'SELECT kiosk_id::text, role_name FROM kiosk_register($1, $2, $3, $4)',
    [kiosk.name, kiosk.site, scramSha256Verifier(password), KIOSK_CONNECTION_LIMIT],
  );
  if (!row) throw new ClockfaceError('INTERNAL', 'central registered no kiosk');
  return {
    id: Number(row.kiosk_id),
    settings: await routedSettings(client, adminUrl, route, { kioskName: kiosk.name, site: kiosk.site, roleName: row.role_name, password }),
  };
}

/**
 * A kiosk's settings for its route: directly to central at the admin's address, or through the pooler with the shared
 * watch login (made on first use by central's kiosk_watch_login, kept there for the next kiosk).
 */
async function routedSettings(
  client: pg.ClientBase,
  adminUrl: string,
  route: KioskRoute,
  kiosk: { kioskName: string; site: string; roleName: string; password: string },
): Promise<KioskConnectionSettings> {
  const base = { kioskName: kiosk.kioskName, site: kiosk.site, roleName: kiosk.roleName };
  if (!route.poolerUrl) return { ...base, url: kioskUrl(adminUrl, kiosk.roleName, kiosk.password) };
  const fresh = randomBytes(24).toString('base64url');
  const [watch] = await call<{ role_name: string; password: string }>(
    client,
    'SELECT role_name, password FROM kiosk_watch_login($1, $2)',
    [fresh, scramSha256Verifier(fresh)],
  );
  if (!watch) throw new ClockfaceError('INTERNAL', 'central returned no watch login');
  return {
    ...base,
    url: kioskUrl(poolerDatabaseUrl(route.poolerUrl, adminUrl), kiosk.roleName, kiosk.password),
    pooler: 'transaction',
    watchLogin: { user: watch.role_name, password: watch.password },
  };
}

/** The pooler's URL with the admin URL's database when it names none (PgBouncer's database names the same one). */
function poolerDatabaseUrl(poolerUrl: string, adminUrl: string): string {
  const pooler = new URL(poolerUrl);
  if (pooler.pathname === '' || pooler.pathname === '/') pooler.pathname = new URL(adminUrl).pathname;
  return pooler.toString();
}

export interface RevokedKiosk {
  roleName: string;
  /** Sessions ended, by the revocation and by the pass after it. */
  sessionsEnded: number;
}

/**
 * Stops the kiosk's login and ends its sessions, in one transaction on central (kiosk_revoke); then ends, once more,
 * any session that logged in while that transaction was running (a login sees the role as committed). Its punches
 * stay.
 */
export async function revokeKiosk(client: pg.ClientBase, name: string): Promise<RevokedKiosk> {
  const [row] = await call<{ role_name: string; sessions_ended: number }>(
    client,
    'SELECT role_name, sessions_ended FROM kiosk_revoke($1)',
    [name],
  );
  const [late] = await call<{ n: number }>(client, 'SELECT kiosk_end_sessions($1) AS n', [name]);
  return { roleName: row?.role_name ?? '', sessionsEnded: (row?.sessions_ended ?? 0) + (late?.n ?? 0) };
}

/** Revokes (if needed) and drops the kiosk's login and what it owns on central; the row stays for its punches. */
export async function dropKiosk(client: pg.ClientBase, name: string): Promise<string> {
  const [row] = await call<{ role_name: string }>(client, 'SELECT kiosk_drop($1) AS role_name', [name]);
  return row?.role_name ?? '';
}

/**
 * A new password for a registered kiosk: for a password that leaked, or that someone holding it changed. Ends every
 * session of the old password. Returns the kiosk's new connection settings (shown once, like `kiosk add`).
 */
export async function rekeyKiosk(client: pg.ClientBase, adminUrl: string, name: string, route: KioskRoute = {}): Promise<RegisteredKiosk> {
  const [kiosk] = await call<{ id: string; site: string; role_name: string }>(
    client,
    'SELECT id::text, site, role_name FROM kiosks WHERE name = $1',
    [name],
  );
  if (!kiosk) throw new ClockfaceError('KIOSK_NOT_FOUND', `no kiosk named "${name}"`);
  const password = randomBytes(24).toString('base64url');
  await call(client, 'SELECT kiosk_rekey($1, $2)', [name, scramSha256Verifier(password)]);
  return {
    id: Number(kiosk.id),
    settings: await routedSettings(client, adminUrl, route, { kioskName: name, site: kiosk.site, roleName: kiosk.role_name, password }),
  };
}
