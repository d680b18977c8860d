import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { APP_ROOT } from '../config/paths.js';

export interface ConsoleAssets {
  js: string;
  css: string;
}

/**
 * The console's two assets, served from memory by the console itself (never a CDN): its small script (the Now page's
 * live feed, confirmations), bundled from renderer/console/ by the esbuild the kiosk already uses, and its stylesheet.
 */
export async function buildConsoleAssets(): Promise<ConsoleAssets> {
  const result = await build({
    entryPoints: [join(APP_ROOT, 'renderer/console/main.ts')],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    minify: true,
  });
  const js = result.outputFiles[0]?.text ?? '';
  const css = readFileSync(join(APP_ROOT, 'renderer/console/console.css'), 'utf8');
  return { js, css };
}
