import type { Result } from '../../shared/errors.js';
import { bindKioskApi } from '../../shared/kiosk/bind-api.js';
import type { KioskApi, KioskStatusView } from '../../shared/kiosk/contract.js';
import { kioskIpcChannel, kioskIpcEvent } from './ipc-channels.js';

/**
 * What the page gets on `window.clockface`: the contract, one function per channel, plus the status stream.
 * (The same shape as renderer/kiosk/bridge.ts's PreloadBridge, which this room may not import; a test checks that
 * the two agree.)
 */
export interface ExposedKioskBridge extends KioskApi {
  onStatus(listener: (status: KioskStatusView) => void): void;
}

/** The two things of `ipcRenderer` the bridge uses; nothing else of it reaches the page. */
export interface PreloadIpc {
  invoke(channel: string, request: unknown): Promise<unknown>;
  on(channel: string, listener: (event: unknown, payload: unknown) => void): unknown;
}

/**
 * The bridge object for contextBridge. Each function sends exactly one argument, the request, on its own channel;
 * main validates it (schema, size, sender) and answers a Result. The status listener receives the status only,
 * never Electron's event object (which would hand the page a way back to `ipcRenderer`).
 */
export function createPreloadBridge(ipc: PreloadIpc): ExposedKioskBridge {
  return {
    ...bindKioskApi((channel, request) => ipc.invoke(kioskIpcChannel(channel), request) as Promise<Result<unknown>>),
    onStatus(listener: (status: KioskStatusView) => void): void {
      ipc.on(kioskIpcEvent('status'), (_event, status) => listener(status as KioskStatusView));
    },
  } satisfies ExposedKioskBridge;
}
