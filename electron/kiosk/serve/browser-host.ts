import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MAX_REQUEST_BYTES } from '../../../shared/kiosk/contract.js';
import { createLogger } from '../../../shared/logger.js';
import type { KioskService } from '../kiosk-service.js';
import { assetFile, bundleRenderer, CONTENT_SECURITY_POLICY, contentType, type RendererBundle } from './renderer-assets.js';

const log = createLogger('kiosk.browser-host');

export interface BrowserHostOptions {
  port: number;
  /** 127.0.0.1 by default: the bridge can punch, so it is not offered to the network unless asked. */
  host?: string;
  /** Fixed token (tests); by default a random one per start, printed in the address. */
  token?: string;
  /** How long one request (headers and body) may take; {@link REQUEST_TIMEOUT_MS} by default. */
  requestTimeoutMs?: number;
}

/**
 * A request trickled in a byte at a time would hold its connection for Node's default of five minutes; a bridge
 * request is at most 128 KiB from the same machine, so 20 s is plenty and a slow-drip client is cut early.
 */
export const REQUEST_TIMEOUT_MS = 20_000;

export interface BrowserHost {
  /** Base address, e.g. http://127.0.0.1:5180 */
  origin: string;
  /** The address to open: the origin with the bridge token in the fragment (never sent in requests). */
  url: string;
  token: string;
  close(): Promise<void>;
}

const SECURITY_HEADERS = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cache-Control': 'no-store',
};

/**
 * Browser mode: the same kiosk screen and the same bridge contract as the Electron app, over HTTP, for Chromium in
 * kiosk mode or a tablet. `POST /api/<channel>` carries one request (JSON) and answers its Result; `GET /api/events`
 * streams status (server-sent events). The bridge refuses requests from other origins, requests without the
 * kiosk's token, Host headers that are not this host (DNS rebinding), and bodies over {@link MAX_REQUEST_BYTES}.
 */
export async function startBrowserHost(service: KioskService, options: BrowserHostOptions): Promise<BrowserHost> {
  const bundle = await bundleRenderer();
  const token = options.token ?? randomBytes(24).toString('base64url');
  const bindHost = options.host ?? '127.0.0.1';
  let origin = '';
  let allowedHosts = new Set<string>();

  const requestTimeout = options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
  // Node looks for timed-out requests only every connectionsCheckingInterval (30 s by default): check often enough
  // that the timeout means what it says.
  const timeouts = { requestTimeout, headersTimeout: requestTimeout, connectionsCheckingInterval: Math.max(100, Math.min(5_000, requestTimeout / 4)) };
  const server = createServer(timeouts, (req, res) => {
    route(req, res).catch((e: unknown) => {
      log.error('browser host request failed', { error: (e as Error).message });
      if (!res.headersSent) sendJson(res, 500, { ok: false, error: { code: 'INTERNAL', message: 'internal error' } });
      else res.destroy();
    });
  });

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (!allowedHosts.has(req.headers.host ?? '')) return sendText(res, 421, 'unknown host');
    const url = new URL(req.url ?? '/', origin);
    if (url.pathname.startsWith('/api/')) {
      const sameOrigin = req.headers.origin === undefined || req.headers.origin === origin;
      if (!sameOrigin) return sendJson(res, 403, refused('requests from another origin are refused'));
      const given = url.pathname === '/api/events' ? url.searchParams.get('token') : headerValue(req, 'x-clockface-token');
      if (!tokenMatches(given, token)) return sendJson(res, 401, refused('missing or wrong kiosk token'));
      if (url.pathname === '/api/events' && req.method === 'GET') return events(res);
      if (req.method !== 'POST') return sendJson(res, 405, refused('POST a JSON request'));
      const body = await readBody(req, MAX_REQUEST_BYTES);
      if (body === null) return sendJson(res, 413, refused(`requests are limited to ${MAX_REQUEST_BYTES} bytes`));
      let value: unknown;
      try {
        value = JSON.parse(body);
      } catch {
        return sendJson(res, 400, refused('the body is not JSON'));
      }
      let channel: string;
      try {
        channel = decodeURIComponent(url.pathname.slice('/api/'.length));
      } catch {
        return sendJson(res, 400, refused('the channel name is not valid percent-encoding'));
      }
      const result = await service.handle(channel, value);
      return sendJson(res, 200, result);
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendText(res, 405, 'method not allowed');
    return staticFile(url.pathname, bundle, res);
  };

  const events = (res: ServerResponse): void => {
    res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': 'text/event-stream', Connection: 'keep-alive' });
    const push = (status: unknown): void => {
      res.write(`event: status\ndata: ${JSON.stringify(status)}\n\n`);
    };
    push(service.status());
    const unsubscribe = service.onStatus(push);
    // A comment line now and then keeps proxies and the browser from timing the stream out.
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    res.on('close', () => {
      clearInterval(keepAlive);
      unsubscribe();
    });
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, bindHost, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const shownHost = bindHost.includes(':') ? `[${bindHost}]` : bindHost;
  origin = `http://${shownHost}:${port}`;
  allowedHosts = new Set([`${shownHost}:${port}`, `localhost:${port}`, `127.0.0.1:${port}`]);
  log.info('browser-mode kiosk listening', { origin });
  return {
    origin,
    url: `${origin}/#token=${token}`,
    token,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((e) => (e ? reject(e) : resolve()));
      }),
  };
}

function staticFile(pathname: string, bundle: RendererBundle, res: ServerResponse): void {
  if (pathname === '/' || pathname === '/index.html') return send(res, 200, contentType('index.html'), bundle.html);
  if (pathname === '/app.js') return send(res, 200, contentType('app.js'), bundle.js);
  if (pathname === '/kiosk.css') return send(res, 200, contentType('kiosk.css'), bundle.css);
  if (pathname === '/favicon.ico') return send(res, 204, 'text/plain', '');
  const file = assetFile(pathname);
  if (file === null) return sendText(res, 404, 'not found');
  res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': contentType(file), 'Cache-Control': 'max-age=3600' });
  createReadStream(file)
    .on('error', () => res.destroy())
    .pipe(res);
}

function headerValue(req: IncomingMessage, name: string): string | null {
  const v = req.headers[name];
  return typeof v === 'string' ? v : null;
}

function tokenMatches(given: string | null, token: string): boolean {
  if (given === null) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * The body as text, or null when it is over `limit` bytes. An oversized body is read on (and dropped) up to ten
 * times the limit so that the client gets its 413 instead of a reset connection; beyond that the socket is cut.
 */
function readBody(req: IncomingMessage, limit: number): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
      else if (size > limit * 10) req.destroy();
    });
    req.on('end', () => resolve(size > limit ? null : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function refused(message: string): { ok: false; error: { code: 'BRIDGE_INVALID'; message: string } } {
  return { ok: false, error: { code: 'BRIDGE_INVALID', message } };
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': type });
  res.end(body);
}

function sendText(res: ServerResponse, status: number, text: string): void {
  send(res, status, 'text/plain; charset=utf-8', text);
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  send(res, status, 'application/json', JSON.stringify(value));
}
