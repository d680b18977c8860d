import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/ports.js';
import { CLI } from '../support/run-cli.js';


/**
 * `npm start` on a fresh machine (a fresh CLOCKFACE_HOME): the embedded central, a kiosk registered and synced on
 * first run, and, since the Electron binary cannot be downloaded here, browser mode with the address to open. The
 * page answers, the back office answers beside it, the bridge reports an empty roster and no admin PIN (the "nobody enrolled yet" screen), and Ctrl-C
 * stops everything; a second start reuses the same kiosk.
 */
describe('npm start on a fresh machine', () => {
  const home = mkdtempSync(join(tmpdir(), 'clockface-start-'));
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  const start = async (centralPort: number, kioskPort: number, consolePort: number) => {
    const env = {
      ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CLOCKFACE_'))),
      CLOCKFACE_HOME: home,
      CLOCKFACE_CENTRAL_PORT: String(centralPort),
      CLOCKFACE_KIOSK_PORT: String(kioskPort),
      CLOCKFACE_CONSOLE_PORT: String(consolePort),
    };
    const child = spawn(process.execPath, [CLI, 'start'], { env });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no address printed:\n${out}`)), 120_000);
      child.stdout.on('data', () => {
        const found = /Kiosk .*: open (http:\/\/\S+)/.exec(out)?.[1];
        if (found) {
          clearTimeout(timer);
          resolve(found);
        }
      });
      child.once('exit', (code) => reject(new Error(`npm start exited (${String(code)}):\n${out}`)));
    });
    const stop = () =>
      new Promise<number | null>((resolve) => {
        child.once('exit', (code) => resolve(code));
        child.kill('SIGINT');
      });
    return { url, output: () => out, stop };
  };

  it('starts central and the kiosk in browser mode, shows the first-run state, and stops cleanly on Ctrl-C', async () => {
    const [centralPort, kioskPort, consolePort] = [await freePort(), await freePort(), await freePort()];
    const first = await start(centralPort, kioskPort, consolePort);
    // The back office beside it: on the embedded central its first page asks for the admin account to be chosen.
    expect(first.output()).toContain(`Back office (console): http://127.0.0.1:${consolePort}`);
    const signIn = await fetch(`http://127.0.0.1:${consolePort}/sign-in`, { redirect: 'manual' });
    expect([signIn.status, signIn.headers.get('location')]).toEqual([303, '/setup']);
    expect(first.output()).toContain('The Electron binary is not available here');
    expect(first.url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${kioskPort}/#token=`));
    const origin = new URL(first.url).origin;
    const token = new URL(first.url).hash.replace('#token=', '');
    expect((await fetch(`${origin}/`)).status).toBe(200);
    const status = await (
      await fetch(`${origin}/api/getStatus`, { method: 'POST', headers: { 'X-Clockface-Token': token }, body: '{}' })
    ).json();
    expect(status).toMatchObject({ ok: true, value: { kioskName: 'this-kiosk', site: 'main', nobodyEnrolled: true, needsAdminPin: true } });
    expect(await first.stop()).toBe(0);
    expect(first.output()).toContain('stopped');

    const second = await start(centralPort, kioskPort, consolePort);
    const again = await (
      await fetch(`${new URL(second.url).origin}/api/getStatus`, {
        method: 'POST',
        headers: { 'X-Clockface-Token': new URL(second.url).hash.replace('#token=', '') },
        body: '{}',
      })
    ).json();
    expect(again).toMatchObject({ ok: true, value: { kioskName: 'this-kiosk' } });
    expect(await second.stop()).toBe(0);
  });
});
