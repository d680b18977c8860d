import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import sharp from 'sharp';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerKiosk } from '../../electron/central/kiosk-registry.js';
import { startConsoleServer, type ConsoleServer } from '../../electron/console/server.js';
import { createEmbeddedAdmin } from '../../electron/console/sign-in.js';
import { addSupervisor, type RegisteredSupervisor } from '../../electron/timesheets/supervisors.js';
import { addDays, localDateAt, zonedInstant } from '../../shared/timesheet/index.js';
import { centralFactories, serverFactories, startMigrated, type CentralFactory, type TestCentral } from '../support/centrals.js';
import { chromiumPart, launchChromium } from '../support/chromium.js';
import { checkPage, createItLogin, signedIn as signedInAt } from '../support/console-browser.js';
import { textContains, textIs, textLacks } from '../support/page-text.js';
import { addEmployee, addSite, addTemplate, randomDescriptor, seededRandom } from '../support/roster-fixtures.js';
import { partsPresent } from '../support/system-parts.js';

/**
 * The back office's Employees, Rules, Reports and audit-snapshot pages in Chromium (issue 18), on both centrals; the
 * supervisor's limits on the real server. Employees: search, a person's page (templates counted for IT, "not
 * visible" to a supervisor), deactivate and activate, erase refused without the typed number and done with it (the
 * templates gone, the audit row written). Rules: IT sets a break and overtime through the form, a bad field is named
 * and nothing changes; a supervisor sees them read-only and a crafted change is refused by central. Reports: the
 * payroll CSV and JSON and the daily CSV download with the corrected hours; a supervisor asking for site b is refused.
 * Snapshots: the day shows "View snapshot" only where one exists; looking records `snapshot.viewed` with the login;
 * IT cannot read the picture past the function; a supervisor cannot reach site b's. Each page passes axe-core and is
 * shot at 1280×800 and 390×844 (test-results/console/).
 */

const TZ = 'Europe/Berlin';

const day = addDays(localDateAt(new Date(), TZ), -2);
const at = (hh: number) => new Date(zonedInstant(day, hh * 60, TZ));

