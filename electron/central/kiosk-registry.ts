import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { ClockfaceError } from '../../shared/errors.js';
import { scramSha256Verifier } from './scram.js';

/** What a kiosk needs to reach central as itself. Shown once by `kiosk add`; central keeps only a verifier. */
export interface KioskConnectionSettings {
  kioskName: string;
  site: string;
  roleName: string;
  /** A URL with the kiosk's own role and password. */
  url: string;
}

export interface RegisteredKiosk {
  id: number;
  settings: KioskConnectionSettings;
}

const KIOSK_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** Role names are cluster-wide: a random suffix keeps two databases on one server (or two tests) apart. */
function kioskRoleName(kioskName: string): string {
  const slug = kioskName.toLowerCase().replace(/[^a-z0-9_]/g, '_').slice(0, 32);
  return `clockface_kiosk_${slug}_${randomBytes(4).toString('hex')}`;
}

function kioskUrl(adminUrl: string, roleName: string, password: string): string {
  const url = new URL(adminUrl);
  url.username = encodeURIComponent(roleName);
  url.password = encodeURIComponent(password);
  return url.toString();
}

/**
 * Creates the kiosk row and its LOGIN role (member of clockface_kiosk) in one transaction.
 * Needs a connection allowed to create roles (the database owner with CREATEROLE, or a superuser).
 */
export async function registerKiosk(
  client: pg.ClientBase,
  adminUrl: string,
  kiosk: { name: string; site: string },
): Promise<RegisteredKiosk> {
  if (!KIOSK_NAME.test(kiosk.name)) {
    throw new ClockfaceError('INVALID_ARGUMENT', `invalid kiosk name "${kiosk.name}" (letters, digits, _ . -)`);
  }
  const roleName = kioskRoleName(kiosk.name);
  const password = randomBytes(24).toString('base64url');
  await client.query('BEGIN');
  try {
    const site = await client.query('SELECT 1 FROM sites WHERE code = $1', [kiosk.site]);
    if (site.rowCount === 0) throw new ClockfaceError('SITE_NOT_FOUND', `no site "${kiosk.site}"`);
    const existing = await client.query('SELECT 1 FROM kiosks WHERE name = $1', [kiosk.name]);
    if ((existing.rowCount ?? 0) > 0) throw new ClockfaceError('KIOSK_EXISTS', `a kiosk named "${kiosk.name}" exists`);
    await client.query(
      `CREATE ROLE ${client.escapeIdentifier(roleName)} LOGIN IN ROLE clockface_kiosk ` +
        `PASSWORD ${client.escapeLiteral(scramSha256Verifier(password))}`,
    );
    const { rows } = await client.query<{ id: string }>(
      'INSERT INTO kiosks (name, role_name, site) VALUES ($1, $2, $3) RETURNING id::text',
      [kiosk.name, roleName, kiosk.site],
    );
    await client.query('COMMIT');
    return {
      id: Number(rows[0]?.id),
      settings: { kioskName: kiosk.name, site: kiosk.site, roleName, url: kioskUrl(adminUrl, roleName, password) },
    };
  } catch (e) {
    await client.query('ROLLBACK');
    throw e;
  }
}

/** Stops the kiosk's role from logging in and ends its open sessions. Its punches stay. */
export async function revokeKiosk(client: pg.ClientBase, name: string): Promise<void> {
  const { rows } = await client.query<{ role_name: string }>(
    'UPDATE kiosks SET revoked_at = coalesce(revoked_at, now()) WHERE name = $1 RETURNING role_name',
    [name],
  );
  const role = rows[0]?.role_name;
  if (role === undefined) throw new ClockfaceError('KIOSK_NOT_FOUND', `no kiosk named "${name}"`);
  await client.query(`ALTER ROLE ${client.escapeIdentifier(role)} NOLOGIN`);
  await client.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1', [role]);
}
