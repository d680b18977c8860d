import type { KioskChannel, KioskEvents } from '../../shared/kiosk/contract.js';

/**
 * The Electron IPC names of the bridge, derived from the contract (never retyped): the preload invokes them and
 * main registers its handlers under them. Requests and events use different prefixes so that no request channel
 * can ever be mistaken for an event.
 *
 * This file imports only types from shared/, so both the sandboxed preload and main may use it.
 */
export function kioskIpcChannel(channel: KioskChannel): `kiosk:${KioskChannel}` {
  return `kiosk:${channel}`;
}

export function kioskIpcEvent(event: keyof KioskEvents): `kiosk-event:${keyof KioskEvents}` {
  return `kiosk-event:${event}`;
}

/** The global the preload defines in the page (`window.clockface`, read by renderer/kiosk/bridge.ts). */
export const PRELOAD_GLOBAL = 'clockface';
