import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectAsKiosk } from '../../electron/central/kiosk-connection.js';
import { registerKiosk, type KioskConnectionSettings, type RegisteredKiosk } from '../../electron/central/kiosk-registry.js';
import { startConsoleServer, type ConsoleServer } from '../../electron/console/server.js';
import { createEmbeddedAdmin } from '../../electron/console/sign-in.js';
import { CentralGateway, closeSession, type HeartbeatHealth } from '../../electron/kiosk/central/index.js';
import { addSupervisor, type RegisteredSupervisor } from '../../electron/timesheets/supervisors.js';
import { centralFactories, serverFactories, startMigrated, type CentralFactory, type TestCentral } from '../support/centrals.js';
import { chromiumPart, launchChromium } from '../support/chromium.js';
import { checkPage, createItLogin, signedIn as signedInAt } from '../support/console-browser.js';
import { textContains, textIs } from '../support/page-text.js';
import { addEmployee, addSite } from '../support/roster-fixtures.js';
import { partsPresent } from '../support/system-parts.js';

/**
 * The console's Kiosks page (issue 18) in Chromium, on both centrals. Three kiosks send real heartbeats through the
 * kiosk's own gateway: one healthy, one with punches waiting for 20 minutes, one that calls every second and then
 * falls silent. The page shows them problems first (offline, backlog, ok), passes axe-core with no serious or critical
 * violation at 1280×800 and 390×844 (a list on the phone, nothing scrolls sideways) and is shot into
 * test-results/console/kiosks-<central>-<desktop|phone>.png. IT adds a kiosk through the page: its settings are shown
 * once, downloadable once by that session only (a second GET is 404), and they work as the kiosk's login. Revoking
 * needs the name typed again: a wrong name refuses and changes nothing; the right one revokes, like `kiosk revoke`. On
 * the server a supervisor has no Kiosks page.
 */

/** Checks the page and shoots it as `<name>-<central>-<width>.png`, unless it shows a secret (a new kiosk's settings). */
const checkWidths = (page: Page, name: string, label: string, shoot = true) => checkPage(page, shoot ? `${name}-${label}` : null, name);

const HEALTHY: HeartbeatHealth = {
  intervalSeconds: 3600,
  oldestPendingAgeS: null,
  rosterWatermark: null,
  rosterSyncAgeS: 0,
  templates: 2,
  vectorEngine: 'sqlite-vec',
  lastUploadError: null,
};

