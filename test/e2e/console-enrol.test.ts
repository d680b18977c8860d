import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import pg from 'pg';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConsoleServer, type ConsoleServer } from '../../electron/console/server.js';
import { createEmbeddedAdmin } from '../../electron/console/sign-in.js';
import { nodeFaceEngine } from '../../electron/face/node-face-engine.js';
import { enrolEmployeePhotos } from '../../electron/roster/enrol-employee.js';
import { addSupervisor, type RegisteredSupervisor } from '../../electron/timesheets/supervisors.js';
import { centralFactories, serverFactories, startMigrated, type CentralFactory, type TestCentral } from '../support/centrals.js';
import { chromiumPart, launchChromium } from '../support/chromium.js';
import { checkPage, createItLogin, signedIn as signedInAt } from '../support/console-browser.js';
import { bbtPhoto, GROUP_DIR } from '../support/faces.js';
import { textContains, textIs } from '../support/page-text.js';
import { addEmployee, addSite } from '../support/roster-fixtures.js';
import { partsPresent } from '../support/system-parts.js';

/**
 * Enrolment from photos uploaded on an employee's page (issue 18), on both centrals, with the real face models on real
 * photos. IT uploads five files for Amy at once: two good photos of her are added, a group photo is refused (more than
 * one face), a photo of Howard (already enrolled) is refused by the duplicate-face guard, a text file is refused as
 * unreadable; each refusal says why, in the person's language, and only Amy's two templates reach central. On the
 * server a supervisor's upload is refused by central and adds nothing. The pages pass axe-core and are shot at both
 * widths.
 */

/** A photo as the browser uploads it. */
const file = (path: string) => ({ name: basename(path), mimeType: path.endsWith('.jpg') ? 'image/jpeg' : 'image/png', buffer: readFileSync(path) });

