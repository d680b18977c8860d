import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Settings } from 'electron';
import { afterAll, describe, expect, it } from 'vitest';
import { parseLaunchOptions } from '../../electron/main/launch-options.js';
import { applyStartAtLogin, AUTOSTART_FILE, desktopEntry, loginCommand } from '../../electron/main/login-item.js';

describe('launch options', () => {
  const env = { CLOCKFACE_HOME: '/home/kiosk/.clockface' };

  it('kiosk folder: --kiosk-dir, else CLOCKFACE_KIOSK_DIR, else <Clockface home>/kiosk', () => {
    expect(parseLaunchOptions(['.', '--kiosk-dir', '/srv/door'], env).kioskDir).toBe('/srv/door');
    expect(parseLaunchOptions(['--kiosk-dir=/srv/door', '--no-sandbox'], env).kioskDir).toBe('/srv/door');
    expect(parseLaunchOptions(['.'], { ...env, CLOCKFACE_KIOSK_DIR: '/srv/env' }).kioskDir).toBe('/srv/env');
    expect(parseLaunchOptions(['--kiosk-dir=/srv/arg'], { ...env, CLOCKFACE_KIOSK_DIR: '/srv/env' }).kioskDir).toBe('/srv/arg');
    expect(parseLaunchOptions([], env).kioskDir).toBe(join('/home/kiosk/.clockface', 'kiosk'));
    expect(() => parseLaunchOptions(['--kiosk-dir'], env)).toThrow(/needs a folder/);
    expect(() => parseLaunchOptions(['--kiosk-dir', '--devtools'], env)).toThrow(/needs a folder/);
  });

  it('start at login: the flags, else CLOCKFACE_START_AT_LOGIN, else unchanged (null); devtools off unless asked', () => {
    expect(parseLaunchOptions([], env)).toMatchObject({ startAtLogin: null, devTools: false });
    expect(parseLaunchOptions(['--start-at-login'], env).startAtLogin).toBe(true);
    expect(parseLaunchOptions(['--no-start-at-login'], { ...env, CLOCKFACE_START_AT_LOGIN: '1' }).startAtLogin).toBe(false);
    expect(parseLaunchOptions([], { ...env, CLOCKFACE_START_AT_LOGIN: 'true' }).startAtLogin).toBe(true);
    expect(parseLaunchOptions([], { ...env, CLOCKFACE_START_AT_LOGIN: '0' }).startAtLogin).toBe(false);
    expect(() => parseLaunchOptions([], { ...env, CLOCKFACE_START_AT_LOGIN: 'maybe' })).toThrow(/must be 1 or 0/);
    expect(parseLaunchOptions(['--devtools'], env).devTools).toBe(true);
    expect(parseLaunchOptions([], { ...env, CLOCKFACE_DEVTOOLS: '1' }).devTools).toBe(true);
  });
});

describe('start at login', () => {
  const dir = mkdtempSync(join(tmpdir(), 'clockface-autostart-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const noApp = { setLoginItemSettings: () => undefined };

  it('the command starts this kiosk again: the AppImage file when there is one; in development Electron + the app', () => {
    const base = { execPath: '/tmp/.mount_x/clockface-kiosk', appRoot: '/src/clockface', kioskDir: '/srv/door' };
    expect(loginCommand({ ...base, appImage: '/opt/Clockface.AppImage', isPackaged: true })).toEqual(['/opt/Clockface.AppImage', '--kiosk-dir=/srv/door']);
    expect(loginCommand({ ...base, appImage: undefined, isPackaged: true })).toEqual(['/tmp/.mount_x/clockface-kiosk', '--kiosk-dir=/srv/door']);
    expect(loginCommand({ ...base, execPath: '/usr/bin/electron', appImage: undefined, isPackaged: false })).toEqual([
      '/usr/bin/electron',
      '/src/clockface',
      '--kiosk-dir=/srv/door',
    ]);
  });

  it('Linux: writes an XDG autostart entry, and removes it when turned off', () => {
    const autostartDir = join(dir, 'autostart');
    applyStartAtLogin(true, { platform: 'linux', app: noApp, command: ['/opt/Clockface/clockface-kiosk', '--kiosk-dir=/srv/my door'], autostartDir });
    const entry = readFileSync(join(autostartDir, AUTOSTART_FILE), 'utf8');
    expect(entry).toMatch(/^\[Desktop Entry\]\nType=Application\n/);
    expect(entry).toContain('Exec="/opt/Clockface/clockface-kiosk" "--kiosk-dir=/srv/my door"\n');
    applyStartAtLogin(false, { platform: 'linux', app: noApp, command: [], autostartDir });
    expect(existsSync(join(autostartDir, AUTOSTART_FILE))).toBe(false);
  });

  it('the Exec line quotes and escapes as the Desktop Entry specification asks', () => {
    expect(desktopEntry(['/a b/x', 'say "hi" $HOME `x` 100% \\'])).toContain(
      'Exec="/a b/x" "say \\\\"hi\\\\" \\\\$HOME \\\\`x\\\\` 100%% \\\\\\\\"\n',
    );
  });

  it('Windows and macOS: Electron’s login item (Windows with the command, macOS the app bundle itself)', () => {
    const calls: Settings[] = [];
    const app = { setLoginItemSettings: (s: Settings) => void calls.push(s) };
    applyStartAtLogin(true, { platform: 'win32', app, command: ['C:\\Clockface\\Clockface.exe', '--kiosk-dir=C:\\door'], autostartDir: dir });
    applyStartAtLogin(false, { platform: 'darwin', app, command: ['/Applications/Clockface.app/Contents/MacOS/Clockface'], autostartDir: dir });
    expect(calls).toEqual([
      { openAtLogin: true, path: 'C:\\Clockface\\Clockface.exe', args: ['--kiosk-dir=C:\\door'] },
      { openAtLogin: false },
    ]);
    expect(existsSync(join(dir, AUTOSTART_FILE))).toBe(false);
  });
});
