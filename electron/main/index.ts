/**
 * The Electron main process entry (package.json "main" → dist/electron/main.mjs, built from this file by
 * `npm run build:electron`). The only file that imports the real 'electron': everything it wires is in kiosk-main.ts,
 * written against ElectronLike and unit-tested with Electron replaced.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { app, BrowserWindow, dialog, ipcMain, Menu, powerSaveBlocker, protocol, session } from 'electron';
import { APP_ROOT } from '../config/paths.js';
import { installNodeLogSink } from '../logging.js';
import type { ElectronLike } from './electron-like.js';
import { KioskMain } from './kiosk-main.js';
import { parseLaunchOptions, type LaunchOptions } from './launch-options.js';
import { defaultAutostartDir, loginCommand } from './login-item.js';

installNodeLogSink();

const electron: ElectronLike = { app, BrowserWindow, session, protocol, ipcMain, powerSaveBlocker, Menu, dialog };

let launch: LaunchOptions | null = null;
try {
  launch = parseLaunchOptions(process.argv.slice(1));
} catch (e) {
  dialog.showErrorBox('Clockface cannot start', (e as Error).message);
  app.exit(2);
}

if (launch) {
  const { kioskDir, startAtLogin, devTools } = launch;
  const started = KioskMain.start(electron, {
    kioskDir,
    devTools,
    preloadPath: join(dirname(fileURLToPath(import.meta.url)), 'preload.cjs'),
    ...(startAtLogin === null
      ? {}
      : {
          startAtLogin: {
            enabled: startAtLogin,
            target: {
              platform: process.platform,
              app,
              command: loginCommand({
                execPath: process.execPath,
                appImage: process.env['APPIMAGE'],
                isPackaged: app.isPackaged,
                appRoot: APP_ROOT,
                kioskDir,
              }),
              autostartDir: defaultAutostartDir(),
            },
          },
        }),
  });
  if (started) {
    // The system (shutdown, logout, `npm start`'s Ctrl-C) may stop the kiosk; Electron turns these signals into a
    // quit, which the guard would refuse. Leaving first lets that quit through, with the last upload.
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => started.main.leave('signal'));
  }
}
