import { existsSync, mkdirSync } from 'node:fs';
import { ClockfaceError } from '../../shared/errors.js';
import { lookUpKioskId } from './central/index.js';
import { readKioskSettings, SETTINGS_FILE, writeKioskSettings, type KioskSettings } from './kiosk-settings.js';
import { join } from 'node:path';

/**
 * Makes `dir` a kiosk folder for `settings` (as `kiosk add --json` printed them). Looks up the central kiosk id
 * when the settings lack it, which also proves the login works. Re-running it on the same folder updates the
 * settings (a new password, a replica URL) and keeps the database with its punches; a folder of another kiosk is
 * refused, because its pending punches belong to that kiosk.
 */
export async function initKioskDir(dir: string, settings: KioskSettings): Promise<KioskSettings & { kioskId: number }> {
  const kioskId = settings.kioskId ?? (await lookUpKioskId(settings.url, settings.roleName));
  if (existsSync(join(dir, SETTINGS_FILE))) {
    const existing = readKioskSettings(dir);
    if (existing.kioskId !== undefined && existing.kioskId !== kioskId) {
      throw new ClockfaceError(
        'INVALID_ARGUMENT',
        `${dir} belongs to kiosk ${existing.kioskName} (id ${existing.kioskId}); use a new folder for ${settings.kioskName}`,
      );
    }
  }
  mkdirSync(dir, { recursive: true });
  const complete = { ...settings, kioskId };
  writeKioskSettings(dir, complete);
  return complete;
}
