import { ClockfaceError } from '../../../shared/errors.js';
import { connectCentral } from '../../central/connect.js';
import { registerKiosk, type RegisteredKiosk } from '../../central/kiosk-registry.js';
import { closeSession, type CentralSession } from './session.js';

/** Central's id of the active kiosk a login belongs to; connecting also proves the login works (`kiosk init`). */
export async function lookUpKioskId(url: string, roleName: string): Promise<number> {
  const session = await connectCentral({ url, embeddedDefault: false }, { applicationName: 'clockface-kiosk-init' });
  try {
    const { rows } = await session.query<{ id: number }>('SELECT id::int AS id FROM kiosks WHERE role_name = $1 AND revoked_at IS NULL', [roleName]);
    const id = rows[0]?.id;
    if (id === undefined) throw new ClockfaceError('KIOSK_REFUSED', `central has no active kiosk for role ${roleName}`);
    return id;
  } finally {
    await closeSession(session);
  }
}

/**
 * Registers a first-run kiosk on an IT login's session (`npm start` on a fresh machine): the site is created with
 * time zone UTC when missing; a kiosk of that name already there (a reinstall whose folder is gone) gets a sibling
 * named with `suffix` rather than reuse a lost password.
 */
export async function registerFirstRunKiosk(
  admin: CentralSession,
  adminUrl: string,
  kiosk: { name: string; site: string; siteName: string; suffix: string },
): Promise<RegisteredKiosk & { name: string }> {
  await admin.query("INSERT INTO sites (code, name, time_zone) VALUES ($1, $2, 'UTC') ON CONFLICT (code) DO NOTHING", [kiosk.site, kiosk.siteName]);
  const existing = await admin.query('SELECT 1 FROM kiosks WHERE name = $1', [kiosk.name]);
  const name = (existing.rowCount ?? 0) > 0 ? `${kiosk.name}-${kiosk.suffix}` : kiosk.name;
  return { ...(await registerKiosk(admin, adminUrl, { name, site: kiosk.site })), name };
}
