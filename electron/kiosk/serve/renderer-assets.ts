import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { build } from 'esbuild';
import { APP_ROOT } from '../../config/paths.js';

const require = createRequire(import.meta.url);

/**
 * What the kiosk screen loads besides its own code, all from the app itself (never a CDN): face-api's model
 * weights and the tfjs WASM binaries. Shared by the browser-mode host and the Electron protocol handler.
 */
export const ASSET_FOLDERS: ReadonlyArray<readonly [prefix: string, folder: string]> = [
  ['/models/', join(dirname(require.resolve('@vladmandic/face-api/package.json')), 'model')],
  ['/wasm/', dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'))],
];

export const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm', // streaming compilation refuses anything else
  '.bin': 'application/octet-stream',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
};

export function contentType(file: string): string {
  return CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * The screen's Content Security Policy: everything from the app's own origin; 'wasm-unsafe-eval' because tfjs
 * compiles its WASM backend (no JS eval is allowed); media from the camera stream; no inline scripts.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "media-src 'self' blob: mediastream:",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'none'",
].join('; ');

/** Maps a URL path under one of the asset folders to a file inside it, or null (also for ../ escapes). */
export function assetFile(pathname: string, folders: ReadonlyArray<readonly [string, string]> = ASSET_FOLDERS): string | null {
  for (const [prefix, folder] of folders) {
    if (!pathname.startsWith(prefix)) continue;
    let relative: string;
    try {
      relative = decodeURIComponent(pathname.slice(prefix.length));
    } catch {
      return null;
    }
    if (relative.includes('\0')) return null;
    const file = resolve(folder, relative);
    if (!file.startsWith(folder + sep)) return null;
    try {
      return statSync(file).isFile() ? file : null;
    } catch {
      return null;
    }
  }
  return null;
}

export interface RendererBundle {
  js: string;
  css: string;
  html: string;
}

export const RENDERER_ENTRY = join(APP_ROOT, 'renderer', 'main.ts');
export const RENDERER_CSS = join(APP_ROOT, 'renderer', 'kiosk.css');

/** Bundles an entry for the browser (ESM, one file), as the packaged app ships it. */
export async function bundleForBrowser(entry: string): Promise<string> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    write: false,
    platform: 'browser',
    target: 'chrome120',
    logLevel: 'silent',
  });
  const output = result.outputFiles[0];
  if (!output) throw new Error(`esbuild produced no output for ${entry}`);
  return output.text;
}

/** The kiosk screen: one HTML page, its script and its stylesheet. */
export async function bundleRenderer(): Promise<RendererBundle> {
  const [js, cssResult] = await Promise.all([
    bundleForBrowser(RENDERER_ENTRY),
    build({ entryPoints: [RENDERER_CSS], bundle: true, write: false, logLevel: 'silent' }),
  ]);
  const css = cssResult.outputFiles[0]?.text ?? '';
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Clockface</title>
<link rel="stylesheet" href="/kiosk.css">
</head><body><main id="app"></main><script type="module" src="/app.js"></script></body></html>
`;
  return { js, css, html };
}
