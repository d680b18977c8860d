import type {
  BrowserWindowConstructorOptions,
  CustomScheme,
  PermissionCheckHandlerHandlerDetails,
  RenderProcessGoneDetails,
  Settings,
} from 'electron';

/**
 * The parts of Electron's main-process API that the kiosk uses, and nothing more.
 *
 * Main is written against this interface so that its rules (window options, permissions, navigation, IPC checks,
 * leaving only through admin mode) are unit-tested with Electron replaced: the Electron binary cannot be downloaded
 * on the development machines (docs/kiosk.md, "Electron app and packaging"). index.ts hands in the real module; the compiler checks there
 * that the real objects fit these shapes, so a renamed Electron API breaks the build, not the kiosk.
 *
 * Event listeners take the arguments the kiosk reads; Electron passes more, which is fine for a listener.
 */

export interface PreventableEvent {
  preventDefault(): void;
}

export interface AppLike {
  readonly isPackaged: boolean;
  requestSingleInstanceLock(): boolean;
  whenReady(): Promise<unknown>;
  quit(): void;
  exit(exitCode?: number): void;
  setLoginItemSettings(settings: Settings): void;
  on(event: 'second-instance' | 'window-all-closed', listener: () => void): unknown;
  on(event: 'before-quit' | 'will-quit', listener: (event: PreventableEvent) => void): unknown;
  on(event: 'web-contents-created', listener: (event: PreventableEvent, contents: WebContentsLike) => void): unknown;
}

export interface WillNavigateEvent extends PreventableEvent {
  readonly url: string;
}

export interface WebContentsLike {
  send(channel: string, payload: unknown): void;
  reload(): void;
  forcefullyCrashRenderer(): void;
  isDestroyed(): boolean;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' }): void;
  on(event: 'will-navigate' | 'will-frame-navigate' | 'will-redirect', listener: (event: WillNavigateEvent) => void): unknown;
  on(event: 'will-attach-webview', listener: (event: PreventableEvent) => void): unknown;
  on(event: 'render-process-gone', listener: (event: PreventableEvent, details: RenderProcessGoneDetails) => void): unknown;
  on(event: 'unresponsive' | 'responsive', listener: () => void): unknown;
}

export interface BrowserWindowLike {
  readonly webContents: WebContentsLike;
  loadURL(url: string): Promise<void>;
  isDestroyed(): boolean;
  isMinimized(): boolean;
  restore(): void;
  show(): void;
  focus(): void;
  on(event: 'close', listener: (event: PreventableEvent) => void): unknown;
  on(event: 'closed', listener: () => void): unknown;
}

export type BrowserWindowConstructorLike = new (options: BrowserWindowConstructorOptions) => BrowserWindowLike;

/** A permission request as Electron describes it (media requests also say which media). */
export interface PermissionRequestDetails {
  requestingUrl: string;
  isMainFrame: boolean;
  mediaTypes?: Array<'video' | 'audio'>;
}

export type PermissionRequestHandler = (
  webContents: unknown,
  permission: string,
  callback: (granted: boolean) => void,
  details: PermissionRequestDetails,
) => void;

export type PermissionCheckHandler = (
  webContents: unknown,
  permission: string,
  requestingOrigin: string,
  details: PermissionCheckHandlerHandlerDetails,
) => boolean;

export interface SessionLike {
  setPermissionRequestHandler(handler: PermissionRequestHandler | null): void;
  setPermissionCheckHandler(handler: PermissionCheckHandler | null): void;
}

export interface ProtocolLike {
  registerSchemesAsPrivileged(schemes: CustomScheme[]): void;
  handle(scheme: string, handler: (request: Request) => Response | Promise<Response>): void;
}

/** What main reads of an `ipcMain.handle` event: which frame sent it. */
export interface IpcInvokeEventLike {
  readonly senderFrame: { readonly url: string } | null;
}

export interface IpcMainLike {
  handle(channel: string, listener: (event: IpcInvokeEventLike, ...args: unknown[]) => unknown): void;
  removeHandler(channel: string): void;
}

export interface PowerSaveBlockerLike {
  start(type: 'prevent-app-suspension' | 'prevent-display-sleep'): number;
  stop(id: number): boolean;
}

export interface MenuLike {
  setApplicationMenu(menu: null): void;
}

export interface DialogLike {
  showErrorBox(title: string, content: string): void;
}

export interface ElectronLike {
  app: AppLike;
  BrowserWindow: BrowserWindowConstructorLike;
  session: { readonly defaultSession: SessionLike };
  protocol: ProtocolLike;
  ipcMain: IpcMainLike;
  powerSaveBlocker: PowerSaveBlockerLike;
  Menu: MenuLike;
  dialog: DialogLike;
}
