import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerKiosk, type RegisteredKiosk } from '../../electron/central/kiosk-registry.js';
import { KioskCore } from '../../electron/kiosk/kiosk-core.js';
import { KioskService } from '../../electron/kiosk/kiosk-service.js';
import { writeKioskSettings } from '../../electron/kiosk/kiosk-settings.js';
import { setLogSink, type LogSink } from '../../shared/logger.js';
import { centralFactories, serverFactories, startMigrated, type TestCentral } from '../support/centrals.js';
import { addSite, randomDescriptor, seededRandom } from '../support/roster-fixtures.js';

/**
 * The kiosk's admin enrolment against a real central: what the screen is told when central refuses, and what the log
 * keeps when something after the enrolment fails. (The bridge's other behaviour is in kiosk-service.test.ts, with no
 * central at all.)
 */

/** Opens the kiosk in `dir`, unlocks admin mode, enrols one new person through the bridge, closes; the answer. */
async function enrolOnce(dir: string, employeeNo: string, seed: number): Promise<Awaited<ReturnType<KioskService['handle']>>> {
  const core = KioskCore.open(dir);
  const service = new KioskService(core, { follow: false });
  try {
    const set = await service.handle('setAdminPin', { pin: '246810' });
    if (!set.ok) throw new Error(set.error.message);
    return await service.handle('enrolEmployee', {
      adminToken: (set.value as { adminToken: string }).adminToken,
      employeeNo,
      fullName: 'New Person',
      descriptors: [randomDescriptor(seededRandom(seed))],
    });
  } finally {
    await service.stop();
    core.close();
  }
}

describe.each(centralFactories())('kiosk enrolment with central on $label', (factory) => {
  let central: TestCentral;
  let admin: pg.Client;
  let kiosk: RegisteredKiosk;
  const dir = mkdtempSync(join(tmpdir(), 'clockface-service-central-'));
  const records: Parameters<LogSink>[0][] = [];

  beforeAll(async () => {
    central = await startMigrated(factory);
    admin = await central.connect();
    await addSite(admin, 'hq');
    kiosk = await registerKiosk(admin, central.url, { name: 'door-enrol', site: 'hq' });
    setLogSink((record) => records.push(record));
  });
  afterAll(async () => {
    await admin.end();
    await central.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('an enrolment that central stored but the sync after it could not fetch: done, and the log says why', async () => {
    // Roster reads go to a replica that is down; the enrolment itself goes to the primary.
    writeKioskSettings(dir, { ...kiosk.settings, kioskId: kiosk.id, engine: 'js', rosterUrl: 'postgres://nobody@127.0.0.1:9/none' });
    const result = await enrolOnce(dir, 'NEW-1', 1);
    expect(result).toMatchObject({ ok: true, value: { templatesAdded: 1 } });
    const logged = records.find((r) => r.message.startsWith('roster sync after enrolment failed'));
    expect(logged, JSON.stringify(records)).toBeDefined();
    expect(String(logged?.fields['error'])).toMatch(/cannot reach the central database at postgres:\/\/nobody@127\.0\.0\.1:9/);
  });
});

describe.each(serverFactories())('kiosk enrolment refused at login on $label', (factory) => {
  let central: TestCentral;
  let admin: pg.Client;
  const dir = mkdtempSync(join(tmpdir(), 'clockface-service-login-'));

  beforeAll(async () => {
    central = await startMigrated(factory);
    admin = await central.connect();
    await addSite(admin, 'hq');
  });
  afterAll(async () => {
    await admin.end();
    await central.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a wrong password is said to be a refused login, not "central cannot be reached"', async () => {
    const kiosk = await registerKiosk(admin, central.url, { name: 'door-wrong-pw', site: 'hq' });
    const url = new URL(kiosk.settings.url);
    url.password = 'not-the-password';
    writeKioskSettings(dir, { ...kiosk.settings, url: url.toString(), kioskId: kiosk.id, engine: 'js' });
    const result = await enrolOnce(dir, 'NEW-2', 2);
    expect(result).toMatchObject({ ok: false, error: { code: 'CENTRAL_AUTH_FAILED', message: expect.stringMatching(/refused the login/) } });
  });
});
