import type { BrowserWindowConstructorOptions } from 'electron';
import { createLogger } from '../../shared/logger.js';
import { isAppUrl } from './app-protocol.js';
import type { PermissionCheckHandler, PermissionRequestHandler, SessionLike, WebContentsLike } from './electron-like.js';

const log = createLogger('kiosk.main');

/**
 * The kiosk window: full screen in kiosk mode (no title bar, no task switcher on most desktops) and a locked-down
 * renderer: the page runs sandboxed with context isolation and no Node; it sees only what the preload exposes.
 */
export function kioskWindowOptions(preloadPath: string, options: { devTools?: boolean } = {}): BrowserWindowConstructorOptions {
  return {
    title: 'Clockface',
    kiosk: true,
    fullscreen: true,
    autoHideMenuBar: true,
    backgroundColor: '#101418',
    webPreferences: {
      preload: preloadPath,
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
      devTools: options.devTools ?? false,
    },
  };
}

/**
 * Camera only, and only for the kiosk's own origin. `media` covers camera and microphone: a request that includes
 * the microphone is refused too (the screen asks for `audio: false`).
 */
export const permissionRequestHandler: PermissionRequestHandler = (_webContents, permission, callback, details) => {
  const granted = permission === 'media' && isAppUrl(details.requestingUrl) && !(details.mediaTypes ?? []).includes('audio');
  if (!granted) log.warn('permission request denied', { permission, appOrigin: isAppUrl(details.requestingUrl) });
  callback(granted);
};

/** The synchronous checks Chromium makes (e.g. before enumerating cameras): the same rule as requests. */
export const permissionCheckHandler: PermissionCheckHandler = (_webContents, permission, requestingOrigin, details) =>
  permission === 'media' && isAppUrl(requestingOrigin) && details.mediaType !== 'audio';

export function installPermissionHandlers(session: SessionLike): void {
  session.setPermissionRequestHandler(permissionRequestHandler);
  session.setPermissionCheckHandler(permissionCheckHandler);
}

/**
 * Applied to every web contents the app creates: no navigation anywhere (the screen is one page; main loads it and
 * reloads it itself, which these events do not see), no redirects, no new windows, no <webview>. Blocked attempts
 * are logged by scheme only: a URL could carry anything.
 */
export function guardWebContents(contents: WebContentsLike): void {
  const block = (what: string) => (event: { preventDefault(): void; url?: string }) => {
    event.preventDefault();
    log.warn(`${what} blocked`, { scheme: schemeOf(event.url), appOrigin: isAppUrl(event.url) });
  };
  contents.on('will-navigate', block('navigation'));
  contents.on('will-frame-navigate', block('frame navigation'));
  contents.on('will-redirect', block('redirect'));
  contents.on('will-attach-webview', block('webview'));
  contents.setWindowOpenHandler((details) => {
    log.warn('window.open blocked', { scheme: schemeOf(details.url) });
    return { action: 'deny' };
  });
}

function schemeOf(url: string | undefined): string {
  return /^([a-z][a-z0-9+.-]*):/i.exec(url ?? '')?.[1]?.toLowerCase() ?? 'none';
}
