import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectCentral } from '../../electron/central/connect.js';
import { registerKiosk, type RegisteredKiosk } from '../../electron/central/kiosk-registry.js';
import { KioskCore } from '../../electron/kiosk/kiosk-core.js';
import { initKioskDir } from '../../electron/kiosk/kiosk-init.js';
import { parseKioskSettings, readKioskSettings, writeKioskSettings } from '../../electron/kiosk/kiosk-settings.js';
import { recordTally } from '../support/fault-tally.js';
import { expectCacheEquals, expectedFor } from '../support/kiosk-cache.js';
import { clusterSuites, createCentralDatabase, opensslPart, startCluster, type PgCluster } from '../support/pg-cluster.js';
import { addEmployee, addSite, addTemplate, randomDescriptor, seededRandom } from '../support/roster-fixtures.js';
import { offsetClock } from '../support/test-clock.js';

/**
 * TLS to central with sslmode=verify-full against a test CA made here with openssl: a private cluster with ssl on
 * and pg_hba `hostssl` lines only. The IT tooling and a kiosk (roster sync, punch upload) work over it to host
 * `localhost` (the name in the server certificate); the same URL to 127.0.0.1 (not in the certificate), a
 * certificate checked against another CA, and a plaintext connection are each refused, and the kiosk keeps the
 * punches it could not hand over.
 */

const EMPLOYEES = 20;

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000 });
}

/** A CA (key + self-signed certificate) and, when `server` is set, a server certificate for it signed by the CA. */
function makeCa(dir: string, name: string): void {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(['req', '-x509', ...ec, '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', `/CN=Clockface test ${name}`], dir);
}

