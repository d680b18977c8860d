import { execFileSync } from 'node:child_process';
import type { SystemPart } from './system-parts.js';

/**
 * A font with Chinese glyphs, as fontconfig sees it. Without one the kiosk screen falls back to English on purpose
 * (renderer/main.ts: English rather than rows of boxes), so the tests of its Chinese screens cannot run; the kiosk's
 * deb package depends on such a font, a bare test machine may not have one.
 */
export function cjkFontPart(): SystemPart {
  let present = false;
  try {
    present = execFileSync('fc-list', [':lang=zh', 'family'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() !== '';
  } catch {
    present = false;
  }
  return {
    name: 'a font with Chinese glyphs (fontconfig, for the kiosk screen in Chinese)',
    present,
    howTo: 'run `sudo apt-get install fonts-wqy-microhei` (Debian; fonts-noto-cjk works too)',
  };
}
