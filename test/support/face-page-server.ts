import { createReadStream, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const require = createRequire(import.meta.url);
const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PAGE_ENTRY = join(REPO_ROOT, 'test', 'browser', 'face-page.ts');

/** URL prefix → folder. Everything the page needs comes from here: no CDN, no network. */
const FOLDERS: ReadonlyArray<readonly [string, string]> = [
  ['/models/', join(dirname(require.resolve('@vladmandic/face-api/package.json')), 'model')],
  ['/wasm/', dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'))],
  ['/faces/', resolve(REPO_ROOT, '..', 'shared', 'faces')],
];

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm', // streaming compilation refuses anything else
  '.bin': 'application/octet-stream',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
};

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>Clockface face page</title></head>
<body><script type="module" src="/app.js"></script></body></html>
`;

export interface FacePageServer {
  /** http://127.0.0.1:PORT (no trailing slash). */
  url: string;
  close(): Promise<void>;
}

/** Bundles test/browser/face-page.ts (with renderer/ and face-api's ESM build) the way a bundler ships the kiosk. */
async function bundlePage(): Promise<string> {
  const result = await build({
    entryPoints: [PAGE_ENTRY],
    bundle: true,
    format: 'esm',
    write: false,
    platform: 'browser',
    target: 'chrome120',
    logLevel: 'silent',
  });
  const output = result.outputFiles[0];
  if (!output) throw new Error('esbuild produced no output for the face page');
  return output.text;
}

/** Maps a URL path under one of FOLDERS to a file inside that folder, or null (also for ../ escapes). */
function fileFor(pathname: string): string | null {
  for (const [prefix, folder] of FOLDERS) {
    if (!pathname.startsWith(prefix)) continue;
    let relative: string;
    try {
      relative = decodeURIComponent(pathname.slice(prefix.length));
    } catch {
      return null;
    }
    if (relative.includes('\0')) return null;
    const file = resolve(folder, relative);
    return file.startsWith(folder + sep) ? file : null;
  }
  return null;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** A static server on 127.0.0.1 (a free port) for the browser face tests: the page, its bundle, models, wasm, photos. */
export async function startFacePageServer(): Promise<FacePageServer> {
  const app = await bundlePage();
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const send = (status: number, type: string, body: string): void => {
      res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store' });
      res.end(body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'text/plain', 'method not allowed');
    const { pathname } = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (pathname === '/' || pathname === '/index.html') return send(200, TYPES['.html']!, PAGE);
    if (pathname === '/app.js') return send(200, TYPES['.js']!, app);
    if (pathname === '/favicon.ico') return send(204, 'text/plain', '');
    const file = fileFor(pathname);
    if (file === null || !isFile(file)) return send(404, 'text/plain', 'not found');
    res.writeHead(200, {
      'Content-Type': TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
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
