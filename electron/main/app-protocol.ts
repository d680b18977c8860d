import { readFile } from 'node:fs/promises';
import type { CustomScheme } from 'electron';
import {
  assetFile,
  CONTENT_SECURITY_POLICY,
  contentType,
  type RendererBundle,
} from '../kiosk/serve/renderer-assets.js';

/**
 * The kiosk screen's own origin, `app://kiosk`: a privileged custom scheme served from memory and the app's files.
 * Never `file://` (every file on the disk would share one origin) and never a CDN.
 */
export const APP_SCHEME = 'app';
export const APP_HOST = 'kiosk';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_URL = `${APP_ORIGIN}/`;

/**
 * standard: real origins and relative URLs; secure: a secure context, which getUserMedia requires; supportFetchAPI:
 * face-api fetches its model files; stream: large responses. Not bypassCSP: the page lives under its CSP.
 */
export const APP_SCHEME_PRIVILEGES: CustomScheme = {
  scheme: APP_SCHEME,
  privileges: { standard: true, secure: true, supportFetchAPI: true, stream: true },
};

/**
 * True for `app://kiosk` and anything under it. Parsed, not prefix-matched: `app://kiosk.evil/`,
 * `app://kiosk@evil/` and `app://kiosk:1/` are other origins.
 */
export function isAppUrl(value: string | null | undefined): boolean {
  if (!value) return false;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  return url.protocol === `${APP_SCHEME}:` && url.host === APP_HOST && url.username === '' && url.password === '';
}

const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
};

/**
 * The `app:` protocol handler: the bundled screen (index, script, stylesheet) and the models and WASM files through
 * {@link assetFile}'s safe path mapping, every answer with the screen's CSP. The same routes as the browser-mode
 * host (electron/kiosk/serve/browser-host.ts), without its token and Host checks: no other program can reach a
 * custom protocol, and only this app's own windows load it.
 */
export function createAppProtocolHandler(bundle: RendererBundle): (request: Request) => Promise<Response> {
  return async (request) => {
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      return text(400, 'bad request');
    }
    if (!isAppUrl(url.href)) return text(404, 'not found');
    if (request.method !== 'GET' && request.method !== 'HEAD') return text(405, 'method not allowed');
    const head = request.method === 'HEAD';
    const page = (type: string, body: string) => respond(200, type, head ? null : body, 'no-store');
    switch (url.pathname) {
      case '/':
      case '/index.html':
        return page(contentType('index.html'), bundle.html);
      case '/app.js':
        return page(contentType('app.js'), bundle.js);
      case '/kiosk.css':
        return page(contentType('kiosk.css'), bundle.css);
      case '/favicon.ico':
        return respond(204, 'text/plain', null, 'max-age=3600');
    }
    const file = assetFile(url.pathname);
    if (file === null) return text(404, 'not found');
    // A copy on its own ArrayBuffer: what Response takes in every lib (Node's and the DOM's typings differ here).
    const body = head ? null : new Uint8Array(await readFile(file));
    return respond(200, contentType(file), body, 'max-age=3600');
  };
}

function respond(status: number, type: string, body: string | Uint8Array<ArrayBuffer> | null, cacheControl: string): Response {
  return new Response(body, {
    status,
    headers: { ...SECURITY_HEADERS, 'Content-Type': type, 'Cache-Control': cacheControl },
  });
}

function text(status: number, message: string): Response {
  return respond(status, 'text/plain; charset=utf-8', message, 'no-store');
}
