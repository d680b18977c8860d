import { spawn, type ChildProcess } from 'node:child_process';
import type { Page } from 'playwright-core';
import { CLI } from './run-cli.js';

/**
 * Pieces for browser tests of the kiosk screen against a real `clockface kiosk serve` child (as in
 * test/e2e/kiosk-browser.test.ts, which keeps its own copies): the child, the on-screen keypad by touch, and the
 * checks that no developer's or server's English reaches a screen in another language.
 */

/**
 * Words meant for developers, never for a person at the kiosk: a bridge channel or field name before a colon
 * ("punchWithPin: employeeNo: …"), zod's wording, raw values, an ISO timestamp, a connection URL.
 */
export const DEVELOPER_TEXT =
  /\b[a-z]+[A-Z][A-Za-z]*: |Too (small|big)|expected (string|number)|\bundefined\b|\bNaN\b|\bnull\b|online (true|false)|\d{4}-\d\d-\d\dT\d\d:|postgres(ql)?:\/\//;

/**
 * An English phrase: three or more Latin words in a row ("sync failed: connect ECONNREFUSED", "Wrong admin PIN").
 * A Chinese screen may hold single Latin words (a site code, "IT", "ABC", the "English" switch) but never a phrase.
 */
export const ENGLISH_PHRASE = /[A-Za-z]+(?:[\s,.:;!?'’()/-]+[A-Za-z]+){2,}/;

/** The first English phrase in `text` once the `allowed` names (people, numbers, kiosk names) are taken out, or null. */
export function englishPhrase(text: string, allowed: readonly string[] = []): string | null {
  let rest = text;
  for (const name of allowed) rest = rest.split(name).join(' ');
  return ENGLISH_PHRASE.exec(rest)?.[0] ?? null;
}

/** A `kiosk serve` child and the address it printed (with the bridge token in the fragment). */
export interface ServedKiosk {
  child: ChildProcess;
  url: string;
  /** Everything it wrote on stderr (its JSON log) so far. */
  log: () => string;
}

/** `clockface kiosk serve` on a free port as a child process, without the caller's CLOCKFACE_* environment. */
export function serveKiosk(kioskDir: string): Promise<ServedKiosk> {
  return new Promise((resolve, reject) => {
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CLOCKFACE_')));
    const child = spawn(process.execPath, [CLI, 'kiosk', 'serve', '--kiosk-dir', kioskDir, '--port', '0'], { env });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const url = /open (http:\/\/\S+)/.exec(out)?.[1];
      if (url) resolve({ child, url, log: () => err });
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('exit', (code) => reject(new Error(`kiosk serve exited (${String(code)}): ${err}`)));
  });
}

/** Types on the on-screen keypad by touch: digits, and letters through its ABC page. */
export async function tapKeys(page: Page, field: string, text: string): Promise<void> {
  await page.tap(field);
  for (const c of text.toUpperCase()) {
    const letter = /[A-Z-]/.test(c);
    const onLetters = (await page.locator('.keypad-keys.letters').count()) > 0;
    if (letter !== onLetters) await page.tap('#keypad-toggle');
    await page.tap(`[data-key="${c}"]`);
  }
}

/**
 * Records, in the page, the code of every error the bridge answers (`window.bridgeErrors`, newest last), so that a
 * test can say which code the screen was given as well as what it said. Call before the page loads.
 */
export async function recordBridgeErrors(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const seen: Array<{ channel: string; code: string }> = [];
    (window as unknown as { bridgeErrors: typeof seen }).bridgeErrors = seen;
    const original = window.fetch.bind(window);
    window.fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      const channel = /\/api\/(\w+)/.exec(url)?.[1];
      try {
        const response = await original(input, init);
        if (channel) {
          const body = (await response.clone().json().catch(() => null)) as { ok?: boolean; error?: { code?: string } } | null;
          if (body?.ok === false) seen.push({ channel, code: String(body.error?.code) });
        }
        return response;
      } catch (e) {
        if (channel) seen.push({ channel, code: '(no answer)' });
        throw e;
      }
    };
  });
}

/** The newest error code the bridge answered on `channel`, or null. */
export function lastBridgeError(page: Page, channel: string): Promise<string | null> {
  return page.evaluate(
    (c) => (window as unknown as { bridgeErrors: Array<{ channel: string; code: string }> }).bridgeErrors.filter((e) => e.channel === c).at(-1)?.code ?? null,
    channel,
  );
}

/** A sentence with one slot (a time) as a pattern: "错误次数过多，已锁定至 ${time}。" matches any time. */
export function sentencePattern(sentence: (slot: string) => string): RegExp {
  const slot = '\u0000';
  const [before = '', after = ''] = sentence(slot).split(slot);
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^${escape(before)}\\S.*${escape(after)}$`);
}

/** Fills the file system of `dir` until it refuses the next byte (the disk-full rig's own helper). */
export { fillDisk } from './tmpfs.js';