if (partsPresent('enrolment from uploaded photos in Chromium', [chromiumPart()])) {
  serverFactories('a supervisor refused enrolment by central');

  describe.each(centralFactories())('enrolment from uploaded photos on $label', { timeout: 300_000 }, (factory: CentralFactory) => {
    const server = factory.kind === 'server';
    let central: TestCentral;
    let root: pg.Client;
    let browser: Browser;
    let consoleServer: ConsoleServer;
    let admin = { login: 'itadmin', password: 'correct horse battery staple' };
    let itLogin: Awaited<ReturnType<typeof createItLogin>> | null = null;
    let supervisor: RegisteredSupervisor | null = null;

    const templatesOf = async (no: string) =>
      (await root.query<{ n: number }>('SELECT count(*)::int AS n FROM face_templates t JOIN employees e ON e.id = t.employee_id WHERE e.employee_no = $1', [no])).rows[0]?.n;

    beforeAll(async () => {
      central = await startMigrated(factory);
      root = await central.connect();
      await addSite(root, 'a');
      await addEmployee(root, 'A-1', 'a', 'Amy Fowler');
      await addEmployee(root, 'H-1', 'a', 'Howard Wolowitz');
      const engine = await nodeFaceEngine();
      const howard = await enrolEmployeePhotos(root, engine, 'H-1', [{ name: 'howard1.png', bytes: readFileSync(bbtPhoto('howard', 1)) }], { allowDuplicateFace: false });
      expect(howard.map((o) => o.status)).toEqual(['added']);
      if (server) {
        itLogin = await createItLogin(root);
        admin = { login: itLogin.login, password: itLogin.password };
        supervisor = await addSupervisor(root, central.url, { login: `sid.${randomBytes(3).toString('hex')}`, sites: ['a'] });
      }
      const consoleCentral = { url: central.url, embedded: !server };
      if (!server) await createEmbeddedAdmin(consoleCentral, admin.login, admin.password);
      browser = await launchChromium();
      consoleServer = await startConsoleServer({ central: consoleCentral, host: '127.0.0.1', port: 0 });
    }, 300_000);

    afterAll(async () => {
      await browser?.close();
      await consoleServer?.close();
      await root?.end();
      await central?.close();
      await itLogin?.drop();
    });

    async function signedIn(who: { login: string; password: string }): Promise<Page> {
      return (await signedInAt(browser, consoleServer.url, who)).page;
    }

    it('IT uploads five files: two good photos added, a group photo, someone else\'s face and a text file refused, each saying why', async () => {
      const page = await signedIn(admin);
      await page.goto(`${consoleServer.url}/employees/A-1`);
      await checkPage(page, `enrol-form-${factory.kind}`);
      await page.getByLabel('Photos (up to 10, JPEG, PNG, WebP or TIFF)').setInputFiles([
        file(bbtPhoto('amy', 1)),
        file(bbtPhoto('amy', 2)),
        file(join(GROUP_DIR, 'bbt1.jpg')),
        file(bbtPhoto('howard', 2)),
        { name: 'notes.png', mimeType: 'image/png', buffer: Buffer.from('not a picture at all') },
      ]);
      await page.getByRole('button', { name: 'Add photos' }).click();
      await textIs(page.locator('h1'), 'Face photos for Amy Fowler', 120_000);
      const rows = page.locator('tbody tr');
      const text = async (i: number) => (await rows.nth(i).innerText()).replace(/\s+/g, ' ');
      expect(await rows.count()).toBe(5);
      expect(await text(0)).toMatch(/^amy1\.png added/);
      expect(await text(1)).toMatch(/^amy2\.png added/);
      expect(await text(2)).toMatch(/^bbt1\.jpg refused A photo shows more than one face\./);
      expect(await text(3)).toMatch(/^howard2\.png refused A photo shows the face of another employee\..*H-1/);
      expect(await text(4)).toMatch(/^notes\.png refused A photo cannot be read/);
      await checkPage(page, `enrol-result-${factory.kind}`);
      expect(await templatesOf('A-1')).toBe(2);
      expect(await templatesOf('H-1')).toBe(1);
      await page.context().close();
    });

    it('an upload without photos, or without its CSRF token, changes nothing and says so', async () => {
      const page = await signedIn(admin);
      await page.goto(`${consoleServer.url}/employees/A-1`);
      const action = await page.locator('form[enctype="multipart/form-data"]').getAttribute('action');
      const empty = await page.request.post(`${consoleServer.url}${action ?? ''}`, { multipart: { note: 'nothing' }, maxRedirects: 0 });
      expect(empty.status()).toBe(303);
      await page.goto(`${consoleServer.url}/employees/A-1`);
      await textIs(page.getByRole('alert'), 'Choose at least one photo.');
      const forged = await page.request.post(`${consoleServer.url}/employees/A-1/enrol`, {
        multipart: { photos: { name: 'amy3.png', mimeType: 'image/png', buffer: readFileSync(bbtPhoto('amy', 3)) } },
        maxRedirects: 0,
      });
      expect(forged.status()).toBe(403);
      expect(await templatesOf('A-1')).toBe(2);
      await page.context().close();
    });

    if (server) {
      it('a supervisor\'s upload is refused by central and adds nothing', async () => {
        if (!supervisor) throw new Error('no supervisor');
        const page = await signedIn(supervisor);
        await page.goto(`${consoleServer.url}/now`);
        const token = await page.locator('input[name="_csrf"]').first().inputValue();
        const r = await page.request.post(`${consoleServer.url}/employees/A-1/enrol?_csrf=${encodeURIComponent(token)}`, {
          multipart: { photos: { name: 'amy3.png', mimeType: 'image/png', buffer: readFileSync(bbtPhoto('amy', 3)) } },
          maxRedirects: 0,
        });
        expect(r.status()).toBe(303);
        await page.goto(`${consoleServer.url}/employees/A-1`);
        await textContains(page.getByRole('alert'), 'Your login may not do that');
        expect(await templatesOf('A-1')).toBe(2);
        await page.context().close();
      });
    }
  });
}
