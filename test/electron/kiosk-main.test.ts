import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { KIOSK_CHANNELS, MAX_REQUEST_BYTES, type KioskStatusView } from '../../shared/kiosk/contract.js';
import { setLogSink, type LogFields, type LogLevel } from '../../shared/logger.js';
import { registerKiosk } from '../../electron/central/kiosk-registry.js';
import { initKioskDir } from '../../electron/kiosk/kiosk-init.js';
import { parseKioskSettings, readKioskSettings } from '../../electron/kiosk/kiosk-settings.js';
import { ASSET_FOLDERS, bundleRenderer, CONTENT_SECURITY_POLICY, type RendererBundle } from '../../electron/kiosk/serve/renderer-assets.js';
import { handleKioskIpc } from '../../electron/main/ipc-bridge.js';
import { KioskMain, type KioskMainOptions } from '../../electron/main/kiosk-main.js';
import { AUTOSTART_FILE } from '../../electron/main/login-item.js';
import { centralFactories, startMigrated, type TestCentral } from '../support/centrals.js';
import { addSite } from '../support/roster-fixtures.js';
import { createFakeElectron, FakeEvent, FakeWebContents, type FakeBrowserWindow, type FakeElectron } from './fake-electron.js';

/**
 * The Electron main process with Electron's API replaced by test/electron/fake-electron.ts (the binary cannot run
 * here), and everything else real: a kiosk folder registered on an embedded central, KioskCore, KioskService
 * following central, the real renderer bundle served by the app: protocol.
 */

const APP_PAGE = 'app://kiosk/';
const PRELOAD = '/opt/clockface/dist/electron/preload.cjs';

interface LogRecord {
  level: LogLevel;
  scope: string;
  message: string;
  fields: LogFields;
}
const logs: LogRecord[] = [];

let central: TestCentral;
let admin: pg.Client;
let bundle: RendererBundle;
const work = mkdtempSync(join(tmpdir(), 'clockface-electron-'));
let kiosks = 0;

beforeAll(async () => {
  setLogSink((record) => logs.push(record));
  const factory = centralFactories().find((f) => f.kind === 'embedded')!;
  [central, bundle] = await Promise.all([startMigrated(factory), bundleRenderer()]);
  admin = await central.connect();
  await addSite(admin, 'hq');
});
afterAll(async () => {
  await admin.end();
  await central.close();
  rmSync(work, { recursive: true, force: true });
});

/** A fresh kiosk registered on central and its folder, as `kiosk add` + `kiosk init` make them. */
async function newKioskDir(): Promise<{ dir: string; name: string }> {
  const name = `door-${++kiosks}`;
  const registered = await registerKiosk(admin, central.url, { name, site: 'hq' });
  const dir = join(work, name);
  await initKioskDir(dir, parseKioskSettings({ ...registered.settings, kioskId: registered.id, engine: 'sqlite-vec' }, 'test'));
  return { dir, name };
}

interface Running {
  electron: FakeElectron;
  main: KioskMain;
  window: FakeBrowserWindow;
  contents: FakeWebContents;
  dir: string;
  name: string;
  invoke(channel: string, request: unknown, sender?: string | null): Promise<unknown>;
}

let running: Running[] = [];

async function startKiosk(options: Partial<KioskMainOptions> = {}): Promise<Running> {
  const { dir, name } = await newKioskDir();
  const electron = createFakeElectron();
  const started = KioskMain.start(electron, { kioskDir: dir, preloadPath: PRELOAD, bundleRenderer: () => Promise.resolve(bundle), ...options });
  if (!started) throw new Error('the kiosk did not start');
  electron.app.becomeReady();
  await started.ready;
  const window = electron.created[0];
  if (!window) throw new Error('no window');
  const r: Running = {
    electron,
    main: started.main,
    window,
    contents: window.webContents,
    dir,
    name,
    invoke: (channel, request, sender = APP_PAGE) => electron.ipcMain.invoke(sender, `kiosk:${channel}`, request),
  };
  running.push(r);
  return r;
}

