/**
 * The kiosk screen's entry point (browser code only: Electron's sandboxed renderer, or Chromium in browser mode).
 */
import { KioskApp } from './kiosk/app.js';
import { connectBridge } from './kiosk/bridge.js';
import { chosenLanguage, strings } from './kiosk/i18n.js';

const root = document.getElementById('app');
if (root) {
  const t = strings();
  document.documentElement.lang = chosenLanguage();
  void new KioskApp(root, connectBridge(), t).start();
}
