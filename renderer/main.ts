/**
 * The kiosk screen's entry point (browser code only: Electron's sandboxed renderer, or Chromium in browser mode).
 */
import { KioskApp } from './kiosk/app.js';
import { connectBridge } from './kiosk/bridge.js';
import { canShowChinese, setDisplayLanguage } from './kiosk/dom.js';
import { chosenLanguage, strings } from './kiosk/i18n.js';

const root = document.getElementById('app');
if (root) {
  const bridge = connectBridge();
  // Chinese needs a CJK font (the deb package depends on one): without it, English rather than rows of boxes, and
  // the kiosk log says why.
  const cjk = canShowChinese();
  const language = chosenLanguage() === 'zh-CN' && !cjk ? 'en' : chosenLanguage();
  if (!cjk) void bridge.api.reportProblem({ problem: 'cjk-font-missing', detail: 'no installed font has Chinese glyphs: install fonts-noto-cjk' });
  document.documentElement.lang = language;
  setDisplayLanguage(language);
  void new KioskApp(root, bridge, strings(language), { languageSwitch: cjk }).start();
}