if (partsPresent('the Kiosks page in Chromium', [chromiumPart()])) {
  serverFactories('the Kiosks page with IT and supervisor logins');

  /** Fills the Kiosks page's "Add a kiosk" form as IT would and sends it. */
  const addKiosk = async (page: Page, name: string, options: { site?: string; pooler?: string } = {}): Promise<void> => {
    await page.getByLabel('Kiosk name').fill(name);
    if (options.site !== undefined) await page.getByLabel('Site').selectOption(options.site);
    if (options.pooler !== undefined) await page.getByLabel('PgBouncer address (optional)').fill(options.pooler);
    await page.getByRole('button', { name: 'Add a kiosk' }).click();
  };

  describe.each(centralFactories())('the Kiosks page on $label', { timeout: 180_000 }, (factory: CentralFactory) => {
    const server = factory.kind === 'server';
    let central: TestCentral;
    let root: pg.Client;
    let browser: Browser;
    let console_: ConsoleServer;
    let admin = { login: 'itadmin', password: 'correct horse battery staple' };
    let itLogin: Awaited<ReturnType<typeof createItLogin>> | null = null;
    let supervisor: RegisteredSupervisor | null = null;

    /** A heartbeat the way a kiosk sends it: its own gateway, its own login (on the server), its own clock. */
    async function heartbeat(kiosk: RegisteredKiosk, report: { pending: number; health: HeartbeatHealth }): Promise<void> {
      const gateway = new CentralGateway(() => ({ kioskName: kiosk.settings.kioskName, kioskId: kiosk.id, url: kiosk.settings.url }));
      const session = await gateway.connectPrimary();
      try {
        await gateway.heartbeat(session, { appVersion: '4.2.0', pending: report.pending, refused: 0, health: report.health }, () => new Date());
      } finally {
        await closeSession(session);
      }
    }
    /** Past every roster change central has: a kiosk at this watermark has read them all. */
    const feedHead = async () =>
      (await root.query<{ w: string }>('SELECT (coalesce(max(txid::text::numeric), 0) + 1)::text AS w FROM roster_changes')).rows[0]?.w ?? '1';
    const revokedAt = async (name: string) => (await root.query<{ r: Date | null }>('SELECT revoked_at AS r FROM kiosks WHERE name = $1', [name])).rows[0]?.r;

    beforeAll(async () => {
      central = await startMigrated(factory);
      root = await central.connect();
      await addSite(root, 'a');
      await addSite(root, 'b');
      await addEmployee(root, 'A-1', 'a', 'Ann Ay');
      const fine = await registerKiosk(root, central.url, { name: 'door-fine', site: 'a' });
      const busy = await registerKiosk(root, central.url, { name: 'door-busy', site: 'a' });
      const quiet = await registerKiosk(root, central.url, { name: 'door-quiet', site: 'b' });
      await heartbeat(fine, { pending: 0, health: { ...HEALTHY, rosterWatermark: await feedHead() } });
      // Three punches waiting, the oldest for 20 minutes: past the 15-minute backlog threshold.
      await heartbeat(busy, { pending: 3, health: { ...HEALTHY, rosterWatermark: await feedHead(), oldestPendingAgeS: 20 * 60 } });
      // A kiosk that calls every second, once, and then no more: offline once three calls are missed.
      await heartbeat(quiet, { pending: 0, health: { ...HEALTHY, intervalSeconds: 1, rosterWatermark: await feedHead() } });
      if (server) {
        itLogin = await createItLogin(root);
        admin = { login: itLogin.login, password: itLogin.password };
        supervisor = await addSupervisor(root, central.url, { login: `sue.${randomBytes(3).toString('hex')}`, sites: ['a'] });
      } else {
        await createEmbeddedAdmin({ url: central.url, embedded: true }, admin.login, admin.password);
      }
      browser = await launchChromium();
      // The one-minute floor under "offline" is for kiosks that wait on a slow sync; here the silent kiosk's own
      // one-second interval decides.
      console_ = await startConsoleServer({ central: { url: central.url, embedded: !server }, host: '127.0.0.1', port: 0, fleet: { offlineAtLeastS: 0 } });
    });

    afterAll(async () => {
      await browser?.close();
      await console_?.close();
      await root?.end();
      await central?.close();
      await itLogin?.drop();
    });

    async function signedIn(who = admin): Promise<{ context: BrowserContext; page: Page }> {
      return signedInAt(browser, console_.url, who);
    }

    it('shows each kiosk\'s health, problems first; a kiosk whose heartbeats stopped is offline; both widths, both languages', async () => {
      const { context, page } = await signedIn();
      await page.locator('nav').getByRole('link', { name: 'Kiosks' }).click();
      await page.waitForURL(`${console_.url}/kiosks`);
      const row = (name: string) => page.locator(`tr[data-kiosk="${name}"]`);
      // The silent kiosk misses its one-second heartbeats: reload until the page says so (no time is asserted).
      await expect
        .poll(async () => {
          await page.reload();
          return (await row('door-quiet').locator('.badge').allInnerTexts()).join(',');
        }, { timeout: 30_000, interval: 500 })
        .toBe('offline');
      await textContains(row('door-busy').locator('.badge'), 'backlog');
      await textContains(row('door-busy'), '3');
      await textContains(row('door-busy'), 'oldest 20 min ago');
      await textIs(row('door-fine').locator('.badge'), 'ok');
      await textContains(row('door-fine'), 'sqlite-vec');
      await textContains(row('door-fine'), '4.2.0');
      // Problems first: offline, then backlog, then the healthy one.
      expect(await page.locator('table tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-kiosk')))).toEqual(['door-quiet', 'door-busy', 'door-fine']);
      await checkWidths(page, 'kiosks', factory.kind);
      // On a phone: the list, in the same order, with the same badges.
      await page.setViewportSize({ width: 390, height: 844 });
      expect(await page.locator('table').isVisible()).toBe(false);
      await textContains(page.locator('ul.fleet-list > li').first(), 'door-quiet');
      await textContains(page.locator('ul.fleet-list > li').first(), 'offline');
      await page.setViewportSize({ width: 1280, height: 800 });
      // Chinese.
      await page.getByRole('button', { name: '中文' }).click();
      await textIs(page.locator('h1'), '终端');
      await textIs(row('door-quiet').locator('.badge'), '离线');
      await textIs(row('door-busy').locator('.badge'), '积压');
      await page.getByRole('button', { name: 'English' }).click();
      await textIs(page.locator('h1'), 'Kiosks');
      // The Now page names the same kiosks as needing attention, judged the same way.
      await page.goto(`${console_.url}/now`);
      await textContains(page.locator('section[aria-labelledby="kiosks"]'), 'door-quiet');
      await textContains(page.locator('section[aria-labelledby="kiosks"]'), 'backlog');
      await context.close();
    });

    it('adds a kiosk: its settings are shown once and downloadable once, by this session only, and they work', async () => {
      const { context, page } = await signedIn();
      await page.goto(`${console_.url}/kiosks`);
      await addKiosk(page, 'door-new', { site: 'a' });
      await textIs(page.locator('h1'), 'Kiosk door-new added');
      const shown = JSON.parse(await page.getByLabel('Settings (kiosk.json)').inputValue()) as KioskConnectionSettings & { kioskId: number };
      expect(shown).toMatchObject({ kioskName: 'door-new', site: 'a', kioskId: expect.any(Number) });
      await checkWidths(page, 'kiosk-added', factory.kind, false);
      const link = page.getByRole('link', { name: /^Download kiosk-door-new\.json/ });
      const href = new URL((await link.getAttribute('href')) ?? '', console_.url).toString();

      // Another signed-in session cannot take it (and does not use it up).
      const other = await signedIn();
      expect((await other.page.request.get(href)).status()).toBe(404);
      await other.context.close();

      const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
      expect(download.suggestedFilename()).toBe('kiosk-door-new.json');
      expect(JSON.parse(readFileSync(await download.path(), 'utf8'))).toEqual(shown);
      // Once: the second GET finds nothing.
      expect((await page.request.get(href)).status()).toBe(404);
      // The settings are the kiosk's login, registered like `kiosk add` does; the list shows it, never its password.
      if (server) await (await connectAsKiosk(shown)).end();
      await page.goto(`${console_.url}/kiosks`);
      await textIs(page.locator('tr[data-kiosk="door-new"] .badge'), 'offline');
      expect(await page.content()).not.toContain(new URL(shown.url).password);
      // A second kiosk of that name is refused in one line.
      await addKiosk(page, 'door-new');
      await textIs(page.getByRole('alert'), 'A kiosk of that name exists already: choose another name.');
      await context.close();
    });

    it('adds a kiosk that reaches central through PgBouncer: its settings lead to the pooler, with the watch login; a bad address is refused in one line', async () => {
      const { context, page } = await signedIn();
      await page.goto(`${console_.url}/kiosks`);
      // A login in the address would be someone else's: every kiosk gets its own.
      await addKiosk(page, 'door-pooled', { pooler: 'postgres://someone:secret@pgbouncer.example.org:6432/clockface' });
      await textIs(
        page.getByRole('alert'),
        'The PgBouncer address must be a postgres:// address without a user or password, e.g. postgres://pgbouncer.example.org:6432/clockface.',
      );
      await addKiosk(page, 'door-pooled', { pooler: 'postgres://pgbouncer.example.org:6432/' });
      await textIs(page.locator('h1'), 'Kiosk door-pooled added');
      const shown = JSON.parse(await page.getByLabel('Settings (kiosk.json)').inputValue()) as KioskConnectionSettings & { kioskId: number };
      // As `clockface kiosk add door-pooled --pooler-url postgres://pgbouncer.example.org:6432/` makes them.
      expect(new URL(shown.url).host).toBe('pgbouncer.example.org:6432');
      expect(new URL(shown.url).pathname).toBe(new URL(central.url).pathname);
      expect(shown.pooler).toBe('transaction');
      expect(shown.watchLogin?.user).toMatch(/_watch$/);
      await context.close();
    });

    it('revokes a kiosk only with its name typed again; a wrong name or a missing CSRF token changes nothing', async () => {
      const { context, page } = await signedIn();
      await page.goto(`${console_.url}/kiosks`);
      await page.locator('tr[data-kiosk="door-fine"]').getByRole('link', { name: /^Revoke/ }).click();
      await textIs(page.locator('h1'), 'Revoke kiosk door-fine');
      await checkWidths(page, 'kiosk-revoke', factory.kind);
      // Without the page's token: refused before anything runs.
      const forged = await page.request.post(`${console_.url}/kiosks/door-fine/revoke`, { form: { confirm: 'door-fine' }, maxRedirects: 0 });
      expect(forged.status()).toBe(403);
      // The wrong name: refused in one line, back on the same page, nothing revoked.
      await page.getByLabel('Type the kiosk name door-fine to confirm').fill('door-busy');
      await page.getByRole('button', { name: 'Revoke' }).click();
      await textIs(page.getByRole('alert'), 'Nothing was revoked: the name typed is not door-fine.');
      expect(new URL(page.url()).pathname).toBe('/kiosks/door-fine/revoke');
      expect([await revokedAt('door-fine'), await revokedAt('door-busy')]).toEqual([null, null]);
      // The right name: revoked as `clockface kiosk revoke` does (its login is off on a server).
      await page.getByLabel('Type the kiosk name door-fine to confirm').fill('door-fine');
      await page.getByRole('button', { name: 'Revoke' }).click();
      await textIs(page.getByRole('status'), /^Kiosk door-fine revoked: its login is disabled and \d+ open session\(s\) ended\.$/);
      expect(await revokedAt('door-fine')).toBeInstanceOf(Date);
      await textIs(page.locator('tr[data-kiosk="door-fine"] .badge'), 'revoked');
      expect(await page.locator('tr[data-kiosk="door-fine"] a').count()).toBe(0);
      await context.close();
    });

    if (server) {
      it('a supervisor has no Kiosks page', async () => {
        if (!supervisor) throw new Error('no supervisor');
        const { context, page } = await signedIn({ login: supervisor.login, password: supervisor.password });
        expect(await page.locator('nav').getByRole('link', { name: 'Kiosks' }).count()).toBe(0);
        const response = await page.goto(`${console_.url}/kiosks`);
        expect(response?.status()).toBe(403);
        await textIs(page.getByRole('alert'), 'Only IT may use this page.');
        await context.close();
      });
    }
  });
}
