import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createLogger } from '../../shared/logger.js';
import { clockfaceHome } from '../config/paths.js';
import { registerFirstRunKiosk, type CentralSession } from './central/index.js';
import { initKioskDir } from './kiosk-init.js';
import { parseKioskSettings, SETTINGS_FILE } from './kiosk-settings.js';

const log = createLogger('kiosk.local');
const require = createRequire(import.meta.url);

/** The kiosk folder `npm start` uses on this machine. */
export function localKioskDir(env: NodeJS.ProcessEnv = process.env): string {
  return env['CLOCKFACE_KIOSK_DIR'] ?? join(clockfaceHome(env), 'kiosk');
}

/** The site a first-run kiosk is registered at when IT has not set anything up (one machine, a trial). */
export const LOCAL_SITE = 'main';
export const LOCAL_KIOSK_NAME = 'this-kiosk';

/**
 * `npm start` on a fresh machine: the kiosk folder exists, or this makes it, registering a kiosk named
 * `this-kiosk` at site `main` (created with time zone UTC when missing) on the central it was given. A folder made
 * before is used as it is. Returns the folder.
 */
export async function ensureLocalKiosk(admin: CentralSession, adminUrl: string, dir: string = localKioskDir()): Promise<string> {
  if (existsSync(join(dir, SETTINGS_FILE))) return dir;
  const { id, name, settings } = await registerFirstRunKiosk(admin, adminUrl, {
    name: LOCAL_KIOSK_NAME,
    site: LOCAL_SITE,
    siteName: 'Main site',
    // Only to tell a reinstall's kiosk from the lost one: not a time anyone reads.
    suffix: randomBytes(4).toString('hex'),
  });
  await initKioskDir(dir, parseKioskSettings({ ...settings, kioskId: id }, 'the first-run kiosk'));
  log.info('first run: kiosk registered', { name, site: LOCAL_SITE });
  return dir;
}

/**
 * The Electron binary, or null with the reason. The npm package downloads its binary on first use (since Electron
 * 42), so a machine with internet gets it here, once; on machines without (these development machines: docs/kiosk.md, "Electron app and packaging") the download fails
 * and the kiosk runs in browser mode. The download's own output is kept out of the console: one line says what
 * happened.
 */
export function electronBinary(): { path: string } | { path: null; reason: string } {
  let dir: string;
  try {
    dir = dirname(require.resolve('electron/package.json'));
  } catch {
    return { path: null, reason: 'the electron package is not installed' };
  }
  const installed = (): string | null => {
    const pathFile = join(dir, 'path.txt');
    if (!existsSync(pathFile)) return null;
    const binary = join(dir, 'dist', readFileSync(pathFile, 'utf8').trim());
    return existsSync(binary) ? binary : null;
  };
  const ready = installed();
  if (ready) return { path: ready };
  console.log('Downloading the Electron binary (first start only)…');
  const download = spawnSync(process.execPath, [join(dir, 'install.js')], { encoding: 'utf8', timeout: 300_000 });
  const after = installed();
  if (after) return { path: after };
  const why = `${download.stderr ?? ''}${download.stdout ?? ''}`.split('\n').find((l) => /error|fail/i.test(l))?.trim();
  return { path: null, reason: `its download failed${why ? `: ${why.slice(0, 160)}` : ''}` };
}
