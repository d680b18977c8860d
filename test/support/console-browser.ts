import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import pg from 'pg';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { expect } from 'vitest';
import { databaseRoles } from '../../electron/central/database-roles.js';

/** What every back-office test in Chromium shares: the accessibility and width check, sign-in, an IT login. */

const require = createRequire(import.meta.url);
const AXE_SOURCE: string = (require('axe-core') as { source: string }).source;
export const SHOTS = join(process.cwd(), 'test-results', 'console');
export const WIDTHS = [
  { name: 'desktop', width: 1280, height: 800 },
  { name: 'phone', width: 390, height: 844 },
] as const;

interface Axe {
  run(context: Document, options: Record<string, unknown>): Promise<{ violations: Array<{ id: string; impact: string | null; nodes: Array<{ target: unknown }> }> }>;
}

/** axe-core in the page (evaluated over the DevTools protocol, which the page's CSP does not govern). */
async function seriousViolations(page: Page): Promise<string[]> {
  await page.evaluate(AXE_SOURCE);
  const result = await page.evaluate(async () => (window as unknown as { axe: Axe }).axe.run(document, { resultTypes: ['violations'] }));
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact ?? ''}): ${JSON.stringify(v.nodes.map((n) => n.target))}`);
}

/**
 * Checks the page at both widths: no serious or critical axe-core violation, nothing sideways outside a scroll box
 * (usable on a phone); then shoots it as `<stem>-<desktop|phone>.png`, unless `stem` is null (a page showing a secret).
 */
export async function checkPage(page: Page, stem: string | null, what = stem ?? 'page'): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  for (const size of WIDTHS) {
    await page.setViewportSize({ width: size.width, height: size.height });
    expect(await seriousViolations(page), `${what} at ${size.name}`).toEqual([]);
    const overflow = await page.evaluate((width) => {
      const wide = Array.from(document.querySelectorAll('body *'))
        .filter((el) => el.getBoundingClientRect().right > width + 1 && !el.closest('.scroll'))
        .map((el) => `${el.tagName.toLowerCase()}.${el.className}`);
      return { scrollWidth: document.documentElement.scrollWidth, wide: wide.slice(0, 5) };
    }, size.width);
    expect(overflow, `${what} at ${size.name}`).toEqual({ scrollWidth: size.width, wide: [] });
    if (stem !== null) await page.screenshot({ path: join(SHOTS, `${stem}-${size.name}.png`), fullPage: true });
  }
  await page.setViewportSize({ width: 1280, height: 800 });
}

export async function signIn(page: Page, base: string, login: string, password: string): Promise<void> {
  await page.goto(`${base}/sign-in`);
  await page.getByLabel('Login').fill(login);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${base}/now`);
}

/** A fresh browser context (desktop size, English), signed in. */
export async function signedIn(browser: Browser, base: string, who: { login: string; password: string }): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-GB' });
  const page = await context.newPage();
  await signIn(page, base, who.login, who.password);
  return { context, page };
}

/** An IT login on the real server: a member of this database's admin group, no CREATEROLE. `drop` removes it. */
export async function createItLogin(root: pg.Client): Promise<{ login: string; password: string; drop(): Promise<void> }> {
  const roles = await databaseRoles(root);
  const login = `clockface_it_${randomBytes(4).toString('hex')}`;
  const password = randomBytes(12).toString('hex');
  await root.query(`CREATE ROLE "${login}" LOGIN NOCREATEROLE NOCREATEDB PASSWORD '${password}' IN ROLE "${roles.admin}"`);
  return {
    login,
    password,
    async drop() {
      const c = new pg.Client({ connectionString: process.env['CLOCKFACE_TEST_DATABASE_URL'] });
      await c.connect();
      await c.query(`DROP ROLE IF EXISTS "${login}"`);
      await c.end();
    },
  };
}