function makeServerCert(dir: string, ca: string): void {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(['req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost'], dir);
  writeFileSync(
    join(dir, 'server.ext'),
    'subjectAltName = DNS:localhost\nbasicConstraints = CA:FALSE\nkeyUsage = digitalSignature, keyEncipherment\nextendedKeyUsage = serverAuth\n',
  );
  openssl(
    ['x509', '-req', '-in', 'server.csr', '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'server.ext'],
    dir,
  );
}

/** `url` with another host and/or TLS parameters. */
function withTls(url: string, change: { host?: string; params?: Record<string, string> }): string {
  const u = new URL(url);
  if (change.host) u.hostname = change.host;
  for (const key of ['sslmode', 'sslrootcert']) u.searchParams.delete(key);
  for (const [k, v] of Object.entries(change.params ?? {})) u.searchParams.set(k, v);
  return u.toString();
}

async function refusal(url: string): Promise<Error & { code?: string; cause?: unknown }> {
  let client: pg.Client | null = null;
  try {
    client = await connectCentral({ url, embeddedDefault: false }, { timeoutMs: 10_000 });
  } catch (e) {
    return e as Error & { code?: string };
  }
  await client.end();
  throw new Error(`connected to ${url.replace(/:[^:@/]*@/, ':***@')}, expected a refusal`);
}

describe.each(clusterSuites('a TLS-only private PostgreSQL 15 central', [opensslPart()]))('TLS verify-full to central (%s)', () => {
  const root = mkdtempSync(join(tmpdir(), 'clockface-tls-'));
  const caFile = join(root, 'ca.crt');
  const otherCaFile = join(root, 'other-ca.crt');
  const verifyFull = { sslmode: 'verify-full', sslrootcert: caFile };
  let central: PgCluster;
  let adminUrl: string;
  let kiosk: RegisteredKiosk;
  const kioskDir = join(root, 'kiosk');
  const refusals: string[] = [];

  beforeAll(async () => {
    makeCa(root, 'ca');
    makeCa(root, 'other-ca');
    makeServerCert(root, 'ca');
    central = await startCluster({
      name: 'tls',
      ssl: { certFile: join(root, 'server.crt'), keyFile: join(root, 'server.key') },
      // TLS or nothing: no plain `host` line, so an unencrypted connection finds no pg_hba entry.
      hba: ['hostssl all all 127.0.0.1/32 scram-sha-256', 'hostssl all all ::1/128 scram-sha-256'],
      client: { host: 'localhost', params: verifyFull },
    });
    adminUrl = await createCentralDatabase(central);
    const admin = await connectCentral({ url: adminUrl, embeddedDefault: false });
    try {
      await addSite(admin, 'hq');
      const random = seededRandom(443);
      for (let i = 0; i < EMPLOYEES; i++) await addTemplate(admin, await addEmployee(admin, `T${i}`, 'hq'), randomDescriptor(random));
      kiosk = await registerKiosk(admin, adminUrl, { name: 'door-tls', site: 'hq' });
    } finally {
      await admin.end();
    }
  }, 120_000);

  afterAll(async () => {
    await central?.destroy();
    rmSync(root, { recursive: true, force: true });
  });

  it('IT tooling and a kiosk (roster sync, punch upload) work with verify-full to localhost, encrypted', async () => {
    expect(new URL(kiosk.settings.url).searchParams.get('sslmode')).toBe('verify-full'); // kiosk add kept the TLS settings
    await initKioskDir(kioskDir, parseKioskSettings({ ...kiosk.settings, kioskId: kiosk.id, engine: 'sqlite-vec' }, 'test settings'));
    const core = KioskCore.open(kioskDir);
    const admin = await connectCentral({ url: adminUrl, embeddedDefault: false });
    try {
      const mine = await admin.query<{ ssl: boolean }>('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
      expect(mine.rows[0]?.ssl).toBe(true);
      const synced = await core.syncRoster(10_000);
      expect(synced).toMatchObject({ kind: 'snapshot', employees: EMPLOYEES, templates: EMPLOYEES });
      expectCacheEquals(core.db, core.index, await expectedFor(admin, kiosk.id));
      // The kiosk's own session is encrypted too.
      const roster = await core.connectRoster();
      try {
        const { rows } = await admin.query<{ ssl: boolean }>(
          'SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a ON a.pid = s.pid WHERE a.usename = $1',
          [kiosk.settings.roleName],
        );
        expect(rows.map((r) => r.ssl)).toEqual([true]);
      } finally {
        await roster.end();
      }
      const employeeId = (await admin.query<{ id: number }>("SELECT id::int AS id FROM employees WHERE employee_no = 'T0'")).rows[0]!.id;
      const punch = core.recordPunch({ employeeId, direction: 'in', method: 'pin', matchDistance: null, at: new Date(Date.now() - 60_000) });
      expect(await core.upload()).toBe(1);
      const { rows } = await admin.query<{ n: number }>('SELECT count(*)::int AS n FROM punches WHERE id = $1', [punch.id]);
      expect(rows[0]?.n).toBe(1);
    } finally {
      await admin.end();
      core.close();
    }
  });

  it('the same URL to 127.0.0.1 (a name the certificate does not carry) is refused, and the kiosk keeps its punch', async () => {
    const e = await refusal(withTls(adminUrl, { host: '127.0.0.1', params: verifyFull }));
    // Wrapped so that the user sees which central and what to check; the TLS error is its cause.
    expect(e.code).toBe('CENTRAL_TLS_FAILED');
    expect(e.message).toMatch(/at postgres:\/\/.*127\.0\.0\.1.* did not prove who it is \(ERR_TLS_CERT_ALTNAME_INVALID\)/);
    const tlsCause = e.cause as Error & { code?: string };
    expect(tlsCause.message).toMatch(/does not match certificate's altnames: IP: 127\.0\.0\.1 is not in the cert's list/);
    refusals.push(`wrong host name: ${e.message}`);

    const settings = readKioskSettings(kioskDir);
    writeKioskSettings(kioskDir, { ...settings, url: withTls(settings.url, { host: '127.0.0.1', params: verifyFull }) });
    const core = KioskCore.open(kioskDir);
    try {
      await expect(core.syncRoster(0)).rejects.toThrow(/did not prove who it is \(ERR_TLS_CERT_ALTNAME_INVALID\)/);
      core.recordPunch({ employeeId: core.db.prepare('SELECT min(id) FROM employees').pluck().get() as number, direction: 'out', method: 'pin', matchDistance: null, at: new Date(Date.now() - 30_000) });
      expect(await core.upload()).toBe(0);
      expect(core.uploader.getStatus()).toMatchObject({ connected: false, pending: 1 });
      expect(core.uploader.getStatus().uploadError).toMatchObject({ code: 'CENTRAL_TLS_FAILED', message: expect.stringMatching(/did not prove who it is/) });
    } finally {
      core.close();
      writeKioskSettings(kioskDir, settings);
    }
    // Back on the right name, the punch goes up (no hand repair of the outbox).
    const again = KioskCore.open(kioskDir, { clock: offsetClock(3_600_000) });
    try {
      expect(await again.upload()).toBe(1);
      expect(again.uploader.getStatus()).toMatchObject({ connected: true, pending: 0 });
    } finally {
      again.close();
    }
  });

  it('a server certificate checked against another CA is refused', async () => {
    const e = await refusal(withTls(adminUrl, { params: { sslmode: 'verify-full', sslrootcert: otherCaFile } }));
    expect(e.code).toBe('CENTRAL_TLS_FAILED');
    expect((e.cause as { code?: string }).code).toMatch(/^(UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)$/);
    refusals.push(`other CA: ${e.code}: ${e.message}`);
    // And the kiosk's own login, with the same wrong CA.
    const k = await refusal(withTls(kiosk.settings.url, { params: { sslmode: 'verify-full', sslrootcert: otherCaFile } }));
    expect(k.code).toBe(e.code);
  });

  it('a plaintext connection (sslmode=disable) is refused by the server', async () => {
    for (const url of [adminUrl, kiosk.settings.url]) {
      const e = await refusal(withTls(url, { params: { sslmode: 'disable' } }));
      // The pg_hba refusal, wrapped by connectCentral; its cause says why.
      const cause = (e.cause ?? e) as Error & { code?: string };
      expect(cause.code).toBe('28000');
      expect(cause.message).toMatch(/no pg_hba\.conf entry .* no encryption/);
      expect(e.message).toMatch(/accepts encrypted connections only/);
      expect((e as Error & { hint?: string }).hint).toMatch(/sslmode=verify-full/);
      refusals.push(`plaintext: ${e.message} (cause: ${cause.message})`);
    }
    console.log(`[tls] what a user sees:\n  ${refusals.join('\n  ')}`);
    recordTally({
      area: 'hostile',
      kind: 'TLS: wrong host name / other CA / plaintext against a verify-full, hostssl-only central',
      count: refusals.length,
      outcome: 'each refused (ERR_TLS_CERT_ALTNAME_INVALID, CA verify error, pg_hba "no encryption"); kiosk kept its punch',
    });
  });
});
