import { EventEmitter } from 'node:events';
import type { BrowserWindowConstructorOptions, CustomScheme, RenderProcessGoneDetails, Settings } from 'electron';
import type {
  AppLike,
  BrowserWindowLike,
  ElectronLike,
  IpcInvokeEventLike,
  IpcMainLike,
  PermissionCheckHandler,
  PermissionRequestHandler,
  PreventableEvent,
  SessionLike,
  WebContentsLike,
} from '../../electron/main/electron-like.js';

/**
 * Electron's main-process API, replaced: the one fake this project allows, because the Electron binary cannot be
 * downloaded here (docs/kiosk.md, "Electron app and packaging"). It keeps the behaviour the kiosk relies on: a quit emits before-quit, asks
 * every window to close and emits will-quit, each of which a listener can prevent; ipcMain.handle refuses a second
 * handler for a channel and an invoke of a channel nobody handles fails; a new window's web contents is announced
 * by app 'web-contents-created' before the constructor returns; forcefullyCrashRenderer emits render-process-gone.
 */

export class FakeEvent implements PreventableEvent {
  defaultPrevented = false;
  constructor(readonly url?: string) {}
  preventDefault(): void {
    this.defaultPrevented = true;
  }
}

export class FakeWebContents extends EventEmitter implements WebContentsLike {
  readonly sent: Array<{ channel: string; payload: unknown }> = [];
  reloads = 0;
  forcedCrashes = 0;
  destroyed = false;
  windowOpenHandler: ((details: { url: string }) => { action: 'deny' }) | null = null;

  send(channel: string, payload: unknown): void {
    this.sent.push({ channel, payload });
  }
  reload(): void {
    this.reloads++;
  }
  forcefullyCrashRenderer(): void {
    this.forcedCrashes++;
    this.crash({ reason: 'killed', exitCode: 9 });
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' }): void {
    this.windowOpenHandler = handler;
  }
  /** The page (or a user) starts a navigation; returns whether it was allowed. */
  navigate(url: string, event: 'will-navigate' | 'will-frame-navigate' | 'will-redirect' = 'will-navigate'): boolean {
    const e = new FakeEvent(url);
    this.emit(event, e);
    return !e.defaultPrevented;
  }
  attachWebview(): boolean {
    const e = new FakeEvent();
    this.emit('will-attach-webview', e, {}, {});
    return !e.defaultPrevented;
  }
  crash(details: RenderProcessGoneDetails): void {
    this.emit('render-process-gone', new FakeEvent(), details);
  }
}

export class FakeApp extends EventEmitter implements AppLike {
  isPackaged = false;
  lockAvailable = true;
  quitCalls = 0;
  exitCode: number | null = null;
  loginItem: Settings | null = null;
  readonly windows = new Set<FakeBrowserWindow>();
  private readyResolve!: () => void;
  private readonly ready = new Promise<void>((resolve) => (this.readyResolve = resolve));

  requestSingleInstanceLock(): boolean {
    return this.lockAvailable;
  }
  whenReady(): Promise<void> {
    return this.ready;
  }
  becomeReady(): void {
    this.readyResolve();
  }
  /** As Electron: before-quit, then every window asked to close, then will-quit; any of them may stop the quit. */
  quit(): void {
    this.quitCalls++;
    const before = new FakeEvent();
    this.emit('before-quit', before);
    if (before.defaultPrevented) return;
    for (const window of [...this.windows]) if (!window.close()) return;
    const will = new FakeEvent();
    this.emit('will-quit', will);
    if (!will.defaultPrevented && this.exitCode === null) this.exitCode = 0;
  }
  exit(exitCode = 0): void {
    this.exitCode = exitCode;
    for (const window of this.windows) window.destroy();
  }
  setLoginItemSettings(settings: Settings): void {
    this.loginItem = settings;
  }
  get quitted(): boolean {
    return this.exitCode !== null;
  }
}

export class FakeIpcMain implements IpcMainLike {
  readonly handlers = new Map<string, (event: IpcInvokeEventLike, ...args: unknown[]) => unknown>();

