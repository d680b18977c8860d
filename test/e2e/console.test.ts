import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerKiosk, type RegisteredKiosk } from '../../electron/central/kiosk-registry.js';
import { startConsoleServer, type ConsoleServer, type ConsoleServerOptions } from '../../electron/console/server.js';
import { addSupervisor, type RegisteredSupervisor } from '../../electron/timesheets/supervisors.js';
import { payrollReport } from '../../electron/timesheets/timesheet-view.js';
import { addDays, localDateAt, startOfWeek, zonedInstant } from '../../shared/timesheet/index.js';
import { centralFactories, serverFactories, startMigrated, type CentralFactory, type TestCentral } from '../support/centrals.js';
import { chromiumPart, launchChromium } from '../support/chromium.js';
import { checkPage, createItLogin, signIn } from '../support/console-browser.js';
import { asKiosk } from '../support/kiosk-session.js';
import { addEmployee, addSite } from '../support/roster-fixtures.js';
import { textContains, textIs, textLacks } from '../support/page-text.js';
import { partsPresent } from '../support/system-parts.js';

/**
 * The back office in Chromium (issue 18), on both centrals; everything about logins on the real server.
 *
 * A Berlin site with a 30-minute break after 6 h and overtime after 8 h: Ann came in two days ago at 08:00 and forgot to
 * clock out; Bo (site a) is in since this morning; Bea works at site b. Signed in (the embedded central's admin
 * account chosen on first run; on the server an IT login and a supervisor of site a), every page renders with that
 * data and passes axe-core with no serious or critical violation, shot at 1280×800 and 390×844 into
 * test-results/console/. A correction end to end through the pages: the missing OUT added at 18:00 with a reason ->
 * the day shows 9:30 paid and `corrected` -> the audit page shows the login and the reason -> the payroll export pays
 * 570 minutes. A punch a kiosk uploads appears on Now without a reload (the latency is printed). Refused: a form
 * without its CSRF token (403, nothing changed); the supervisor reaching site b by page or by crafted request (nothing
 * changed); a wrong password; the fourth try at one login, and the seventh from one address (rate limits); an idle
 * session sends the page to sign-in.
 */

const TZ = 'Europe/Berlin';
/** Checks and shoots the page as `<name>-<central>-<width>.png`. */
const shoot = (page: Page, name: string, label: string) => checkPage(page, `${name}-${label}`, name);
const RULES = { autoBreak: { afterWorkedMinutes: 360, breakMinutes: 30 }, dailyOvertimeAfterMinutes: 480 };

function dayIn(days: number): string {
  return addDays(localDateAt(new Date(), TZ), days);
}
const at = (day: string, hh: number, mm = 0) => new Date(zonedInstant(day, hh * 60 + mm, TZ));

const STATE = `SELECT (SELECT count(*) FROM punch_corrections)::int AS corrections, (SELECT count(*) FROM correction_decisions)::int AS decisions,
                      (SELECT count(*) FROM audit_log)::int AS audit`;

