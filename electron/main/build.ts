import { mkdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { APP_ROOT } from '../config/paths.js';

/**
 * `npm run build:electron`: the two files Electron loads, bundled by esbuild into dist/electron/.
 *
 * - main.mjs: electron/main/index.ts and the project's TypeScript it imports, as one ES module; npm packages
 *   (native modules, pg, pino, esbuild itself...) stay imports resolved from node_modules at run time. The file must
 *   sit two folders below the app root: electron/config/paths.ts finds APP_ROOT (renderer sources, models,
 *   migrations) as `../..` from the module's own URL, and that URL is now the bundle's.
 * - preload.cjs: electron/preload/index.ts as one CommonJS file. A sandboxed preload can `require` nothing but
 *   'electron' (and a few polyfills), so everything else it uses must be inside this file.
 *
 * The kiosk screen itself is bundled by main at start (bundleRenderer), from the renderer sources shipped with the app.
 */
export const ELECTRON_OUT_DIR = join(APP_ROOT, 'dist', 'electron');
export const MAIN_ENTRY = join(APP_ROOT, 'electron', 'main', 'index.ts');
export const PRELOAD_ENTRY = join(APP_ROOT, 'electron', 'preload', 'index.ts');

export interface BuiltBundle {
  file: string;
  /** Source files inside the bundle, relative to the app root. */
  inputs: string[];
  /** Imports left to run time (packages, Node built-ins). */
  imports: string[];
}

export async function buildPreload(outDir: string = ELECTRON_OUT_DIR): Promise<BuiltBundle> {
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, 'preload.cjs');
  const result = await build({
    entryPoints: [PRELOAD_ENTRY],
    outfile: file,
    bundle: true,
    format: 'cjs',
    platform: 'browser',
    target: 'es2023',
    external: ['electron'],
    metafile: true,
    logLevel: 'silent',
  });
  return { file, ...describe(result.metafile) };
}

export async function buildMain(outDir: string = ELECTRON_OUT_DIR): Promise<BuiltBundle> {
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, 'main.mjs');
  const result = await build({
    entryPoints: [MAIN_ENTRY],
    outfile: file,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    packages: 'external',
    sourcemap: 'linked',
    metafile: true,
    logLevel: 'silent',
  });
  return { file, ...describe(result.metafile) };
}

export async function buildElectronApp(outDir: string = ELECTRON_OUT_DIR): Promise<{ main: BuiltBundle; preload: BuiltBundle }> {
  const [main, preload] = await Promise.all([buildMain(outDir), buildPreload(outDir)]);
  return { main, preload };
}

function describe(metafile: Metafile): { inputs: string[]; imports: string[] } {
  const inputs = Object.keys(metafile.inputs).map((p) => relative(APP_ROOT, join(process.cwd(), p)).replaceAll('\\', '/'));
  const imports = new Set<string>();
  for (const output of Object.values(metafile.outputs)) {
    for (const i of output.imports) if (i.external) imports.add(i.path);
  }
  return { inputs: inputs.sort(), imports: [...imports].sort() };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { main, preload } = await buildElectronApp();
  console.log(`built ${relative(process.cwd(), main.file)} (${main.inputs.length} sources) and ${relative(process.cwd(), preload.file)}`);
}
