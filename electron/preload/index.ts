/**
 * Preload entry: runs sandboxed in the kiosk window before the page, and puts exactly the typed bridge contract on
 * `window.clockface` (see bridge.ts); no generic `ipcRenderer`, nothing of Node.
 *
 * A sandboxed preload can `require` only 'electron' (and a few polyfills), so this file and its imports are bundled
 * into one CommonJS file by electron/main/build.ts (`npm run build:electron`), which main loads from
 * dist/electron/preload.cjs.
 */
import { contextBridge, ipcRenderer } from 'electron';
import { createPreloadBridge } from './bridge.js';
import { PRELOAD_GLOBAL } from './ipc-channels.js';

contextBridge.exposeInMainWorld(PRELOAD_GLOBAL, createPreloadBridge(ipcRenderer));
