import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import pg from 'pg';
import sharp from 'sharp';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConsoleServer, type ConsoleServer } from '../../electron/console/server.js';
import { addSupervisor, type RegisteredSupervisor } from '../../electron/timesheets/supervisors.js';
import { centralFactories, serverFactories, startMigrated, type CentralFactory, type TestCentral } from '../support/centrals.js';
import { chromiumPart, launchChromium } from '../support/chromium.js';
import { checkPage, createItLogin, signedIn as signedInAt } from '../support/console-browser.js';
import { bbtPhoto } from '../support/faces.js';
import { textContains, textIs, textLacks } from '../support/page-text.js';
import { addEmployee, addSite } from '../support/roster-fixtures.js';
import { partsPresent } from '../support/system-parts.js';
import { makeZip } from '../support/zip.js';

/**
 * The console's roster import (issue 18) in Chromium, on both centrals: the embedded one's first-run admin account, an
 * IT login on the server.
 *
 * A CSV and a zip of real photos uploaded: the preview lists each row created / updated / unchanged / failed with its
 * code (a photo with no face, a row without a number, a photo not in the zip) and central is exactly as before (rows
 * counted); apply shows its progress (held at a lock so the page can be seen mid-way), reaches done, and the people
 * exist with their templates; the upload's temp folder is gone. Mirror mode: a file that would deactivate 2 of a
 * site's 10 people (over the 10 % cap) is refused, shown as such, and an apply without the override writes nothing;
 * ticking it deactivates them (audited under the login). Within the cap, the missing person is listed, then
 * deactivated. A multipart upload without the CSRF token, a file that is not UTF-8 and a zip climbing out of its
 * folder each get one line and write nothing; a supervisor is kept out. Every page passes axe-core with no serious or
 * critical violation, does not scroll sideways, and is shot at 1280×800 and 390×844 into test-results/console/.
 */

/** The face engine loads its models on the first photo of the first preview: give that room. */
const PREVIEW_WAIT = 120_000;

/** Checks the page and shoots it as `roster-import-<step>-<central>-<width>.png`. */
const shoot = (page: Page, step: string, central: string) => checkPage(page, `roster-import-${step}-${central}`, step);

const HEADER = 'employee_no,full_name,department,site,photos,pin';
const csvFile = (name: string, lines: readonly string[]) => ({ name, mimeType: 'text/csv', buffer: Buffer.from(`${[HEADER, ...lines].join('\n')}\n`) });

/** What must not change before an apply: people, who is active, templates, sites, the kiosks' feed, the audit log. */
const STATE = `SELECT (SELECT count(*) FROM employees)::int AS employees, (SELECT count(*) FROM employees WHERE active)::int AS active,
                      (SELECT count(*) FROM face_templates)::int AS templates, (SELECT count(*) FROM sites)::int AS sites,
                      (SELECT count(*) FROM roster_changes)::int AS feed, (SELECT count(*) FROM audit_log)::int AS audit`;

const importFolders = () => new Set(readdirSync(tmpdir()).filter((f) => f.startsWith('clockface-import-')));

