import type pg from 'pg';
import { ClockfaceError } from '../../shared/errors.js';
import { connectCentral } from '../central/connect.js';
import { hashSecret, verifySecret } from '../security/pin-hash.js';
import type { ConsoleRole } from './sessions.js';

/** Where the console's central is, and whether it can tell logins apart. */
export interface ConsoleCentral {
  /** The central URL without credentials of anyone signing in (server), or the embedded central's URL. */
  url: string;
  /** The embedded central: one admin account of the console's own (console_accounts). */
  embedded: boolean;
}

export type SignInOutcome =
  | { ok: true; login: string; role: ConsoleRole; client: pg.Client }
  | { ok: false; reason: 'wrong' | 'not_console_login' | 'unreachable' | 'setup_needed' };

const SESSION_STATEMENT_TIMEOUT_MS = 60_000;
export const ADMIN_LOGIN = /^[a-z][a-z0-9._-]{1,62}$/;
export const MIN_ADMIN_PASSWORD = 12;

function connect(url: string): Promise<pg.Client> {
  return connectCentral(
    { url, embeddedDefault: false },
    { applicationName: 'clockface-console', statementTimeoutMs: SESSION_STATEMENT_TIMEOUT_MS, queryTimeoutMs: 2 * SESSION_STATEMENT_TIMEOUT_MS },
  );
}

function withCredentials(url: string, login: string, password: string): string {
  const u = new URL(url);
  u.username = encodeURIComponent(login);
  u.password = encodeURIComponent(password);
  return u.toString();
}

/** What a login is to the console: a member of this database's admin group, a registered supervisor, or neither. */
async function consoleRole(client: pg.ClientBase): Promise<ConsoleRole | null> {
  const { rows } = await client.query<{ roles: boolean; supervisors: boolean }>(
    "SELECT has_table_privilege('clockface_roles', 'SELECT') AS roles, has_table_privilege('supervisors', 'SELECT') AS supervisors",
  );
  const can = rows[0];
  if (can?.roles) {
    const admin = await client.query(
      "SELECT 1 FROM clockface_roles WHERE kind = 'admin' AND pg_has_role(session_user, role_name, 'member')",
    );
    if (admin.rowCount) return 'admin';
  }
  if (can?.supervisors) {
    const supervisor = await client.query('SELECT 1 FROM supervisors WHERE role_name = session_user');
    if (supervisor.rowCount) return 'supervisor';
  }
  return null;
}

// Compared against when there is no account, so that a wrong name costs as long as a wrong password.
let decoy: Promise<string> | null = null;

/**
 * Signs someone in. On a server: a connection as their own login (central checks the password) that must belong to
 * IT or a supervisor; it becomes the session's. On the embedded central: the console's admin account, checked here.
 */
export async function signIn(central: ConsoleCentral, login: string, password: string): Promise<SignInOutcome> {
  if (login === '' || password === '') return { ok: false, reason: 'wrong' };
  if (central.embedded) return signInEmbedded(central, login.toLowerCase(), password);
  let client: pg.Client;
  try {
    client = await connect(withCredentials(central.url, login, password));
  } catch (e) {
    if (e instanceof ClockfaceError && e.code === 'CENTRAL_AUTH_FAILED') return { ok: false, reason: 'wrong' };
    if (e instanceof ClockfaceError && e.code === 'CENTRAL_UNREACHABLE') return { ok: false, reason: 'unreachable' };
    throw e;
  }
  try {
    const role = await consoleRole(client);
    if (role === null) {
      await client.end();
      return { ok: false, reason: 'not_console_login' };
    }
    return { ok: true, login, role, client };
  } catch (e) {
    await client.end().catch(() => undefined);
    throw e;
  }
}

async function signInEmbedded(central: ConsoleCentral, login: string, password: string): Promise<SignInOutcome> {
  let client: pg.Client;
  try {
    client = await connect(central.url);
  } catch (e) {
    if (e instanceof ClockfaceError && e.code === 'CENTRAL_UNREACHABLE') return { ok: false, reason: 'unreachable' };
    throw e;
  }
  try {
    const { rows } = await client.query<{ login: string; password_hash: string }>('SELECT login, password_hash FROM console_accounts');
    if (rows.length === 0) {
      await client.end();
      return { ok: false, reason: 'setup_needed' };
    }
    const account = rows.find((r) => r.login === login);
    decoy ??= hashSecret('clockface-decoy-password');
    const matches = await verifySecret(password, account?.password_hash ?? (await decoy));
    if (!account || !matches) {
      await client.end();
      return { ok: false, reason: 'wrong' };
    }
    return { ok: true, login: account.login, role: 'admin', client };
  } catch (e) {
    await client.end().catch(() => undefined);
    throw e;
  }
}

/** Whether the embedded central still needs its admin account chosen. */
export async function embeddedSetupNeeded(central: ConsoleCentral): Promise<boolean> {
  if (!central.embedded) return false;
  const client = await connect(central.url);
  try {
    const { rows } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM console_accounts');
    return (rows[0]?.n ?? 0) === 0;
  } finally {
    await client.end();
  }
}

/**
 * First run on the embedded central: the admin account. Only while there is none (the INSERT checks again, so two
 * people racing cannot both choose one).
 */
export async function createEmbeddedAdmin(central: ConsoleCentral, login: string, password: string): Promise<'created' | 'exists'> {
  if (!ADMIN_LOGIN.test(login)) throw new ClockfaceError('INVALID_ARGUMENT', 'a login is 2 to 63 lower-case letters, digits, dots, dashes or underscores, starting with a letter');
  if (password.length < MIN_ADMIN_PASSWORD) throw new ClockfaceError('INVALID_ARGUMENT', `the password needs at least ${MIN_ADMIN_PASSWORD} characters`);
  const hash = await hashSecret(password);
  const client = await connect(central.url);
  try {
    const result = await client.query(
      'INSERT INTO console_accounts (login, password_hash) SELECT $1, $2 WHERE NOT EXISTS (SELECT 1 FROM console_accounts)',
      [login, hash],
    );
    return result.rowCount === 1 ? 'created' : 'exists';
  } finally {
    await client.end();
  }
}
