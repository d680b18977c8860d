import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KIOSK_CHANNELS, type KioskStatusView } from '../../shared/kiosk/contract.js';
import { buildMain, buildPreload, type BuiltBundle } from '../../electron/main/build.js';
import { registerKioskIpc } from '../../electron/main/ipc-bridge.js';
import type { ExposedKioskBridge } from '../../electron/preload/bridge.js';
import type { PreloadBridge } from '../../renderer/kiosk/bridge.js';
import { FakeIpcMain } from './fake-electron.js';

/**
 * The preload as Electron runs it: the real bundle from `npm run build:electron` (electron/main/build.ts), executed
 * in a fresh context whose `require` knows only 'electron', as a sandboxed preload's does, with contextBridge and
 * ipcRenderer replaced.
 */

// The preload's type and the renderer's view of it are the same shape (a compile-time check: typecheck fails if
// either side changes alone).
const rendererView = (b: ExposedKioskBridge): PreloadBridge => b;
const preloadView = (b: PreloadBridge): ExposedKioskBridge => b;
void rendererView;
void preloadView;

interface Exposure {
  key: string;
  api: Record<string, unknown>;
}

interface PreloadRun {
  exposures: Exposure[];
  invocations: unknown[][];
  listeners: Map<string, Array<(...args: unknown[]) => void>>;
}

/** Runs the bundled preload; `answer` plays main's side of ipcRenderer.invoke. */
function runPreload(code: string, answer: (channel: string, ...args: unknown[]) => Promise<unknown> = () => Promise.resolve({ ok: true, value: null })): PreloadRun {
  const run: PreloadRun = { exposures: [], invocations: [], listeners: new Map() };
  const electron = {
    contextBridge: {
      exposeInMainWorld(key: string, api: Record<string, unknown>) {
        run.exposures.push({ key, api });
      },
    },
    ipcRenderer: {
      invoke(channel: string, ...args: unknown[]) {
        run.invocations.push([channel, ...args]);
        return answer(channel, ...args);
      },
      on(channel: string, listener: (...args: unknown[]) => void) {
        run.listeners.set(channel, [...(run.listeners.get(channel) ?? []), listener]);
      },
    },
  };
  const module = { exports: {} };
  runInNewContext(code, {
    module,
    exports: module.exports,
    require(id: string) {
      if (id === 'electron') return electron;
      throw new Error(`a sandboxed preload cannot require "${id}"`);
    },
  });
  return run;
}

const out = mkdtempSync(join(tmpdir(), 'clockface-build-'));
let preload: BuiltBundle;
let code: string;

beforeAll(async () => {
  preload = await buildPreload(out);
  code = readFileSync(preload.file, 'utf8');
});
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('the preload', () => {
  it('is one CommonJS file that needs nothing at run time but electron, built only from the preload room and shared/', () => {
    expect(preload.imports).toEqual(['electron']);
    expect(preload.inputs.length).toBeGreaterThan(0);
    for (const input of preload.inputs) expect(input, input).toMatch(/^(electron\/preload|shared)\//);
  });

  it('exposes window.clockface with exactly one function per contract channel plus onStatus, and nothing else', () => {
    const run = runPreload(code);
    expect(run.exposures.map((e) => e.key)).toEqual(['clockface']);
    const api = run.exposures[0]!.api;
    expect(Object.keys(api).sort()).toEqual([...KIOSK_CHANNELS, 'onStatus'].sort());
    for (const [key, value] of Object.entries(api)) expect(typeof value, key).toBe('function');
    // Only listeners the page asks for: nothing subscribed at load.
    expect(run.listeners.size).toBe(0);
    expect(run.invocations).toEqual([]);
  });

  it('each function invokes kiosk:<channel> with the request as its one argument and returns main’s answer', async () => {
    const run = runPreload(code, (channel) => Promise.resolve({ ok: true, value: channel }));
    const api = run.exposures[0]!.api as Record<string, (request: unknown) => Promise<unknown>>;
    for (const channel of KIOSK_CHANNELS) {
      const request = { probe: channel };
      expect(await api[channel]!(request)).toEqual({ ok: true, value: `kiosk:${channel}` });
      expect(run.invocations.at(-1)).toEqual([`kiosk:${channel}`, request]);
    }
  });

  it('onStatus hands the page the status alone, never Electron’s event object', () => {
    const run = runPreload(code);
    const api = run.exposures[0]!.api as { onStatus(listener: (...args: unknown[]) => void): void };
    const received: unknown[][] = [];
    api.onStatus((...args) => received.push(args));
    const listeners = run.listeners.get('kiosk-event:status') ?? [];
    expect([...run.listeners.keys()]).toEqual(['kiosk-event:status']);
    const status = { kioskName: 'door-1', online: true } as Partial<KioskStatusView>;
    const event = { sender: { send() {} }, ports: [] };
    for (const l of listeners) l(event, status);
    expect(received).toEqual([[status]]);
  });

  it('speaks the same channel names as main: every request reaches main’s handler for its channel', async () => {
    const ipcMain = new FakeIpcMain();
    registerKioskIpc(ipcMain, { handle: (channel, request) => Promise.resolve({ ok: true, value: { channel, request } }) });
    const run = runPreload(code, (channel, ...args) => ipcMain.invoke('app://kiosk/', channel, ...args));
    const api = run.exposures[0]!.api as Record<string, (request: unknown) => Promise<unknown>>;
    for (const channel of KIOSK_CHANNELS) {
      expect(await api[channel]!({ n: 1 })).toEqual({ ok: true, value: { channel, request: { n: 1 } } });
    }
  });
});

describe('the main process bundle', () => {
  it('leaves to run time only Node built-ins, electron and production dependencies (what electron-builder packs)', async () => {
    const main = await buildMain(out);
    const pkg = JSON.parse(readFileSync(join(process.cwd(), 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const packageOf = (path: string) => (path.startsWith('@') ? path.split('/').slice(0, 2).join('/') : path.split('/')[0]!);
    const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
    const runtime = main.imports.filter((i) => !builtins.has(i));
    expect(runtime).toContain('electron');
    for (const i of runtime.filter((x) => x !== 'electron')) expect(Object.keys(pkg.dependencies), i).toContain(packageOf(i));
    // Excluded from the package by electron-builder.yml: the kiosk app must never load the embedded central.
    expect(runtime.filter((i) => i.startsWith('@electric-sql/'))).toEqual([]);
    for (const input of main.inputs) expect(input, input).toMatch(/^(electron|shared)\//);
    expect(main.inputs.some((i) => i.startsWith('electron/preload/index'))).toBe(false);
  });
});