if (partsPresent('the back office in Chromium', [chromiumPart()])) {
  serverFactories('the console with per-login sign-in, supervisors and rate limits');

  describe.each(centralFactories())('the back office on $label', { timeout: 180_000 }, (factory: CentralFactory) => {
    const server = factory.kind === 'server';
    let central: TestCentral;
    let root: pg.Client;
    let browser: Browser;
    let console_: ConsoleServer;
    let kiosk: RegisteredKiosk;
    let admin = { login: 'itadmin', password: 'correct horse battery staple' };
    let itLogin: Awaited<ReturnType<typeof createItLogin>> | null = null;
    let supervisor: RegisteredSupervisor | null = null;
    // Two days back: whatever the hour, Ann's open IN is past the longest shift (16 h) and counts as a missing OUT.
    const yesterday = dayIn(-2);
    const weekOf = (day: string) => startOfWeek(day, 1);
    const annIn = randomUUID();

    const startConsole = (extra: Partial<ConsoleServerOptions> = {}) =>
      startConsoleServer({ central: { url: central.url, embedded: !server }, host: '127.0.0.1', port: 0, pollMs: 250, ...extra });

    beforeAll(async () => {
      central = await startMigrated(factory);
      root = await central.connect();
      await addSite(root, 'a', TZ);
      await addSite(root, 'b', TZ);
      await root.query("SELECT site_rules_set('a', $1::jsonb, false)", [
        JSON.stringify({ ...(await import('../../shared/timesheet/index.js')).DEFAULT_RULES, ...RULES }),
      ]);
      const ann = await addEmployee(root, 'A-1', 'a', 'Ann Ay');
      const bo = await addEmployee(root, 'A-2', 'a', 'Bo Bay');
      const bea = await addEmployee(root, 'B-1', 'b', 'Bea Bee');
      kiosk = await registerKiosk(root, central.url, { name: 'door-a', site: 'a' });
      const door = kiosk.id;
      await root.query(
        `INSERT INTO punches (id, employee_id, kiosk_id, direction, punched_at, method, match_distance) VALUES
           ($1, $2, $6, 'in', $7, 'face', 0.31), ($3, $4, $6, 'in', $8, 'pin', NULL), ($5, $9, $6, 'in', $7, 'face', 0.28)`,
        [annIn, ann, randomUUID(), bo, randomUUID(), door, at(yesterday, 8), new Date(Date.now() - 2 * 3600_000), bea],
      );
      if (server) {
        itLogin = await createItLogin(root);
        admin = { login: itLogin.login, password: itLogin.password };
        supervisor = await addSupervisor(root, central.url, { login: `sue.${randomBytes(3).toString('hex')}`, sites: ['a'] });
      }
      browser = await launchChromium();
      console_ = await startConsole();
    });

    afterAll(async () => {
      await browser?.close();
      await console_?.close();
      await root?.end();
      await central?.close();
      await itLogin?.drop();
    });

    async function freshPage(): Promise<{ context: BrowserContext; page: Page }> {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-GB' });
      return { context, page: await context.newPage() };
    }

    it('first run on the embedded central asks for the admin account; a server asks for a login at once', async () => {
      const { context, page } = await freshPage();
      const response = await page.goto(`${console_.url}/`);
      expect(response?.headers()['content-security-policy']).toMatch(/script-src 'self'(;|$)/);
      if (server) {
        expect(new URL(page.url()).pathname).toBe('/sign-in');
      } else {
        expect(new URL(page.url()).pathname).toBe('/setup');
        await textContains(page.locator('main'), 'embedded central');
        await shoot(page, 'setup', factory.kind);
        await page.getByLabel('Login').fill(admin.login);
        await page.getByLabel('Password').fill('short');
        await page.getByRole('button', { name: 'Save' }).click();
        // The browser's own check stops a short password; the server checks again (the form posted by hand).
        expect(new URL(page.url()).pathname).toBe('/setup');
        await page.getByLabel('Password').fill(admin.password);
        await page.getByRole('button', { name: 'Save' }).click();
        await page.waitForURL(/\/sign-in\?ready=1$/);
        expect((await root.query<{ h: string }>('SELECT password_hash AS h FROM console_accounts')).rows.map((r) => r.h)).toEqual([expect.stringMatching(/^scrypt\$/)]);
        // Chosen once: the setup page is gone.
        await page.goto(`${console_.url}/setup`);
        expect(new URL(page.url()).pathname).toBe('/sign-in');
      }
      await shoot(page, 'sign-in', factory.kind);
      await context.close();
    });

    it('a wrong password is refused with one line; the right one signs in', async () => {
      const { context, page } = await freshPage();
      await page.goto(`${console_.url}/sign-in`);
      await page.getByLabel('Login').fill(admin.login);
      await page.getByLabel('Password').fill('not the password');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await textIs(page.getByRole('alert'), 'Wrong login or password. Check both and try again.');
      await signIn(page, console_.url, admin.login, admin.password);
      const cookies = await context.cookies();
      expect(cookies.find((c) => c.name === 'cf_session')).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
      await context.close();
    });

    it('every page renders with real data, passes axe-core, and is shot at both widths', async () => {
      const { context, page } = await freshPage();
      await signIn(page, console_.url, admin.login, admin.password);
      // Now: Bo is in since two hours ago; the latest punches include Bea's (site b) for IT.
      await textContains(page.locator('#now-live'), 'Bo Bay');
      await textContains(page.locator('#now-live'), 'Bea Bee');
      await shoot(page, 'now', factory.kind);

      await page.goto(`${console_.url}/timesheets?site=a&week=${weekOf(yesterday)}`);
      const annRow = page.locator('tr', { hasText: 'Ann Ay' });
      await textContains(annRow, 'missing OUT');
      // Exceptions first.
      await textContains(page.locator('table.grid tbody tr').first(), 'Ann Ay');
      await shoot(page, 'timesheets', factory.kind);

      await page.goto(`${console_.url}/timesheets/employee/A-1?from=${yesterday}&to=${yesterday}`);
      await textContains(page.locator('main'), 'missing OUT');
      await textContains(page.locator('main'), '0.310');
      await shoot(page, 'day', factory.kind);

      await page.goto(`${console_.url}/corrections`);
      await textContains(page.locator('main'), 'No corrections.');
      await shoot(page, 'corrections', factory.kind);
      await page.goto(`${console_.url}/audit`);
      await shoot(page, 'audit', factory.kind);

      // The same pages in Chinese.
      await page.getByRole('button', { name: '中文' }).click();
      await textIs(page.locator('h1'), '审计日志');
      await page.goto(`${console_.url}/timesheets?site=a&week=${weekOf(yesterday)}`);
      await textContains(page.locator('table.grid'), '缺下班卡');
      await shoot(page, 'timesheets-zh', factory.kind);
      await page.getByRole('button', { name: 'English' }).click();
      await textIs(page.locator('h1'), 'Timesheets');
      await context.close();
    });

    it('a change without the page\'s CSRF token is refused and changes nothing', async () => {
      const { context, page } = await freshPage();
      await signIn(page, console_.url, admin.login, admin.password);
      const before = (await root.query(STATE)).rows[0];
      const forged = await page.request.post(`${console_.url}/corrections/add`, {
        form: { employeeNo: 'A-1', direction: 'out', at: `${yesterday}T17:00`, reason: 'forged', back: '/now' },
        maxRedirects: 0,
      });
      expect(forged.status()).toBe(403);
      const wrong = await page.request.post(`${console_.url}/corrections/add`, {
        form: { _csrf: 'not-a-token', employeeNo: 'A-1', direction: 'out', at: `${yesterday}T17:00`, reason: 'forged', back: '/now' },
        maxRedirects: 0,
      });
      expect(wrong.status()).toBe(403);
      expect((await root.query(STATE)).rows[0]).toEqual(before);
      await context.close();
    });

    it('a correction end to end: the missing OUT added -> timesheet corrected -> audit shows login and reason -> payroll pays it', async () => {
      const who = server && supervisor ? { login: supervisor.login, password: supervisor.password } : admin;
      const { context, page } = await freshPage();
      await signIn(page, console_.url, who.login, who.password);
      await page.goto(`${console_.url}/timesheets/employee/A-1?from=${yesterday}&to=${yesterday}`);
      const day = page.locator('section.day');
      await day.locator('summary', { hasText: 'Add a punch' }).click();
      const add = day.locator('form[action="/corrections/add"]');
      await add.getByLabel('OUT', { exact: true }).check();
      await add.getByLabel('At (site time)').fill(`${yesterday}T18:00`);
      await add.getByLabel('Reason').fill('forgot to clock out, confirmed by the shift lead');
      await add.getByRole('button', { name: 'Add a punch' }).click();
      await textIs(page.getByRole('status'), /^Saved: correction \d+ is approved\.$/);
      await textContains(day.locator('h2'), 'corrected');
      await textContains(day.locator('dl.totals'), 'Paid 9:30');
      await textContains(day.locator('dl.totals'), 'Regular 8:00');
      await textContains(day.locator('dl.totals'), 'Overtime 1:30');
      await shoot(page, 'day-corrected', factory.kind);

      await page.goto(`${console_.url}/audit?employee=A-1&kind=correction`);
      const row = page.locator('tbody tr', { hasText: 'correction.requested' });
      await textContains(row, 'forgot to clock out, confirmed by the shift lead');
      // The login central recorded: the person's own on a server (session_user); the embedded central has one.
      if (server) await textContains(row, who.login);

      const payroll = await payrollReport(root, { from: yesterday, to: yesterday, site: 'a' });
      expect(payroll.find((r) => r.employeeNo === 'A-1')).toMatchObject({ totalMinutes: 570, regularMinutes: 480, overtimeMinutes: 90, flags: expect.objectContaining({ corrected: 1, missing_out: 0 }) });
      await context.close();
    });

    it('a punch a kiosk uploads appears on Now without a reload', async () => {
      const { context, page } = await freshPage();
      await signIn(page, console_.url, admin.login, admin.password);
      await page.waitForFunction(() => document.querySelector('#live-status') !== null);
      // Let the feed connect (the embedded central's first look sets its mark).
      await page.waitForTimeout(600);
      const id = randomUUID();
      const ann = (await root.query<{ id: string }>("SELECT id::text FROM employees WHERE employee_no = 'A-1'")).rows[0]?.id;
      const sent = Date.now();
      await asKiosk(central, kiosk, (c) =>
        c.query(`INSERT INTO punches (id, employee_id, kiosk_id, direction, punched_at, method, match_distance) VALUES ($1, $2, $3, 'in', now(), 'face', 0.3)`, [
          id,
          ann,
          kiosk.id,
        ]),
      );
      await page.locator(`tr[data-punch="${id}"]`).waitFor({ timeout: 15_000 });
      process.stdout.write(`[console ${factory.kind}] punch committed -> on the Now page in ${Date.now() - sent} ms\n`);
      await textContains(page.locator('#now-live'), 'Ann Ay');
      await context.close();
    });

    it('an idle session ends: the next page is the sign-in page, saying so', async () => {
      const short = await startConsole({ idleMs: 800 });
      try {
        const { context, page } = await freshPage();
        await signIn(page, short.url, admin.login, admin.password);
        await page.waitForTimeout(1_200);
        await page.goto(`${short.url}/timesheets`);
        expect(new URL(page.url()).pathname).toBe('/sign-in');
        await textIs(page.getByRole('alert'), 'Your session ended after a while without use. Sign in again.');
        await context.close();
      } finally {
        await short.close();
      }
    });

    it('sign-in is rate limited per login and per address', async () => {
      const limited = await startConsole({ signInPerLogin: 3, signInPerAddress: 6 });
      try {
        const { context, page } = await freshPage();
        const attempt = async (login: string, password: string) => {
          await page.goto(`${limited.url}/sign-in`);
          await page.getByLabel('Login').fill(login);
          await page.getByLabel('Password').fill(password);
          const [response] = await Promise.all([page.waitForResponse((r) => r.url().endsWith('/sign-in') && r.request().method() === 'POST'), page.getByRole('button', { name: 'Sign in' }).click()]);
          return response.status();
        };
        for (let i = 0; i < 3; i++) expect(await attempt(admin.login, 'wrong password')).toBe(401);
        // The fourth try at that login is refused even with the right password.
        expect(await attempt(admin.login, admin.password)).toBe(429);
        await textIs(page.getByRole('alert'), 'Too many sign-in attempts. Wait 15 minutes, then try again.');
        // Another login from the same address still gets its tries, until the address has used its six.
        expect(await attempt('someone.else', 'x')).toBe(401);
        expect(await attempt('another.one', 'x')).toBe(401);
        expect(await attempt('third.one', 'x')).toBe(429);
        await context.close();
      } finally {
        await limited.close();
      }
    });

    if (server) {
      it('a supervisor of site a cannot see or change site b, by page or by crafted request', async () => {
        if (!supervisor) throw new Error('no supervisor');
        const { context, page } = await freshPage();
        await signIn(page, console_.url, supervisor.login, supervisor.password);
        await textLacks(page.locator('#now-live'), 'Bea Bee');
        await textContains(page.locator('header'), 'supervisor');
        // The site chooser offers a only; b asked for by hand is not found.
        await page.goto(`${console_.url}/timesheets`);
        expect(await page.locator('#site option').allTextContents()).toEqual(['a']);
        const siteB = await page.goto(`${console_.url}/timesheets?site=b`);
        expect(siteB?.status()).toBe(404);
        await textIs(page.getByRole('alert'), 'No such site that you may see.');
        const beaPage = await page.goto(`${console_.url}/timesheets/employee/B-1`);
        expect(beaPage?.status()).toBe(404);
        // A crafted change with a valid token: central refuses, nothing changes.
        await page.goto(`${console_.url}/now`);
        const token = await page.locator('input[name="_csrf"]').first().inputValue();
        const before = (await root.query(STATE)).rows[0];
        const punchB = (await root.query<{ id: string }>("SELECT p.id::text FROM punches p JOIN employees e ON e.id = p.employee_id WHERE e.employee_no = 'B-1'")).rows[0]?.id ?? '';
        for (const [path, form] of [
          ['/corrections/add', { employeeNo: 'B-1', direction: 'out', at: `${yesterday}T12:00`, reason: 'not mine' }],
          ['/corrections/void', { punchId: punchB, reason: 'not mine' }],
          ['/corrections/move', { punchId: punchB, at: `${yesterday}T12:00`, reason: 'not mine' }],
        ] as const) {
          const r = await page.request.post(`${console_.url}${path}`, { form: { ...form, _csrf: token, back: '/corrections' }, maxRedirects: 0 });
          expect(r.status(), path).toBe(303);
          await page.goto(`${console_.url}/corrections`);
          await textIs(page.getByRole('alert'), /^(No employee with that number that you may see\.|That punch does not exist, or is not one you may see\.|Your login may not do that \(it is outside your sites, or needs IT\)\.)$/);
        }
        expect((await root.query(STATE)).rows[0]).toEqual(before);
        // And the audit log shows nothing of site b.
        await page.goto(`${console_.url}/audit`);
        await textLacks(page.locator('main'), 'B-1');
        await context.close();
      });

      it('a kiosk login cannot use the back office', async () => {
        const { context, page } = await freshPage();
        await page.goto(`${console_.url}/sign-in`);
        await page.getByLabel('Login').fill(kiosk.settings.roleName);
        await page.getByLabel('Password').fill(decodeURIComponent(new URL(kiosk.settings.url).password));
        await page.getByRole('button', { name: 'Sign in' }).click();
        await textIs(page.getByRole('alert'), 'This login is not an IT or supervisor login, so it cannot use the back office.');
        await context.close();
      });
    }
  });
}
