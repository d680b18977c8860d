import { localKioskDir } from '../kiosk/local-kiosk.js';

/** How the kiosk app was started: from its command line, then the environment, then defaults. */
export interface LaunchOptions {
  /** The kiosk folder (kiosk.json + kiosk.db). */
  kioskDir: string;
  /** true / false: add or remove the login item at start; null: leave it as it is. */
  startAtLogin: boolean | null;
  /** Developer tools in the kiosk window (off unless asked: in kiosk mode they are a way out of the screen). */
  devTools: boolean;
}

/**
 * `--kiosk-dir DIR` (or `--kiosk-dir=DIR`), else CLOCKFACE_KIOSK_DIR, else `<Clockface home>/kiosk` (the folder
 * `npm start` makes). `--start-at-login` / `--no-start-at-login`, else CLOCKFACE_START_AT_LOGIN=1|0.
 * `--devtools`, else CLOCKFACE_DEVTOOLS=1. Anything else on the command line (Chromium's switches, the app path
 * in development) is left alone.
 */
export function parseLaunchOptions(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): LaunchOptions {
  let kioskDir: string | null = null;
  let startAtLogin: boolean | null = null;
  let devTools: boolean | null = null;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--kiosk-dir') {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) throw new Error('--kiosk-dir needs a folder');
      kioskDir = next;
      i++;
    } else if (arg.startsWith('--kiosk-dir=')) {
      kioskDir = arg.slice('--kiosk-dir='.length);
      if (kioskDir === '') throw new Error('--kiosk-dir needs a folder');
    } else if (arg === '--start-at-login') startAtLogin = true;
    else if (arg === '--no-start-at-login') startAtLogin = false;
    else if (arg === '--devtools') devTools = true;
  }
  return {
    kioskDir: kioskDir ?? localKioskDir(env),
    startAtLogin: startAtLogin ?? flagFromEnv(env, 'CLOCKFACE_START_AT_LOGIN'),
    devTools: devTools ?? flagFromEnv(env, 'CLOCKFACE_DEVTOOLS') ?? false,
  };
}

function flagFromEnv(env: NodeJS.ProcessEnv, name: string): boolean | null {
  const value = env[name]?.trim().toLowerCase();
  if (value === undefined || value === '') return null;
  if (['1', 'true', 'yes', 'on'].includes(value)) return true;
  if (['0', 'false', 'no', 'off'].includes(value)) return false;
  throw new Error(`${name} must be 1 or 0, got "${env[name] ?? ''}"`);
}
