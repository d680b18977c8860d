import { createReadStream } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assetFile, bundleForBrowser, contentType } from '../../electron/kiosk/serve/renderer-assets.js';

const require = createRequire(import.meta.url);
const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PAGE_ENTRY = join(REPO_ROOT, 'test', 'browser', 'face-page.ts');

/** URL prefix → folder. Everything the page needs comes from here: no CDN, no network. */
const FOLDERS: ReadonlyArray<readonly [string, string]> = [
  ['/models/', join(dirname(require.resolve('@vladmandic/face-api/package.json')), 'model')],
  ['/wasm/', dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'))],
  ['/faces/', resolve(REPO_ROOT, '..', 'shared', 'faces')],
];


const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>Clockface face page</title></head>
<body><script type="module" src="/app.js"></script></body></html>
`;

export interface FacePageServer {
  /** http://127.0.0.1:PORT (no trailing slash). */
  url: string;
  close(): Promise<void>;
}

/** A static server on 127.0.0.1 (a free port) for the browser face tests: the page, its bundle, models, wasm, photos. */
export async function startFacePageServer(): Promise<FacePageServer> {
  // Bundled the way the kiosk screen is (with renderer/ and face-api's ESM build).
  const app = await bundleForBrowser(PAGE_ENTRY);
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const send = (status: number, type: string, body: string): void => {
      res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store' });
      res.end(body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'text/plain', 'method not allowed');
    const { pathname } = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (pathname === '/' || pathname === '/index.html') return send(200, contentType('index.html'), PAGE);
    if (pathname === '/app.js') return send(200, contentType('app.js'), app);
    if (pathname === '/favicon.ico') return send(204, 'text/plain', '');
    const file = assetFile(pathname, FOLDERS);
    if (file === null) return send(404, 'text/plain', 'not found');
    res.writeHead(200, {
      'Content-Type': contentType(file),
      'Cache-Control': 'no-store',
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    createReadStream(file)
      .on('error', () => res.destroy())
      .pipe(res);
  };
  const server = createServer(handle);
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => done());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((done, fail) => {
        server.closeAllConnections();
        server.close((e) => (e ? fail(e) : done()));
      }),
  };
}
