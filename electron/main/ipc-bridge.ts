import type { Result } from '../../shared/errors.js';
import { KIOSK_CHANNELS, MAX_REQUEST_BYTES, fail, type KioskChannel } from '../../shared/kiosk/contract.js';
import { createLogger } from '../../shared/logger.js';
import type { KioskService } from '../kiosk/kiosk-service.js';
import { kioskIpcChannel } from '../preload/ipc-channels.js';
import { isAppUrl } from './app-protocol.js';
import type { IpcInvokeEventLike, IpcMainLike } from './electron-like.js';

const log = createLogger('kiosk.ipc');

/** The part of the kiosk service the bridge calls. */
export type KioskRequestHandler = Pick<KioskService, 'handle'>;

/**
 * One bridge request from the window, checked before the service sees it, as the browser-mode host checks its HTTP
 * requests: the sending frame must be the kiosk's own page (`app://kiosk`; a frame that navigated elsewhere, or a
 * destroyed one, is refused), exactly one argument, at most {@link MAX_REQUEST_BYTES} of JSON. Then
 * {@link KioskService.handle} validates it against the channel's schema. Always answers a Result, never throws:
 * only a message would survive IPC anyway.
 */
export async function handleKioskIpc(
  service: KioskRequestHandler,
  channel: string,
  event: IpcInvokeEventLike,
  args: readonly unknown[],
): Promise<Result<unknown>> {
  const refuse = (reason: string, message: string) => {
    log.warn('bridge request refused', { channel: channel.slice(0, 40), reason });
    return fail('BRIDGE_INVALID', message);
  };
  if (!isAppUrl(event.senderFrame?.url)) return refuse('sender', 'requests from another origin are refused');
  if (args.length !== 1) return refuse('arguments', 'a request is exactly one value');
  const size = jsonBytes(args[0]);
  if (size === null) return refuse('not-json', 'the request is not a JSON value');
  if (size > MAX_REQUEST_BYTES) return refuse('size', `requests are limited to ${MAX_REQUEST_BYTES} bytes`);
  return service.handle(channel, args[0]);
}

/** Registers one handler per contract channel (`kiosk:<channel>`); returns the function that removes them. */
export function registerKioskIpc(ipcMain: IpcMainLike, service: KioskRequestHandler): () => void {
  const registered: string[] = [];
  for (const channel of KIOSK_CHANNELS) {
    const name = kioskIpcChannel(channel);
    ipcMain.handle(name, (event, ...args) => handleKioskIpc(service, channel satisfies KioskChannel, event, args));
    registered.push(name);
  }
  return () => {
    for (const name of registered) ipcMain.removeHandler(name);
  };
}

/**
 * Size of a value as JSON (UTF-8 bytes), or null if it is not JSON (undefined, a function, a cycle, a BigInt).
 * IPC carries structured clones, which can hold more than JSON; the service's schemas accept only JSON shapes.
 */
function jsonBytes(value: unknown): number | null {
  try {
    const json = JSON.stringify(value);
    return typeof json === 'string' ? Buffer.byteLength(json, 'utf8') : null;
  } catch {
    return null;
  }
}