afterEach(async () => {
  for (const r of running) {
    r.main.leave('signal');
    await r.main.stopped;
  }
  running = [];
  vi.useRealTimers();
});

const refused = (message: RegExp) => ({ ok: false, error: { code: 'BRIDGE_INVALID', message: expect.stringMatching(message) } });

describe('the kiosk window', () => {
  it('is one full-screen kiosk window with exactly the locked-down options and the preload', async () => {
    const { electron, window } = await startKiosk();
    expect(electron.created).toHaveLength(1);
    expect(window.options).toEqual({
      title: 'Clockface',
      kiosk: true,
      fullscreen: true,
      autoHideMenuBar: true,
      backgroundColor: '#101418',
      webPreferences: {
        preload: PRELOAD,
        contextIsolation: true,
        sandbox: true,
        nodeIntegration: false,
        nodeIntegrationInWorker: false,
        nodeIntegrationInSubFrames: false,
        webSecurity: true,
        allowRunningInsecureContent: false,
        webviewTag: false,
        navigateOnDragDrop: false,
        spellcheck: false,
        devTools: false,
      },
    });
  });

  it('loads the screen from app://kiosk/ (never file://), keeps the display awake, and has no menu', async () => {
    const { electron, window } = await startKiosk();
    expect(window.loaded).toEqual([APP_PAGE]);
    expect(electron.privileged).toEqual([
      { scheme: 'app', privileges: { standard: true, secure: true, supportFetchAPI: true, stream: true } },
    ]);
    expect([...electron.powerSave.started.values()]).toEqual(['prevent-display-sleep']);
    expect(electron.menu.set).toEqual([null]);
  });

  it('serves the bundled screen and the model and WASM files from app://kiosk with the CSP; nothing else', async () => {
    const { electron } = await startKiosk();
    const handler = electron.protocolHandlers.get('app')!;
    const get = (url: string, method = 'GET') => Promise.resolve(handler(new Request(url, { method })));

    const page = await get(APP_PAGE);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    expect(await page.text()).toBe(bundle.html);
    expect(await (await get('app://kiosk/app.js')).text()).toBe(bundle.js);
    expect(await (await get('app://kiosk/kiosk.css')).text()).toBe(bundle.css);

    const [modelsPrefix, modelsDir] = ASSET_FOLDERS[0]!;
    const modelFile = readdirSync(modelsDir).find((f) => f.endsWith('.json'))!;
    const model = await get(`app://kiosk${modelsPrefix}${modelFile}`);
    expect(model.status).toBe(200);
    expect(model.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    expect(Buffer.from(await model.arrayBuffer()).equals(readFileSync(join(modelsDir, modelFile)))).toBe(true);
    const wasm = await get('app://kiosk/wasm/tfjs-backend-wasm.wasm');
    expect(wasm.status).toBe(200);
    expect(wasm.headers.get('content-type')).toBe('application/wasm');

    expect((await get('app://kiosk/models/..%2f..%2fpackage.json')).status).toBe(404);
    expect((await get('app://kiosk/models/%2e%2e/%2e%2e/package.json')).status).toBe(404);
    expect((await get('app://kiosk/package.json')).status).toBe(404);
    expect((await get('app://other/')).status).toBe(404);
    expect((await get(APP_PAGE, 'POST')).status).toBe(405);
  });
});

describe('permissions', () => {
  it('grants the camera to app://kiosk only, and denies every other permission and origin', async () => {
    const { electron } = await startKiosk();
    const session = electron.session.defaultSession;
    expect(await session.request('media', APP_PAGE, ['video'])).toBe(true);
    expect(await session.request('media', 'app://kiosk/index.html', ['video'])).toBe(true);

    for (const other of ['https://evil.example/', 'http://127.0.0.1:5180/', 'file:///tmp/page.html', 'app://kiosk.evil/', 'app://kiosk@evil/', 'app://other/']) {
      expect(await session.request('media', other, ['video']), other).toBe(false);
    }
    expect(await session.request('media', APP_PAGE, ['video', 'audio'])).toBe(false);
    expect(await session.request('media', APP_PAGE, ['audio'])).toBe(false);
    for (const permission of ['geolocation', 'notifications', 'clipboard-read', 'display-capture', 'midiSysex', 'openExternal', 'fullscreen', 'hid', 'serial', 'usb', 'fileSystem']) {
      expect(await session.request(permission, APP_PAGE), permission).toBe(false);
    }

    expect(session.check('media', 'app://kiosk', 'video')).toBe(true);
    expect(session.check('media', 'https://evil.example', 'video')).toBe(false);
    expect(session.check('media', 'app://kiosk', 'audio')).toBe(false);
    expect(session.check('geolocation', 'app://kiosk')).toBe(false);
    expect(session.check('notifications', 'app://kiosk')).toBe(false);
  });
});

describe('navigation', () => {
  it('blocks navigation, redirects, window.open and webviews, in the kiosk window and in any later web contents', async () => {
    const { electron, contents } = await startKiosk();
    for (const url of ['https://evil.example/', 'file:///etc/passwd', 'app://kiosk/elsewhere', 'javascript:alert(1)']) {
      expect(contents.navigate(url), url).toBe(false);
    }
    expect(contents.navigate('https://evil.example/', 'will-frame-navigate')).toBe(false);
    expect(contents.navigate('https://evil.example/', 'will-redirect')).toBe(false);
    expect(contents.windowOpenHandler?.({ url: 'https://evil.example/' })).toEqual({ action: 'deny' });
    expect(contents.attachWebview()).toBe(false);

    const later = new FakeWebContents();
    electron.app.emit('web-contents-created', {}, later);
    expect(later.navigate('https://evil.example/')).toBe(false);
    expect(later.windowOpenHandler?.({ url: 'https://evil.example/' })).toEqual({ action: 'deny' });
  });
});

describe('the IPC bridge', () => {
  it('has exactly one handler per contract channel, named kiosk:<channel>; any other channel has none', async () => {
    const { electron, invoke } = await startKiosk();
    expect([...electron.ipcMain.handlers.keys()].sort()).toEqual(KIOSK_CHANNELS.map((c) => `kiosk:${c}`).sort());
    await expect(invoke('dropTables', {})).rejects.toThrow(/No handler registered/);
    await expect(electron.ipcMain.invoke(APP_PAGE, 'getStatus', {})).rejects.toThrow(/No handler registered/);
  });

  it('passes a valid request from app://kiosk to the real KioskService and answers its Result', async () => {
    const { invoke, name, dir } = await startKiosk();
    const status = (await invoke('getStatus', {})) as { ok: true; value: KioskStatusView };
    expect(status).toMatchObject({ ok: true, value: { kioskName: name, site: 'hq', needsAdminPin: true } });
    const set = await invoke('setAdminPin', { pin: '2468' });
    expect(set).toMatchObject({ ok: true, value: { adminToken: expect.any(String) } });
    expect(readKioskSettings(dir).adminPinHash).toMatch(/^scrypt\$/);
    // The service's own validation still answers through the bridge.
    expect(await invoke('punchWithPin', { employeeNo: 'E1', pin: 'abc' })).toMatchObject({ ok: false, error: { code: 'BRIDGE_INVALID' } });
  });

  it('refuses a request from any frame that is not app://kiosk; the service never sees it', async () => {
    const { invoke, dir, main } = await startKiosk();
    for (const sender of ['https://evil.example/', 'file:///tmp/x.html', 'app://kiosk.evil/', 'app://kiosk@evil/', 'about:blank', null]) {
      expect(await invoke('setAdminPin', { pin: '1357' }, sender), String(sender)).toEqual(refused(/another origin/));
    }
    expect(readKioskSettings(dir).adminPinHash).toBeUndefined();
    expect(main.service?.status().needsAdminPin).toBe(true);
  });

  it('refuses a request over MAX_REQUEST_BYTES before the schema sees it (the schema alone would accept it)', async () => {
    const { invoke, dir, main } = await startKiosk();
    // Unknown keys are stripped by the schema: without the size limit this would set the admin PIN.
    const oversized = { pin: '1357', padding: 'x'.repeat(MAX_REQUEST_BYTES) };
    expect(await invoke('setAdminPin', oversized)).toEqual(refused(new RegExp(`limited to ${MAX_REQUEST_BYTES} bytes`)));
    expect(readKioskSettings(dir).adminPinHash).toBeUndefined();
    expect(await main.service!.handle('setAdminPin', structuredClone(oversized))).toMatchObject({ ok: true });
  });

  it('refuses extra arguments and values that are not JSON; an unknown channel reaching the handler is refused', async () => {
    const { electron, main } = await startKiosk();
    expect(await electron.ipcMain.invoke(APP_PAGE, 'kiosk:getStatus', {}, {})).toEqual(refused(/exactly one value/));
    expect(await electron.ipcMain.invoke(APP_PAGE, 'kiosk:getStatus')).toEqual(refused(/exactly one value/));
    expect(await electron.ipcMain.invoke(APP_PAGE, 'kiosk:getStatus', 10n)).toEqual(refused(/not a JSON value/));
    expect(await electron.ipcMain.invoke(APP_PAGE, 'kiosk:getStatus', undefined)).toEqual(refused(/not a JSON value/));
    const event = { senderFrame: { url: APP_PAGE } };
    expect(await handleKioskIpc(main.service!, 'dropTables', event, [{}])).toEqual(refused(/unknown channel/));
  });
});

describe('status events', () => {
  it('pushes the service status to the window on kiosk-event:status (here after the first sync: main follows central)', async () => {
    const { contents, name } = await startKiosk();
    await vi.waitFor(() => expect(contents.sent.some((m) => m.channel === 'kiosk-event:status')).toBe(true), { timeout: 30_000 });
    const pushed = contents.sent.find((m) => m.channel === 'kiosk-event:status')!.payload as KioskStatusView;
    expect(pushed).toMatchObject({ kioskName: name, online: true });
    expect(pushed.lastSyncAt).not.toBeNull();
    expect(contents.sent.every((m) => m.channel === 'kiosk-event:status')).toBe(true);
  });
});

describe('leaving the kiosk', () => {
  it('refuses window close and quit until exitKiosk from admin mode; then stops everything and exits 0', async () => {
    const { electron, window, invoke, main } = await startKiosk();
    expect(window.close()).toBe(false);
    // before-quit itself is refused (it also comes when no window is open yet, e.g. Cmd+Q during start-up).
    const beforeQuit = new FakeEvent();
    electron.app.emit('before-quit', beforeQuit);
    expect(beforeQuit.defaultPrevented).toBe(true);
    electron.app.quit();
    expect(electron.app.quitted).toBe(false);
    expect(window.isDestroyed()).toBe(false);
    expect(await invoke('exitKiosk', { adminToken: 'x'.repeat(32) })).toMatchObject({ ok: false, error: { code: 'ADMIN_LOCKED' } });
    expect(window.close()).toBe(false);

    const set = (await invoke('setAdminPin', { pin: '8642' })) as { ok: true; value: { adminToken: string } };
    expect(await invoke('exitKiosk', { adminToken: set.value.adminToken })).toEqual({ ok: true, value: null });
    await main.stopped;
    expect(electron.app.exitCode).toBe(0);
    expect(window.isDestroyed()).toBe(true);
    expect(electron.ipcMain.handlers.size).toBe(0);
    expect(electron.powerSave.started.size).toBe(0);
    expect(main.core).toBeNull();
    expect(logs.some((r) => r.message === 'leaving the kiosk' && r.fields['reason'] === 'admin')).toBe(true);
  });

  it('a signal from the system (shutdown, Ctrl-C) lets the quit through', async () => {
    const { electron, main, window } = await startKiosk();
    main.leave('signal');
    await main.stopped;
    expect(electron.app.exitCode).toBe(0);
    expect(window.isDestroyed()).toBe(true);
  });
});

describe('a crashed or hung screen', () => {
  it('is reloaded after a crash, with a log line of reason and exit code only; a second crash soon after waits first', async () => {
    const { contents } = await startKiosk({ crashPauseMs: 200 });
    logs.length = 0;
    contents.crash({ reason: 'crashed', exitCode: 139 });
    expect(contents.reloads).toBe(1);
    const line = logs.find((r) => r.message === 'kiosk screen process gone; reloading');
    expect(line?.level).toBe('error');
    expect(line?.fields).toEqual({ reason: 'crashed', exitCode: 139, pauseMs: 0 });

    contents.crash({ reason: 'oom', exitCode: 0 });
    expect(contents.reloads).toBe(1);
    await vi.waitFor(() => expect(contents.reloads).toBe(2), { timeout: 5_000 });
  });

  it('is restarted when it stays unresponsive past the grace period, and left alone when it recovers', async () => {
    const { contents } = await startKiosk({ hangGraceMs: 100 });
    contents.emit('unresponsive');
    contents.emit('responsive');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(contents.forcedCrashes).toBe(0);
    expect(contents.reloads).toBe(0);

    contents.emit('unresponsive');
    await vi.waitFor(() => expect(contents.forcedCrashes).toBe(1), { timeout: 5_000 });
    expect(contents.reloads).toBe(1);
  });
});

describe('one kiosk per machine', () => {
  it('a second start hands over and quits: no window, no kiosk opened, no scheme registered', () => {
    const electron = createFakeElectron();
    electron.app.lockAvailable = false;
    expect(KioskMain.start(electron, { kioskDir: join(work, 'never-made'), preloadPath: PRELOAD })).toBeNull();
    expect(electron.app.quitCalls).toBe(1);
    expect(electron.created).toHaveLength(0);
    expect(electron.privileged).toHaveLength(0);
    expect(electron.ipcMain.handlers.size).toBe(0);
  });

  it('the running kiosk comes to the front (restored if minimised) when a second start is attempted', async () => {
    const { electron, window } = await startKiosk();
    window.minimized = true;
    electron.app.emit('second-instance');
    expect(window.restored).toBe(1);
    expect(window.shown).toBe(1);
    expect(window.focused).toBe(1);
  });
});

describe('start-up', () => {
  it('a folder that is not a kiosk folder: an error box saying what to do, exit code 1, no window', async () => {
    const electron = createFakeElectron();
    const started = KioskMain.start(electron, { kioskDir: join(work, 'not-a-kiosk'), preloadPath: PRELOAD, bundleRenderer: () => Promise.resolve(bundle) });
    electron.app.becomeReady();
    await started!.ready;
    expect(electron.app.exitCode).toBe(1);
    expect(electron.created).toHaveLength(0);
    expect(electron.errorBoxes).toEqual([{ title: 'Clockface cannot start', content: expect.stringMatching(/not a kiosk folder[\s\S]*kiosk init/) }]);
  });

  it('a signal before the app is ready: it quits with exit code 0 and opens nothing', async () => {
    const { dir } = await newKioskDir();
    const electron = createFakeElectron();
    const started = KioskMain.start(electron, { kioskDir: dir, preloadPath: PRELOAD, bundleRenderer: () => Promise.resolve(bundle) })!;
    started.main.leave('signal');
    electron.app.becomeReady();
    await started.ready;
    await started.main.stopped;
    expect(electron.app.exitCode).toBe(0);
    expect(electron.created).toHaveLength(0);
    expect(started.main.core).toBeNull();
  });

  it('adds the login item when asked (Linux: an XDG autostart entry)', async () => {
    const autostartDir = join(work, 'autostart');
    await startKiosk({
      startAtLogin: {
        enabled: true,
        target: { platform: 'linux', app: { setLoginItemSettings: () => undefined }, command: ['/opt/Clockface/clockface-kiosk'], autostartDir },
      },
    });
    expect(readFileSync(join(autostartDir, AUTOSTART_FILE), 'utf8')).toContain('Exec="/opt/Clockface/clockface-kiosk"');
  });
});
