import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConsoleServer, type ConsoleServer } from '../../electron/console/server.js';
import { startMigrated, centralFactories, type TestCentral } from '../support/centrals.js';

/**
 * The console under TLS (`--tls-cert`, `--tls-key`): it answers HTTPS with the certificate given, its cookies carry
 * Secure (with HttpOnly and SameSite=Strict), HSTS is sent and the CSP upgrades insecure requests. A certificate made
 * here with openssl for 127.0.0.1; the client trusts exactly it.
 */
describe('the back office over TLS', () => {
  const dir = mkdtempSync(join(tmpdir(), 'clockface-console-tls-'));
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  let central: TestCentral;
  let server: ConsoleServer;

  beforeAll(async () => {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert], { stdio: 'ignore' });
    const embedded = centralFactories().find((f) => f.kind === 'embedded');
    if (!embedded) throw new Error('no embedded central');
    central = await startMigrated(embedded);
    server = await startConsoleServer({ central: { url: central.url, embedded: true }, host: '127.0.0.1', port: 0, tls: { certFile: cert, keyFile: key } });
  });
  afterAll(async () => {
    await server?.close();
    await central?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves HTTPS with Secure, HttpOnly, SameSite=Strict cookies, HSTS and upgrade-insecure-requests', async () => {
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const response = await new Promise<{ status: number; headers: Record<string, string | string[] | undefined> }>((resolve, reject) => {
      const req = request(`${server.url}/setup`, { ca: readFileSync(cert) }, (res) => {
        res.resume();
        resolve({ status: res.statusCode ?? 0, headers: res.headers });
      });
      req.on('error', reject);
      req.end();
    });
    expect(response.status).toBe(200);
    const cookies = (response.headers['set-cookie'] ?? []) as string[];
    expect(cookies.length).toBeGreaterThan(0);
    for (const c of cookies) expect(c).toMatch(/; Secure/);
    expect(cookies.find((c) => c.startsWith('cf_csrf='))).toMatch(/HttpOnly.*SameSite=Strict|SameSite=Strict.*HttpOnly/);
    expect(response.headers['strict-transport-security']).toMatch(/max-age=\d+/);
    expect(response.headers['content-security-policy']).toContain('upgrade-insecure-requests');
  });
});
