import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { ClockfaceError } from '../../shared/errors.js';
import { scramSha256Verifier } from '../central/scram.js';
import { query } from './central-call.js';

/** What `supervisor add` shows once: the password is nowhere else (central keeps a SCRAM verifier only). */
export interface RegisteredSupervisor {
  login: string;
  sites: string[];
  password: string;
  /** The central URL with the supervisor's login and password, for the CLI's --database-url. */
  url: string;
}

export interface SupervisorListing {
  login: string;
  sites: string[];
  createdAt: string;
  createdBy: string;
}

function checkedSites(sites: readonly string[] | undefined): string[] {
  if (!sites || sites.length === 0) throw new ClockfaceError('INVALID_ARGUMENT', 'give at least one --site');
  return [...new Set(sites)].sort();
}

function loginUrl(adminUrl: string, login: string, password: string): string {
  const url = new URL(adminUrl);
  url.username = encodeURIComponent(login);
  url.password = encodeURIComponent(password);
  return url.toString();
}

/**
 * Registers a supervisor's own login for some sites through central's `supervisor_register` (the registrar's: IT
 * needs no CREATEROLE). The password is made here and sent only as a SCRAM verifier; central checks the name and
 * the sites.
 */
export async function addSupervisor(
  client: pg.ClientBase,
  adminUrl: string,
  request: { login: string; sites: readonly string[] | undefined },
): Promise<RegisteredSupervisor> {
  const sites = checkedSites(request.sites);
  const password = randomBytes(24).toString('base64url');
  const [row] = await query<{ login: string }>(client, 'SELECT supervisor_register($1, $2, $3::text[]) AS login', [
    request.login,
    scramSha256Verifier(password),
    sites,
  ]);
  if (!row) throw new ClockfaceError('INTERNAL', 'central registered no supervisor');
  return { login: row.login, sites, password, url: loginUrl(adminUrl, row.login, password) };
}

export async function listSupervisors(client: pg.ClientBase): Promise<SupervisorListing[]> {
  const rows = await query<{ role_name: string; sites: string[] | null; created_at: Date; created_by: string }>(
    client,
    `SELECT s.role_name, array_agg(ss.site ORDER BY ss.site) FILTER (WHERE ss.site IS NOT NULL) AS sites, s.created_at, s.created_by
     FROM supervisors s LEFT JOIN supervisor_sites ss ON ss.role_name = s.role_name
     GROUP BY s.role_name, s.created_at, s.created_by ORDER BY s.role_name`,
  );
  return rows.map((r) => ({ login: r.role_name, sites: r.sites ?? [], createdAt: r.created_at.toISOString(), createdBy: r.created_by }));
}

/** Gives a supervisor exactly these sites (`supervisor_set_sites`). */
export async function setSupervisorSites(client: pg.ClientBase, login: string, sites: readonly string[] | undefined): Promise<string[]> {
  const checked = checkedSites(sites);
  await query(client, 'SELECT supervisor_set_sites($1, $2::text[])', [login, checked]);
  return checked;
}

/** Ends the supervisor's sessions and drops the login; its corrections and audit rows keep its name. */
export async function removeSupervisor(client: pg.ClientBase, login: string): Promise<void> {
  await query(client, 'SELECT supervisor_remove($1)', [login]);
}
