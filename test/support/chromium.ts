import { statSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import type { SystemPart } from './system-parts.js';

/** Debian's `chromium` package; CLOCKFACE_CHROMIUM points elsewhere (another distribution, a downloaded build). */
const DEFAULT_CHROMIUM = '/usr/bin/chromium';

export function chromiumPath(): string {
  return process.env['CLOCKFACE_CHROMIUM'] || DEFAULT_CHROMIUM;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Chromium for the browser tests (the renderer's face engine runs in it, as it will in the kiosk's Electron). */
export function chromiumPart(): SystemPart {
  const path = chromiumPath();
  return {
    name: `Chromium (${path})`,
    present: isFile(path),
    howTo: process.env['CLOCKFACE_CHROMIUM']
      ? `CLOCKFACE_CHROMIUM=${path} is not a file: point it at a Chromium binary`
      : 'run `sudo apt-get install chromium` (Debian), or set CLOCKFACE_CHROMIUM to a Chromium binary',
  };
}

/**
 * Headless Chromium through playwright-core (which brings no browser of its own). The flags work as root in a
 * container: no sandbox, no GPU (WebGL then runs on SwiftShader), and nothing that reaches the network.
 */
export function launchChromium(extraArgs: readonly string[] = [], env?: Record<string, string>): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    ...(env ? { env: { ...process.env, ...env } } : {}),
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
      ...extraArgs,
    ],
  });
}
