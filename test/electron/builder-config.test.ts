import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);

interface BuilderConfig {
  files: Array<string | { filter: string[] }>;
  asar: boolean;
  npmRebuild: boolean;
  directories: { output: string };
  linux: { target: string[] };
  win: { target: string[] };
  mac: { target: string[]; extendInfo: Record<string, string> };
  deb: { depends: string[] };
}

// electron-builder's own loader and schema validation (what `electron-builder` runs before it downloads anything).
const { getConfig, validateConfiguration } = require('app-builder-lib/out/util/config/config') as {
  getConfig(projectDir: string, configPath: string | null, fromOptions: null): Promise<BuilderConfig>;
  validateConfiguration(config: BuilderConfig, logger: unknown): Promise<void>;
};
const { DebugLogger } = require('builder-util') as { DebugLogger: new (enabled: boolean) => unknown };

/**
 * electron-builder cannot package here (it downloads Electron); this checks what can be checked offline: the
 * configuration passes electron-builder's own schema, and it ships what the app loads at run time.
 */
describe('electron-builder.yml', () => {
  const root = process.cwd();

  it('passes electron-builder’s schema validation; a misspelt option would not', async () => {
    const config = await getConfig(root, 'electron-builder.yml', null);
    await expect(validateConfiguration(config, new DebugLogger(false))).resolves.toBeUndefined();
    await expect(validateConfiguration({ ...config, asarr: false } as BuilderConfig, new DebugLogger(false))).rejects.toThrow(/unknown property 'asarr'/);
  });

  it('targets AppImage + deb, NSIS and dmg; ships the bundles, renderer, shared and resources; no asar; native rebuild', async () => {
    const config = await getConfig(root, 'electron-builder.yml', null);
    expect(config.linux.target).toEqual(['AppImage', 'deb']);
    expect(config.win.target).toEqual(['nsis']);
    expect(config.mac.target).toEqual(['dmg']);
    expect(config.mac.extendInfo['NSCameraUsageDescription']).toBeTruthy();
    const files = config.files.flatMap((f) => (typeof f === 'string' ? [f] : f.filter));
    expect(files).toEqual(expect.arrayContaining(['package.json', 'dist/electron/**', 'renderer/**', 'shared/**', 'resources/**']));
    expect(config.asar).toBe(false);
    expect(config.npmRebuild).toBe(true);
    expect(config.deb.depends).toEqual(expect.arrayContaining(['libblas3', 'liblapack3']));
    // Installers must not land in dist/, where the bundles are built from.
    expect(config.directories.output.startsWith('dist')).toBe(false);
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { main: string; scripts: Record<string, string> };
    expect(pkg.main).toBe('dist/electron/main.mjs');
    expect(pkg.scripts['dist']).toMatch(/build:electron && electron-builder --config electron-builder\.yml/);
  });
});
