import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../shared/logger.js';
import type { AppLike } from './electron-like.js';

const log = createLogger('kiosk.main');

export const AUTOSTART_FILE = 'clockface-kiosk.desktop';

export interface LoginItemTarget {
  platform: NodeJS.Platform;
  app: Pick<AppLike, 'setLoginItemSettings'>;
  /** The command that starts this kiosk: program, then arguments. */
  command: readonly string[];
  /** Linux: the XDG autostart folder. */
  autostartDir: string;
}

/**
 * The command line that starts this kiosk again: the AppImage file when running from one (its mount point changes
 * at every start), else the executable; in development, Electron plus the app folder. The kiosk folder is passed
 * explicitly so that a login start opens the same kiosk.
 */
export function loginCommand(input: {
  execPath: string;
  appImage: string | undefined;
  isPackaged: boolean;
  appRoot: string;
  kioskDir: string;
}): string[] {
  const program = input.appImage ?? input.execPath;
  return [program, ...(input.isPackaged ? [] : [input.appRoot]), `--kiosk-dir=${input.kioskDir}`];
}

export function defaultAutostartDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env['XDG_CONFIG_HOME'] || join(homedir(), '.config'), 'autostart');
}

/**
 * Starts the kiosk when the kiosk account logs in (or stops doing so). Windows and macOS: Electron's login item.
 * Linux, where Electron has none: an XDG autostart entry, which GNOME, KDE, Xfce and most kiosk sessions honour.
 */
export function applyStartAtLogin(enabled: boolean, target: LoginItemTarget): void {
  if (target.platform === 'linux') {
    const file = join(target.autostartDir, AUTOSTART_FILE);
    if (enabled) {
      mkdirSync(target.autostartDir, { recursive: true });
      writeFileSync(file, desktopEntry(target.command));
    } else {
      rmSync(file, { force: true });
    }
  } else {
    const [path, ...args] = target.command;
    target.app.setLoginItemSettings({
      openAtLogin: enabled,
      // Windows runs `path args`; macOS starts the app bundle itself (it takes neither).
      ...(target.platform === 'win32' && path !== undefined ? { path, args } : {}),
    });
  }
  log.info('start at login set', { enabled, platform: target.platform });
}

/** A Desktop Entry whose Exec line runs `command` (every argument quoted as the specification asks). */
export function desktopEntry(command: readonly string[]): string {
  return [
    '[Desktop Entry]',
    'Type=Application',
    'Name=Clockface kiosk',
    'Comment=Face-recognition attendance kiosk',
    `Exec=${command.map(execArgument).join(' ')}`,
    'Terminal=false',
    'X-GNOME-Autostart-enabled=true',
    '',
  ].join('\n');
}

/**
 * One Exec argument: in double quotes with `"`, `` ` ``, `$` and `\` escaped by a backslash; then, because the
 * value is itself an escaped string, every backslash doubled; `%` doubled (field codes).
 */
function execArgument(arg: string): string {
  const quoted = `"${arg.replace(/(["`$\\])/g, '\\$1')}"`;
  return quoted.replace(/\\/g, '\\\\').replace(/%/g, '%%');
}