  handle(channel: string, listener: (event: IpcInvokeEventLike, ...args: unknown[]) => unknown): void {
    if (this.handlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`);
    this.handlers.set(channel, listener);
  }
  removeHandler(channel: string): void {
    this.handlers.delete(channel);
  }
  /** ipcRenderer.invoke from a frame showing `senderUrl` (null: a frame already gone). */
  async invoke(senderUrl: string | null, channel: string, ...args: unknown[]): Promise<unknown> {
    const handler = this.handlers.get(channel);
    if (!handler) throw new Error(`Error invoking remote method '${channel}': Error: No handler registered for '${channel}'`);
    // Structured clone, as IPC does: the handler never sees the sender's objects.
    return handler({ senderFrame: senderUrl === null ? null : { url: senderUrl } }, ...structuredClone(args));
  }
}

export class FakeSession implements SessionLike {
  requestHandler: PermissionRequestHandler | null = null;
  checkHandler: PermissionCheckHandler | null = null;
  setPermissionRequestHandler(handler: PermissionRequestHandler | null): void {
    this.requestHandler = handler;
  }
  setPermissionCheckHandler(handler: PermissionCheckHandler | null): void {
    this.checkHandler = handler;
  }
  /** A permission request as Chromium makes it; resolves with the answer. */
  request(permission: string, requestingUrl: string, mediaTypes?: Array<'video' | 'audio'>): Promise<boolean> {
    const handler = this.requestHandler;
    if (!handler) return Promise.resolve(false);
    return new Promise((resolve) => handler({}, permission, resolve, { requestingUrl, isMainFrame: true, ...(mediaTypes ? { mediaTypes } : {}) }));
  }
  check(permission: string, requestingOrigin: string, mediaType?: 'video' | 'audio' | 'unknown'): boolean {
    return this.checkHandler?.({}, permission, requestingOrigin, { isMainFrame: true, ...(mediaType ? { mediaType } : {}) }) ?? false;
  }
}

export class FakeBrowserWindow extends EventEmitter implements BrowserWindowLike {
  readonly webContents = new FakeWebContents();
  readonly loaded: string[] = [];
  minimized = false;
  restored = 0;
  focused = 0;
  shown = 0;
  private destroyed = false;

  constructor(
    readonly options: BrowserWindowConstructorOptions,
    private readonly app: FakeApp,
  ) {
    super();
    app.windows.add(this);
    app.emit('web-contents-created', new FakeEvent(), this.webContents);
  }
  loadURL(url: string): Promise<void> {
    this.loaded.push(url);
    return Promise.resolve();
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
  isMinimized(): boolean {
    return this.minimized;
  }
  restore(): void {
    this.restored++;
    this.minimized = false;
  }
  show(): void {
    this.shown++;
  }
  focus(): void {
    this.focused++;
  }
  /** The user (Alt+F4, the window manager) or a quit asks the window to close; returns whether it closed. */
  close(): boolean {
    if (this.destroyed) return true;
    const e = new FakeEvent();
    this.emit('close', e);
    if (e.defaultPrevented) return false;
    this.destroy();
    return true;
  }
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.webContents.destroyed = true;
    this.app.windows.delete(this);
    this.emit('closed');
    if (this.app.windows.size === 0) this.app.emit('window-all-closed');
  }
}

export interface FakeElectron extends ElectronLike {
  app: FakeApp;
  ipcMain: FakeIpcMain;
  session: { defaultSession: FakeSession };
  created: FakeBrowserWindow[];
  privileged: CustomScheme[];
  protocolHandlers: Map<string, (request: Request) => Response | Promise<Response>>;
  powerSave: { started: Map<number, string>; stopped: number[] };
  menu: { set: Array<null> };
  errorBoxes: Array<{ title: string; content: string }>;
}

export function createFakeElectron(): FakeElectron {
  const app = new FakeApp();
  const created: FakeBrowserWindow[] = [];
  const privileged: CustomScheme[] = [];
  const protocolHandlers = new Map<string, (request: Request) => Response | Promise<Response>>();
  const powerSave = { started: new Map<number, string>(), stopped: [] as number[] };
  const menu = { set: [] as Array<null> };
  const errorBoxes: Array<{ title: string; content: string }> = [];
  let nextBlocker = 1;
  class BrowserWindow extends FakeBrowserWindow {
    constructor(options: BrowserWindowConstructorOptions) {
      super(options, app);
      created.push(this);
    }
  }
  return {
    app,
    BrowserWindow,
    session: { defaultSession: new FakeSession() },
    protocol: {
      registerSchemesAsPrivileged(schemes) {
        privileged.push(...schemes);
      },
      handle(scheme, handler) {
        if (protocolHandlers.has(scheme)) throw new Error(`scheme ${scheme} is already handled`);
        protocolHandlers.set(scheme, handler);
      },
    },
    ipcMain: new FakeIpcMain(),
    powerSaveBlocker: {
      start(type) {
        const id = nextBlocker++;
        powerSave.started.set(id, type);
        return id;
      },
      stop(id) {
        powerSave.stopped.push(id);
        return powerSave.started.delete(id);
      },
    },
    Menu: {
      setApplicationMenu(value) {
        menu.set.push(value);
      },
    },
    dialog: {
      showErrorBox(title, content) {
        errorBoxes.push({ title, content });
      },
    },
    created,
    privileged,
    protocolHandlers,
    powerSave,
    menu,
    errorBoxes,
  };
}