if (partsPresent('the back office pages in Chromium', [chromiumPart()])) {
  serverFactories('the supervisor limits on the back office pages');

  describe.each(centralFactories())('employees, rules, reports and snapshots in the back office on $label', { timeout: 180_000 }, (factory: CentralFactory) => {
    const server = factory.kind === 'server';
    const kind = factory.kind;
    let central: TestCentral;
    let root: pg.Client;
    let browser: Browser;
    let consoleServer: ConsoleServer;
    let admin = { login: 'itadmin', password: 'correct horse battery staple' };
    let itLogin: Awaited<ReturnType<typeof createItLogin>> | null = null;
    let supervisor: RegisteredSupervisor | null = null;
    const [annIn, annOut, beaIn] = [randomUUID(), randomUUID(), randomUUID()];

    beforeAll(async () => {
      central = await startMigrated(factory);
      root = await central.connect();
      await addSite(root, 'a', TZ);
      await addSite(root, 'b', TZ);
      const random = seededRandom(18);
      const ann = await addEmployee(root, 'A-1', 'a', 'Ann Ay');
      await addTemplate(root, ann, randomDescriptor(random));
      await addEmployee(root, 'A-2', 'a', 'Abe Ash');
      const bea = await addEmployee(root, 'B-1', 'b', 'Bea Bee');
      const kiosk = await registerKiosk(root, central.url, { name: 'door-a', site: 'a' });
      await root.query(
        `INSERT INTO punches (id, employee_id, kiosk_id, direction, punched_at, method, match_distance) VALUES
           ($1, $2, $3, 'in', $4, 'face', 0.3), ($5, $2, $3, 'out', $6, 'face', 0.3), ($7, $8, $3, 'in', $4, 'face', 0.3)`,
        [annIn, ann, kiosk.id, at(8), annOut, at(18), beaIn, bea],
      );
      const jpeg = await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 90, g: 120, b: 150 } } }).jpeg().toBuffer();
      await root.query('INSERT INTO punch_snapshots (punch_id, jpeg) VALUES ($1, $2), ($3, $2)', [annIn, jpeg, beaIn]);
      if (server) {
        itLogin = await createItLogin(root);
        admin = { login: itLogin.login, password: itLogin.password };
        supervisor = await addSupervisor(root, central.url, { login: `sam.${randomBytes(3).toString('hex')}`, sites: ['a'] });
      }
      const consoleCentral = { url: central.url, embedded: !server };
      if (!server) await createEmbeddedAdmin(consoleCentral, admin.login, admin.password);
      browser = await launchChromium();
      consoleServer = await startConsoleServer({ central: consoleCentral, host: '127.0.0.1', port: 0 });
    });

    afterAll(async () => {
      await browser?.close();
      await consoleServer?.close();
      await root?.end();
      await central?.close();
      await itLogin?.drop();
    });

    async function signedIn(who: { login: string; password: string }): Promise<{ context: BrowserContext; page: Page }> {
      return signedInAt(browser, consoleServer.url, who);
    }
    const templatesOf = async (no: string) =>
      (await root.query<{ n: number }>('SELECT count(*)::int AS n FROM face_templates t JOIN employees e ON e.id = t.employee_id WHERE e.employee_no = $1', [no])).rows[0]?.n;

    it('employees: search, a person\'s page, deactivate and activate, erase only with the typed number', async () => {
      const { context, page } = await signedIn(admin);
      await page.goto(`${consoleServer.url}/employees`);
      await page.getByLabel('Search').fill('ann');
      await page.getByRole('button', { name: 'Search' }).click();
      await textContains(page.locator('ul.people'), 'Ann Ay');
      await textLacks(page.locator('ul.people'), 'Abe Ash');
      await checkPage(page, `employees-${kind}`);
      await page.getByRole('link', { name: 'Ann Ay' }).click();
      await textContains(page.locator('dl.facts'), 'Face templates 1');
      await textContains(page.locator('main'), 'Last punches');
      await checkPage(page, `employee-${kind}`);

      await page.getByRole('button', { name: 'Deactivate' }).click();
      await textIs(page.getByRole('status'), 'Deactivated: A-1 can no longer punch; kiosks drop them at their next sync.');
      expect((await root.query("SELECT active FROM employees WHERE employee_no = 'A-1'")).rows[0]).toEqual({ active: false });
      await page.getByRole('button', { name: 'Activate' }).click();
      await textIs(page.getByRole('status'), 'Activated: A-1 can punch again.');

      await page.getByText('Erase biometric data').click();
      await page.getByLabel('Type the employee number A-1 to confirm').fill('A-2');
      await page.getByRole('button', { name: 'Erase' }).click();
      await textIs(page.getByRole('alert'), 'Nothing was erased: the number typed is not A-1.');
      expect(await templatesOf('A-1')).toBe(1);
      await page.getByText('Erase biometric data').click();
      await page.getByLabel('Type the employee number A-1 to confirm').fill('A-1');
      await page.getByRole('button', { name: 'Erase' }).click();
      await textIs(page.getByRole('status'), /^Erased: 1 face templates and 1 snapshots deleted/);
      expect(await templatesOf('A-1')).toBe(0);
      expect((await root.query("SELECT kind FROM audit_log WHERE kind = 'employee.erased'")).rows).toHaveLength(1);
      // Put Ann's snapshot back for the snapshot test below (erasure took it, as it must).
      const jpeg = await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 10, g: 20, b: 30 } } }).jpeg().toBuffer();
      await root.query('UPDATE employees SET erased_at = NULL WHERE employee_no = $1', ['A-1']);
      await root.query('INSERT INTO punch_snapshots (punch_id, jpeg) VALUES ($1, $2)', [annIn, jpeg]);
      await context.close();
    });

    it('rules: IT sets a break and daily overtime through the form; a bad field is named and nothing changes', async () => {
      const { context, page } = await signedIn(admin);
      await page.goto(`${consoleServer.url}/rules?site=a`);
      await page.getByLabel('Automatic break once a day passes (minutes, empty = none)').fill('360');
      await page.getByLabel('Break length (minutes)').fill('30');
      await page.getByLabel('Daily overtime after (minutes, empty = none)').fill('480');
      await page.getByRole('button', { name: 'Save' }).click();
      await textIs(page.getByRole('status'), 'Saved: the rules of site a.');
      const stored = (await root.query<{ rules: { autoBreak: unknown; dailyOvertimeAfterMinutes: number } }>("SELECT rules FROM site_rules WHERE site = 'a'")).rows[0]?.rules;
      expect(stored).toMatchObject({ autoBreak: { afterWorkedMinutes: 360, breakMinutes: 30 }, dailyOvertimeAfterMinutes: 480 });
      await checkPage(page, `rules-${kind}`);

      await page.getByLabel('Grace for late (minutes)').fill('-5');
      await page.getByRole('button', { name: 'Save' }).click();
      await textIs(page.getByRole('alert'), /graceLateMinutes must not be negative/);
      expect((await root.query("SELECT rules FROM site_rules WHERE site = 'a'")).rows[0]?.rules).toEqual(stored);
      await context.close();
    });

    it('reports: the payroll CSV and JSON and the daily CSV carry the hours under the site\'s rules', async () => {
      const { context, page } = await signedIn(admin);
      await page.goto(`${consoleServer.url}/reports?from=${day}&to=${day}&site=a`);
      await checkPage(page, `reports-${kind}`);
      const get = async (path: string) => {
        const response = await page.request.get(`${consoleServer.url}${path}?from=${day}&to=${day}&site=a`);
        expect(response.status(), path).toBe(200);
        return { type: response.headers()['content-type'], disposition: response.headers()['content-disposition'], text: await response.text() };
      };
      const csv = await get('/reports/payroll.csv');
      expect(csv.disposition).toMatch(/^attachment; filename="clockface-payroll-a-/);
      const [header, ann] = csv.text.trim().split('\n');
      expect(header).toMatch(/^employee_no,full_name,site,days_worked,regular_minutes,daily_overtime_minutes,/);
      // 08:00-18:00 under the rules set above: 570 paid, 480 regular, 90 overtime.
      expect(ann).toMatch(/^A-1,Ann Ay,a,1,480,90,0,570,/);
      const json = JSON.parse((await get('/reports/payroll.json')).text) as Array<{ employeeNo: string; totalMinutes: number }>;
      expect(json.map((r) => [r.employeeNo, r.totalMinutes])).toEqual([['A-1', 570]]);
      const daily = (await get('/reports/daily.csv')).text.trim().split('\n');
      expect(daily[1]).toMatch(new RegExp(`^A-1,Ann Ay,a,${day},${day} 08:00,${day} 18:00,570,30,480,90,570,9\\.50,$`));
      await context.close();
    });

    it('snapshots: a view link where one exists; the look is recorded with the login', async () => {
      const { context, page } = await signedIn(admin);
      await page.goto(`${consoleServer.url}/timesheets/employee/A-1?from=${day}&to=${day}`);
      const links = page.getByRole('link', { name: 'View snapshot' });
      expect(await links.count()).toBe(1);
      await links.click();
      await textContains(page.locator('main'), 'This view is recorded in the audit log.');
      await page.locator('figure.snapshot img').evaluate((img: HTMLImageElement) => (img.complete ? Promise.resolve() : new Promise((r) => img.addEventListener('load', r))));
      expect(await page.locator('figure.snapshot img').evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(64);
      await checkPage(page, `snapshot-${kind}`);
      const views = (await root.query<{ login: string; subject: string }>("SELECT login, subject FROM audit_log WHERE kind = 'snapshot.viewed'")).rows;
      // Shot twice (two widths) plus the first look: every load of the picture is a look, and each is recorded.
      expect(views.length).toBeGreaterThanOrEqual(1);
      expect(views.every((v) => v.subject === `punch ${annIn}`)).toBe(true);
      if (server) expect(new Set(views.map((v) => v.login))).toEqual(new Set([admin.login]));
      await context.close();
    });

    if (server) {
      it('IT cannot read a snapshot\'s picture past the recorded view', async () => {
        const url = new URL(central.url);
        url.username = admin.login;
        url.password = admin.password;
        const it_ = new pg.Client({ connectionString: url.toString() });
        await it_.connect();
        try {
          await expect(it_.query('SELECT jpeg FROM punch_snapshots')).rejects.toMatchObject({ code: '42501' });
          expect((await it_.query('SELECT punch_id FROM punch_snapshots')).rowCount).toBeGreaterThan(0);
        } finally {
          await it_.end();
        }
      });

      it('a supervisor: employees without templates or PINs, rules read-only, no site b by page, report or snapshot', async () => {
        if (!supervisor) throw new Error('no supervisor');
        const { context, page } = await signedIn(supervisor);
        await page.goto(`${consoleServer.url}/employees`);
        await textLacks(page.locator('main'), 'Bea Bee');
        await page.goto(`${consoleServer.url}/employees/A-1`);
        await textContains(page.locator('dl.facts'), 'Face templates not visible to your login');
        expect(await page.getByRole('button', { name: 'Deactivate' }).count()).toBe(0);
        expect((await page.goto(`${consoleServer.url}/employees/B-1`))?.status()).toBe(404);

        await page.goto(`${consoleServer.url}/rules?site=a`);
        await textContains(page.locator('main'), 'Only IT changes rules');
        const token = await page.locator('input[name="_csrf"]').first().inputValue();
        const before = (await root.query("SELECT rules::text AS r FROM site_rules WHERE site = 'a'")).rows[0];
        const forged = await page.request.post(`${consoleServer.url}/rules`, { form: { _csrf: token, site: 'a', graceLateMinutes: '90', maxShiftMinutes: '960' }, maxRedirects: 0 });
        expect(forged.status()).toBe(303);
        await page.goto(`${consoleServer.url}/rules?site=a`);
        await textIs(page.getByRole('alert'), 'Your login may not do that (it is outside your sites, or needs IT).');
        expect((await root.query("SELECT rules::text AS r FROM site_rules WHERE site = 'a'")).rows[0]).toEqual(before);

        expect((await page.request.get(`${consoleServer.url}/reports/payroll.csv?from=${day}&to=${day}&site=b`)).status()).toBe(404);
        const mine = await page.request.get(`${consoleServer.url}/reports/payroll.json?from=${day}&to=${day}`);
        expect((JSON.parse(await mine.text()) as Array<{ site: string }>).map((r) => r.site)).toEqual(['a']);

        expect((await page.request.get(`${consoleServer.url}/snapshots/${beaIn}/image`)).status()).toBe(404);
        expect((await page.request.get(`${consoleServer.url}/snapshots/${annIn}/image`)).status()).toBe(200);
        const theirs = (await root.query("SELECT count(*)::int AS n FROM audit_log WHERE kind = 'snapshot.viewed' AND login = $1", [supervisor.login])).rows[0];
        expect(theirs).toEqual({ n: 1 });
        await context.close();
      });
    }
  });
}
