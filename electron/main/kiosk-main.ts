import { isClockfaceError } from '../../shared/errors.js';
import { createLogger } from '../../shared/logger.js';
import { KioskCore } from '../kiosk/kiosk-core.js';
import { KioskService } from '../kiosk/kiosk-service.js';
import { bundleRenderer, type RendererBundle } from '../kiosk/serve/renderer-assets.js';
import { kioskIpcEvent } from '../preload/ipc-channels.js';
import { APP_SCHEME, APP_SCHEME_PRIVILEGES, APP_URL, createAppProtocolHandler } from './app-protocol.js';
import type { BrowserWindowLike, ElectronLike, PreventableEvent, WebContentsLike } from './electron-like.js';
import { registerKioskIpc } from './ipc-bridge.js';
import { applyStartAtLogin, type LoginItemTarget } from './login-item.js';
import { guardWebContents, installPermissionHandlers, kioskWindowOptions } from './web-security.js';

const log = createLogger('kiosk.main');

export interface KioskMainOptions {
  /** The kiosk folder (kiosk.json + kiosk.db), made by `clockface kiosk init` or `npm start`. */
  kioskDir: string;
  /** The bundled preload (dist/electron/preload.cjs, made by `npm run build:electron`). */
  preloadPath: string;
  /** Add (true) or remove (false) the login item at start; absent: leave it alone. */
  startAtLogin?: { enabled: boolean; target: LoginItemTarget };
  devTools?: boolean;
  /** The screen's files; the real bundle by default (tests share one). */
  bundleRenderer?: () => Promise<RendererBundle>;
  /** How long a hung screen may stay unresponsive before its process is restarted. */
  hangGraceMs?: number;
  /** A second crash within this long waits `crashPauseMs` before the reload, so a crash loop does not spin. */
  crashWindowMs?: number;
  crashPauseMs?: number;
  /** Longest wait for the service's last upload when leaving. */
  stopTimeoutMs?: number;
}

export type LeaveReason = 'admin' | 'signal';

/**
 * The kiosk's main process: one full-screen, locked-down window showing the clock-in screen from `app://kiosk`, and
 * the kiosk core behind the typed bridge. It can only be left through admin mode (the `exitKiosk` request, after the
 * admin PIN) or by a signal from the system (shutdown, `npm start`'s Ctrl-C); closing the window and quitting are
 * refused otherwise.
 */
export class KioskMain {
  private leaving = false;
  private stoppedCleanly = false;
  private windowRef: BrowserWindowLike | null = null;
  private coreRef: KioskCore | null = null;
  private serviceRef: KioskService | null = null;
  private readonly cleanups: Array<() => void> = [];
  private hangTimer: NodeJS.Timeout | null = null;
  private readonly recentCrashes: number[] = [];
  private resolveStopped!: () => void;
  /** Resolves when the process is about to exit (app.exit called). */
  readonly stopped = new Promise<void>((resolve) => (this.resolveStopped = resolve));

  private constructor(
    private readonly electron: ElectronLike,
    private readonly options: KioskMainOptions,
  ) {}

  /**
   * Starts the kiosk, or hands over to the instance already running (which comes to the front) and returns null.
   * Must run before the app is ready: the `app:` scheme can only be made privileged then. `ready` settles once the
   * window has loaded (or start-up failed, which shows an error box and exits with code 1).
   */
  static start(electron: ElectronLike, options: KioskMainOptions): { main: KioskMain; ready: Promise<void> } | null {
    const { app } = electron;
    if (!app.requestSingleInstanceLock()) {
      log.info('another kiosk is already running on this machine; handing over to it');
      app.quit();
      return null;
    }
    electron.protocol.registerSchemesAsPrivileged([APP_SCHEME_PRIVILEGES]);
    const main = new KioskMain(electron, options);
    main.guardApp();
    return { main, ready: main.open() };
  }

  get window(): BrowserWindowLike | null {
    return this.windowRef;
  }

