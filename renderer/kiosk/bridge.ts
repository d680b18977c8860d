import type { Result } from '../../shared/errors.js';
import { bindKioskApi } from '../../shared/kiosk/bind-api.js';
import type { KioskApi, KioskStatusView } from '../../shared/kiosk/contract.js';

/** The bridge as the screen sees it: the contract plus the status stream. */
export interface KioskBridge {
  api: KioskApi;
  onStatus(listener: (status: KioskStatusView) => void): void;
}

/** What the Electron preload puts on `window.clockface` (see electron/preload). */
export interface PreloadBridge extends KioskApi {
  onStatus(listener: (status: KioskStatusView) => void): void;
}

declare global {
  interface Window {
    clockface?: PreloadBridge;
  }
}

/**
 * Electron: the preload's bridge. Browser mode: the same contract over HTTP to the host that served this page, with
 * the kiosk's token from the address fragment (a fragment is never sent to a server, nor in a Referer).
 */
export function connectBridge(): KioskBridge {
  const preload = window.clockface;
  if (preload) return { api: preload, onStatus: (l) => preload.onStatus(l) };
  const token = new URLSearchParams(location.hash.slice(1)).get('token') ?? '';
  const api = bindKioskApi(async (channel, request) => {
    try {
      const response = await fetch(`/api/${channel}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-Clockface-Token': token },
        body: JSON.stringify(request),
      });
      return (await response.json()) as Result<unknown>;
    } catch (e) {
      return { ok: false, error: { code: 'INTERNAL', message: `the kiosk service did not answer (${(e as Error).message})` } };
    }
  });
  return {
    api,
    onStatus(listener) {
      const source = new EventSource(`/api/events?token=${encodeURIComponent(token)}`);
      source.addEventListener('status', (event) => listener(JSON.parse((event as MessageEvent<string>).data) as KioskStatusView));
    },
  };
}
