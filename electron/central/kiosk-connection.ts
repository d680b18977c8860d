import type pg from 'pg';
import { connectCentral } from './connect.js';
import type { KioskConnectionSettings } from './kiosk-registry.js';

/**
 * A kiosk's connection to central, logged in as the kiosk's own role, so that row-level security limits it to its
 * own punches and the roster of the sites it serves.
 *
 * Hazard: the embedded central ignores the login role and shares one session among all connections, so there a
 * kiosk connection has the superuser's rights. Per-kiosk permissions need a real PostgreSQL server (docs/operations.md).
 */
export function connectAsKiosk(settings: KioskConnectionSettings): Promise<pg.Client> {
  return connectCentral(
    { url: settings.url, embeddedDefault: false },
    { applicationName: `clockface-kiosk:${settings.kioskName}` },
  );
}