  get service(): KioskService | null {
    return this.serviceRef;
  }

  /** The open kiosk core; null before start-up and after the kiosk stopped. */
  get core(): KioskCore | null {
    return this.coreRef;
  }

  /** Leaves the kiosk: the only way past the close and quit guards. */
  leave(reason: LeaveReason): void {
    if (this.leaving) return;
    this.leaving = true;
    log.info('leaving the kiosk', { reason });
    this.electron.app.quit();
  }

  private guardApp(): void {
    const { app } = this.electron;
    // Every web contents, this window's included, is guarded from the moment it exists.
    app.on('web-contents-created', (_event, contents) => guardWebContents(contents));
    app.on('second-instance', () => this.bringToFront());
    app.on('before-quit', (event) => this.refuseUnlessLeaving(event, 'quit'));
    // The window only closes when leaving; then the quit already under way finishes.
    app.on('window-all-closed', () => undefined);
    app.on('will-quit', (event) => {
      if (this.stoppedCleanly) return;
      event.preventDefault();
      void this.stop().finally(() => {
        this.stoppedCleanly = true;
        this.resolveStopped();
        app.exit(0);
      });
    });
  }

  private refuseUnlessLeaving(event: PreventableEvent, what: 'quit' | 'window close'): void {
    if (this.leaving) return;
    event.preventDefault();
    log.warn(`${what} refused: the kiosk is left from admin mode`);
  }

  private bringToFront(): void {
    const window = this.windowRef;
    if (!window || window.isDestroyed()) return;
    log.info('a second start brought the running kiosk to the front');
    if (window.isMinimized()) window.restore();
    window.show();
    window.focus();
  }

  private async open(): Promise<void> {
    const { app, Menu, protocol, session, ipcMain, powerSaveBlocker, BrowserWindow } = this.electron;
    await app.whenReady();
    if (this.leaving) return;
    // No menu: no accelerators for reload, developer tools, close or quit.
    Menu.setApplicationMenu(null);
    if (this.options.startAtLogin) {
      try {
        applyStartAtLogin(this.options.startAtLogin.enabled, this.options.startAtLogin.target);
      } catch (e) {
        log.error('start at login could not be set', { error: (e as Error).message });
      }
    }

    let core: KioskCore;
    let bundle: RendererBundle;
    try {
      core = this.coreRef = KioskCore.open(this.options.kioskDir);
      bundle = await (this.options.bundleRenderer ?? bundleRenderer)();
    } catch (e) {
      return this.failStart(e);
    }
    if (this.leaving) {
      // A signal arrived while the screen was being bundled; the quit under way may have closed the core already.
      if (this.coreRef === core) core.close();
      this.coreRef = null;
      return;
    }
    if (core.recovery) {
      log.warn('the kiosk database was damaged and rebuilt; punches were kept', {
        reason: core.recovery.reason,
        salvaged: core.recovery.punchesSalvaged,
        fromJournal: core.recovery.punchesFromJournal,
      });
    }
    const service = new KioskService(core, { follow: true, onExit: () => this.leave('admin') });
    this.serviceRef = service;

    protocol.handle(APP_SCHEME, createAppProtocolHandler(bundle));
    installPermissionHandlers(session.defaultSession);
    this.cleanups.push(registerKioskIpc(ipcMain, service));

    const window = new BrowserWindow(kioskWindowOptions(this.options.preloadPath, { devTools: this.options.devTools ?? false }));
    this.windowRef = window;
    window.on('close', (event) => this.refuseUnlessLeaving(event, 'window close'));
    this.watchScreen(window.webContents);
    this.cleanups.push(
      service.onStatus((status) => {
        if (!window.isDestroyed() && !window.webContents.isDestroyed()) window.webContents.send(kioskIpcEvent('status'), status);
      }),
    );
    const blocker = powerSaveBlocker.start('prevent-display-sleep');
    this.cleanups.push(() => powerSaveBlocker.stop(blocker));

    service.start();
    try {
      await window.loadURL(APP_URL);
    } catch (e) {
      // A load cut short (the screen crashed and is being reloaded) is not a start-up failure.
      log.warn('kiosk screen load interrupted', { error: (e as Error).message });
    }
    log.info('kiosk window open', { kiosk: core.settings.kioskName });
  }