if (partsPresent('the roster import pages in Chromium', [chromiumPart()])) {
  serverFactories('the roster import with an IT login and a supervisor kept out');

  describe.each(centralFactories())('roster import in the back office on $label', { timeout: 300_000 }, (factory: CentralFactory) => {
    const server = factory.kind === 'server';
    let central: TestCentral;
    let root: pg.Client;
    let browser: Browser;
    let console_: ConsoleServer;
    let admin = { login: 'itadmin', password: 'correct horse battery staple' };
    let itLogin: Awaited<ReturnType<typeof createItLogin>> | null = null;
    let supervisor: RegisteredSupervisor | null = null;
    let photosZip: Buffer;

    const state = async () => (await root.query(STATE)).rows[0];
    const activeAt = async (site: string) =>
      (await root.query<{ employee_no: string }>('SELECT employee_no FROM employees WHERE active AND site = $1 ORDER BY 1', [site])).rows.map((r) => r.employee_no);

    beforeAll(async () => {
      central = await startMigrated(factory);
      root = await central.connect();
      await addSite(root, 'hq');
      await addEmployee(root, 'H-1', 'hq', 'Howard Wolowitz');
      await addEmployee(root, 'H-2', 'hq', 'Penny Teller');
      await addSite(root, 'big');
      for (let i = 1; i <= 10; i++) await addEmployee(root, `M-${String(i).padStart(2, '0')}`, 'big', `Miner ${i}`);
      await addSite(root, 'small');
      for (let i = 1; i <= 20; i++) await addEmployee(root, `S-${String(i).padStart(2, '0')}`, 'small', `Smith ${i}`);
      if (server) {
        itLogin = await createItLogin(root);
        admin = { login: itLogin.login, password: itLogin.password };
        supervisor = await addSupervisor(root, central.url, { login: `sue.${randomBytes(3).toString('hex')}`, sites: ['hq'] });
      }
      // Real photos as HR would zip them, and one in which nobody can be found.
      photosZip = makeZip([
        { name: 'amy/amy1.png', data: readFileSync(bbtPhoto('amy', 1)) },
        { name: 'amy/amy2.png', data: readFileSync(bbtPhoto('amy', 2)) },
        { name: 'raj/raj1.png', data: readFileSync(bbtPhoto('raj', 1)) },
        { name: 'bad/nobody.png', data: await sharp(bbtPhoto('amy', 1)).blur(60).png().toBuffer() },
      ]);
      browser = await launchChromium();
      console_ = await startConsoleServer({ central: { url: central.url, embedded: !server }, host: '127.0.0.1', port: 0 });
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

    /** Fills the upload form and sends it; lands on the job's page (progress, then the preview). */
    async function upload(page: Page, csv: ReturnType<typeof csvFile>, options: { zip?: Buffer; mirror?: boolean } = {}): Promise<void> {
      await page.goto(`${console_.url}/roster-import`);
      await page.locator('#import-csv').setInputFiles(csv);
      if (options.zip) await page.locator('#import-photos').setInputFiles({ name: 'photos.zip', mimeType: 'application/zip', buffer: options.zip });
      if (options.mirror) await page.getByLabel(/^The file is the whole roster of its sites/).check();
      await page.getByRole('button', { name: 'Upload and preview' }).click();
    }

    it('first run on the embedded central: the admin account; the menu offers Roster import to IT', async () => {
      if (!server) {
        const context = await browser.newContext();
        const page = await context.newPage();
        await page.goto(`${console_.url}/`);
        expect(new URL(page.url()).pathname).toBe('/setup');
        await page.getByLabel('Login').fill(admin.login);
        await page.getByLabel('Password').fill(admin.password);
        await page.getByRole('button', { name: 'Save' }).click();
        await page.waitForURL(/\/sign-in\?ready=1$/);
        await context.close();
      }
      const { context, page } = await signedIn();
      await page.getByRole('link', { name: 'Roster import' }).click();
      await textIs(page.locator('h1'), 'Roster import');
      await shoot(page, 'upload', factory.kind);
      await page.getByRole('button', { name: '中文' }).click();
      await textIs(page.locator('h1'), '名单导入');
      await shoot(page, 'upload-zh', factory.kind);
      await page.getByRole('button', { name: 'English' }).click();
      await context.close();
    });

    it('CSV + photos: the preview lists every row with its code and writes nothing; apply shows progress to done', async () => {
      const { context, page } = await signedIn();
      const before = await state();
      const foldersBefore = importFolders();
      await upload(
        page,
        csvFile('hr-roster.csv', [
          'R-1,Amy Farrah Fowler,Neuro,hq,amy/amy1.png;amy/amy2.png,', // 2 created, two templates
          'R-2,Raj Koothrappali,Astro,hq,raj/raj1.png,', // 3 created
          'H-1,Howard Wolowitz,,hq,,', // 4 unchanged
          'H-2,Penny Hofstadter,,hq,,', // 5 updated: a new name
          'R-3,Nobody There,,hq,bad/nobody.png,', // 6 a photo with no face
          ',No Number,,hq,,', // 7 a broken row
          'R-4,Missing Photo,,hq,amy/amy9.png,', // 8 a photo not in the zip
        ]),
        { zip: photosZip },
      );
      await textIs(page.locator('h1'), 'Preview: nothing written yet', PREVIEW_WAIT);
      const row = (line: number) => page.locator(`tr[data-line="${line}"]`);
      expect(await row(2).getAttribute('data-outcome')).toBe('created');
      await textContains(row(2), 'Amy Farrah Fowler');
      expect(await row(3).getAttribute('data-outcome')).toBe('created');
      expect(await row(4).getAttribute('data-outcome')).toBe('unchanged');
      expect(await row(5).getAttribute('data-outcome')).toBe('updated');
      for (const [line, code, sentence] of [
        [6, 'NO_FACE', 'No face found in a photo.'],
        [7, 'MISSING_EMPLOYEE_NO', 'No employee number.'],
        [8, 'PHOTO_MISSING', 'A photo the row names is not in the zip.'],
      ] as const) {
        expect(await row(line).getAttribute('data-outcome'), `line ${line}`).toBe('failed');
        await textContains(row(line), `${code} ${sentence}`);
      }
      await textContains(page.locator('dl.import-totals'), 'Created 2 Updated 1 Unchanged 1 Failed 3 Face templates added 3');
      await textContains(page.locator('main'), 'File hr-roster.csv, 4 photos unpacked.');
      // Nothing written yet; the upload waits in one owner-only temp folder.
      expect(await state()).toEqual(before);
      const waiting = [...importFolders()].filter((f) => !foldersBefore.has(f));
      expect(waiting).toHaveLength(1);
      await shoot(page, 'preview', factory.kind);

      // Apply, held at a lock on employees so that the progress page can be looked at before it finishes.
      await root.query('BEGIN');
      await root.query('LOCK TABLE employees IN SHARE ROW EXCLUSIVE MODE');
      try {
        await page.getByRole('button', { name: 'Apply: write to central' }).click();
        await textIs(page.locator('h1'), 'Applying the file');
        await textContains(page.locator('#import-state'), 'Writing to central:');
        await shoot(page, 'applying', factory.kind);
      } finally {
        await root.query('ROLLBACK');
      }
      // The page follows by itself (its script polls the job's status) to the outcome, progress at its end.
      await textIs(page.locator('h1'), 'Roster imported', PREVIEW_WAIT);
      const bar = page.locator('#import-progress');
      expect(await bar.getAttribute('value')).toBe('7');
      expect(await bar.getAttribute('max')).toBe('7');
      await textIs(page.locator('p.flash'), 'Done: 2 created, 1 updated, 1 unchanged, 3 failed; 0 deactivated.');
      await shoot(page, 'applied', factory.kind);
      // The apply form sent again (a second click, a replay): the job is applied already, nothing more happens.
      const after = await state();
      const token = await page.locator('input[name="_csrf"]').first().inputValue();
      const replay = await page.request.post(`${page.url()}/apply`, { form: { _csrf: token }, maxRedirects: 0 });
      expect(replay.status()).toBe(303);
      expect(await state()).toEqual(after);

      const people = await root.query<{ employee_no: string; full_name: string; department: string | null; templates: number }>(
        `SELECT e.employee_no, e.full_name, e.department, (SELECT count(*)::int FROM face_templates t WHERE t.employee_id = e.id) AS templates
         FROM employees e WHERE e.site = 'hq' ORDER BY 1`,
      );
      expect(people.rows).toEqual([
        { employee_no: 'H-1', full_name: 'Howard Wolowitz', department: null, templates: 0 },
        { employee_no: 'H-2', full_name: 'Penny Hofstadter', department: null, templates: 0 },
        { employee_no: 'R-1', full_name: 'Amy Farrah Fowler', department: 'Neuro', templates: 2 },
        { employee_no: 'R-2', full_name: 'Raj Koothrappali', department: 'Astro', templates: 1 },
      ]);
      // The files are gone with the apply.
      expect([...importFolders()].filter((f) => !foldersBefore.has(f))).toEqual([]);
      await context.close();
    });

    it('mirror mode over the 10 % cap is refused until the override is ticked', async () => {
      const { context, page } = await signedIn();
      const before = await state();
      // M-09 and M-10 are missing: 2 of big's 10, over the cap.
      await upload(page, csvFile('big.csv', Array.from({ length: 8 }, (_, i) => `M-0${i + 1},Miner ${i + 1},,big,,`)), { mirror: true });
      await textIs(page.locator('h1'), 'Preview: nothing written yet', PREVIEW_WAIT);
      await textIs(
        page.locator('#import-refused'),
        'Refused: site big would lose 2 of its 10 active employees (20 %), more than the 10 % cap. Check that the file is complete: a cut-off export looks like people leaving. Nothing is written unless you confirm below.',
      );
      await textContains(page.locator('.import-deactivations'), 'Miner 9 M-09 · big');
      await textContains(page.locator('.import-deactivations'), 'Miner 10 M-10 · big');
      await shoot(page, 'refused', factory.kind);

      // Apply without the box: refused, one line, nothing written.
      const [refusal] = await Promise.all([
        page.waitForResponse((r) => r.url().endsWith('/apply') && r.request().method() === 'POST'),
        page.getByRole('button', { name: 'Apply: write to central' }).click(),
      ]);
      expect(refusal.status()).toBe(409);
      await textIs(page.locator('p.flash[role="alert"]').first(), /^Nothing was written: more people would be deactivated than the cap allows\./);
      expect(await state()).toEqual(before);
      expect(await activeAt('big')).toHaveLength(10);

      await page.getByLabel('Deactivate anyway: I have checked that the file is complete').check();
      await page.getByRole('button', { name: 'Apply: write to central' }).click();
      await textIs(page.locator('h1'), 'Roster imported', PREVIEW_WAIT);
      await textIs(page.locator('p.flash'), 'Done: 0 created, 0 updated, 8 unchanged, 0 failed; 2 deactivated.');
      expect(await activeAt('big')).toEqual(Array.from({ length: 8 }, (_, i) => `M-0${i + 1}`));
      const audit = await root.query<{ subject: string; login: string }>("SELECT subject, login FROM audit_log WHERE kind = 'employee.deactivated' AND site = 'big' ORDER BY subject");
      expect(audit.rows.map((r) => r.subject)).toEqual(['M-09', 'M-10']);
      if (server) expect(new Set(audit.rows.map((r) => r.login))).toEqual(new Set([admin.login]));
      // Deactivated, not erased.
      expect((await root.query("SELECT 1 FROM employees WHERE employee_no IN ('M-09', 'M-10') AND erased_at IS NULL")).rowCount).toBe(2);
      await context.close();
    });

    it('mirror mode within the cap lists the missing person, then deactivates them; other sites untouched', async () => {
      const { context, page } = await signedIn();
      const before = await state();
      const others = { hq: await activeAt('hq'), big: await activeAt('big') };
      // S-20 is missing: 1 of small's 20 (5 %).
      await upload(page, csvFile('small.csv', Array.from({ length: 19 }, (_, i) => `S-${String(i + 1).padStart(2, '0')},Smith ${i + 1},,small,,`)), { mirror: true });
      await textIs(page.locator('h1'), 'Preview: nothing written yet', PREVIEW_WAIT);
      await textIs(page.locator('.import-deactivations'), 'Smith 20 S-20 · small');
      await textContains(page.locator('table.import-sites'), 'small 20 1 5 %');
      expect(await page.locator('#import-refused').count()).toBe(0);
      expect(await page.locator('#import-override').count()).toBe(0);
      expect(await state()).toEqual(before);
      await shoot(page, 'mirror-preview', factory.kind);

      await page.getByRole('button', { name: 'Apply: write to central' }).click();
      await textIs(page.locator('h1'), 'Roster imported', PREVIEW_WAIT);
      await textContains(page.locator('#import-mirror-title'), 'Deactivated (mirror mode)');
      await textIs(page.locator('.import-deactivations'), 'Smith 20 S-20 · small');
      expect(await activeAt('small')).toHaveLength(19);
      expect(await activeAt('small')).not.toContain('S-20');
      expect({ hq: await activeAt('hq'), big: await activeAt('big') }).toEqual(others);
      await shoot(page, 'mirror-applied', factory.kind);
      await context.close();
    });

    it('bad input gets one line and writes nothing: no CSRF token, a file that is not UTF-8, a zip that climbs out; sign-out drops an upload', async () => {
      const { context, page } = await signedIn();
      const before = await state();
      const foldersBefore = importFolders();
      const latin1 = { name: 'latin1.csv', mimeType: 'text/csv', buffer: Buffer.from(`${HEADER}\nL-1,Jos\xe9 M\xfcller,,hq,,\n`, 'latin1') };

      // Multipart without the token in its query: refused before the body is read.
      const forged = await page.request.post(`${console_.url}/roster-import/upload`, { multipart: { csv: latin1 }, maxRedirects: 0 });
      expect(forged.status()).toBe(403);

      await upload(page, latin1);
      await textIs(page.locator('h1'), 'Import failed', PREVIEW_WAIT);
      await textIs(page.getByRole('alert'), 'The roster file cannot be imported: latin1.csv is not UTF-8 text (Latin-1 or another code page?); save it as UTF-8');
      await textLacks(page.locator('main'), tmpdir());

      await upload(page, csvFile('ok.csv', ['Z-1,Zed,,hq,,']), { zip: makeZip([{ name: '../../escape.png', data: Buffer.from('x') }]) });
      await textIs(page.getByRole('alert'), 'The photos zip holds a path that leads outside it (.. or an absolute path); nothing was imported.');
      await shoot(page, 'zip-refused', factory.kind);
      expect(await state()).toEqual(before);
      expect([...importFolders()].filter((f) => !foldersBefore.has(f))).toEqual([]);

      // An upload left waiting goes with the session.
      await upload(page, csvFile('ok.csv', ['Z-1,Zed,,hq,,']));
      await textIs(page.locator('h1'), 'Preview: nothing written yet', PREVIEW_WAIT);
      expect([...importFolders()].filter((f) => !foldersBefore.has(f))).toHaveLength(1);
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.waitForURL(/\/sign-in\?out=1$/);
      await expect.poll(() => [...importFolders()].filter((f) => !foldersBefore.has(f))).toEqual([]);
      expect(await state()).toEqual(before);
      await context.close();
    });

    if (server) {
      it('a supervisor has no Roster import: not in the menu, refused by address', async () => {
        if (!supervisor) throw new Error('no supervisor');
        const { context, page } = await signedIn({ login: supervisor.login, password: supervisor.password });
        expect(await page.getByRole('link', { name: 'Roster import' }).count()).toBe(0);
        const response = await page.goto(`${console_.url}/roster-import`);
        expect(response?.status()).toBe(403);
        await textIs(page.getByRole('alert'), 'Only IT may import the roster.');
        await context.close();
      });
    }
  });
}