  /** Start-up failed (kiosk folder missing or invalid, screen not bundled): say so on screen, exit 1. */
  private failStart(e: unknown): void {
    const message = (e as Error).message;
    const hint = isClockfaceError(e) ? e.hint : undefined;
    log.error('kiosk could not start', { error: message, code: isClockfaceError(e) ? e.code : 'INTERNAL' });
    this.electron.dialog.showErrorBox('Clockface cannot start', hint ? `${message}\n\n${hint}` : message);
    this.leaving = true;
    this.coreRef?.close();
    this.coreRef = null;
    this.stoppedCleanly = true;
    this.resolveStopped();
    this.electron.app.exit(1);
  }

  /**
   * A crashed screen is reloaded (at once the first time; after a pause when it crashes again soon, so that a
   * crash loop does not spin). A hung one gets `hangGraceMs` to recover, then its process is killed, which comes
   * back here as a crash. Log lines carry the reason and exit code, nothing from the page.
   */
  private watchScreen(contents: WebContentsLike): void {
    const hangGraceMs = this.options.hangGraceMs ?? 15_000;
    const crashWindowMs = this.options.crashWindowMs ?? 60_000;
    const crashPauseMs = this.options.crashPauseMs ?? 10_000;
    contents.on('render-process-gone', (_event, details) => {
      this.clearHang();
      if (this.leaving) return;
      const now = Date.now();
      while (this.recentCrashes.length > 0 && now - (this.recentCrashes[0] ?? now) > crashWindowMs) this.recentCrashes.shift();
      this.recentCrashes.push(now);
      const pause = this.recentCrashes.length > 1 ? crashPauseMs : 0;
      log.error('kiosk screen process gone; reloading', { reason: details.reason, exitCode: details.exitCode, pauseMs: pause });
      if (pause === 0) contents.reload();
      else {
        const timer = setTimeout(() => {
          if (!this.leaving && !contents.isDestroyed()) contents.reload();
        }, pause);
        this.cleanups.push(() => clearTimeout(timer));
      }
    });
    contents.on('unresponsive', () => {
      if (this.hangTimer || this.leaving) return;
      log.warn('kiosk screen unresponsive', { graceMs: hangGraceMs });
      this.hangTimer = setTimeout(() => {
        this.hangTimer = null;
        if (this.leaving || contents.isDestroyed()) return;
        log.error('kiosk screen hung; restarting its process');
        contents.forcefullyCrashRenderer();
      }, hangGraceMs);
    });
    contents.on('responsive', () => {
      if (this.hangTimer) log.info('kiosk screen responsive again');
      this.clearHang();
    });
  }

  private clearHang(): void {
    if (this.hangTimer) clearTimeout(this.hangTimer);
    this.hangTimer = null;
  }

  /** Before the process exits: handlers off, display sleep allowed again, last upload awaited (bounded), DB closed. */
  private async stop(): Promise<void> {
    this.clearHang();
    for (const cleanup of this.cleanups.splice(0)) cleanup();
    const stopping = this.serviceRef?.stop() ?? Promise.resolve();
    const timeoutMs = this.options.stopTimeoutMs ?? 5_000;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      stopping.then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), timeoutMs))),
    ]).catch((e: unknown) => {
      log.error('kiosk service stopped with an error', { error: (e as Error).message });
      return false;
    });
    clearTimeout(timer);
    if (timedOut) log.warn('the last upload did not finish in time; the punches stay queued', { timeoutMs });
    else this.coreRef?.close();
    this.coreRef = null;
    log.info('kiosk stopped');
  }
}
