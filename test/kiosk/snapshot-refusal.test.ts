import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerKiosk } from '../../electron/central/kiosk-registry.js';
import { KioskCore } from '../../electron/kiosk/kiosk-core.js';
import { KioskService } from '../../electron/kiosk/kiosk-service.js';
import { writeKioskSettings } from '../../electron/kiosk/kiosk-settings.js';
import { eraseEmployee } from '../../electron/roster/employee-admin.js';
import { centralFactories, startMigrated, type TestCentral } from '../support/centrals.js';
import { addEmployee, addSite, addTemplate, randomDescriptor, seededRandom } from '../support/roster-fixtures.js';

/**
 * Punch uploads and snapshot uploads share one queue shape (electron/kiosk/upload-queue.ts), and the upload status
 * keeps `connected` apart from what failed. A snapshot central refuses (here: its person was erased after the punch
 * reached central) is that snapshot's problem: it is deleted on the kiosk, the next snapshot still goes, and the kiosk
 * stays connected with no upload error, so the screen shows no offline badge.
 */
describe.each(centralFactories())('a refused audit snapshot on $label', (factory) => {
  let central: TestCentral;
  let admin: pg.Client;
  const dir = mkdtempSync(join(tmpdir(), 'clockface-snap-refused-'));
  let core: KioskCore;
  let service: KioskService;
  const erased = Float32Array.from(randomDescriptor(seededRandom(41)));
  const kept = Float32Array.from(randomDescriptor(seededRandom(42)));
  let jpeg: Buffer;

  beforeAll(async () => {
    central = await startMigrated(factory);
    admin = await central.connect();
    await addSite(admin, 'hq');
    await addTemplate(admin, await addEmployee(admin, 'SNAP-GONE', 'hq', 'Soon Erased'), [...erased]);
    await addTemplate(admin, await addEmployee(admin, 'SNAP-KEPT', 'hq', 'Still Here'), [...kept]);
    const kiosk = await registerKiosk(admin, central.url, { name: 'door-snap-refused', site: 'hq' });
    writeKioskSettings(dir, { ...kiosk.settings, kioskId: kiosk.id, engine: 'sqlite-vec', auditSnapshots: true });
    core = KioskCore.open(dir);
    await core.syncRoster(10_000);
    service = new KioskService(core, { follow: false });
    jpeg = await sharp({ create: { width: 160, height: 120, channels: 3, background: '#606060' } }).jpeg({ quality: 70 }).toBuffer();
  });
  afterAll(async () => {
    await service.stop();
    core.close();
    await admin.end();
    await central.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const punchOf = async (face: Float32Array): Promise<string> => {
    core.resetFrames();
    const outcome = await core.processDescriptor(face, []);
    if (outcome.kind !== 'punched') throw new Error(`expected a punch, got ${outcome.kind}`);
    return outcome.punch.id;
  };

  it('is deleted here, does not stop the next snapshot, and leaves the kiosk connected with no upload error', async () => {
    const gonePunch = await punchOf(erased);
    await core.upload(); // the punch reaches central before its person is erased
    expect(core.attachSnapshot(gonePunch, jpeg)).toBe('stored');
    await eraseEmployee(admin, 'SNAP-GONE'); // on central; the kiosk has not synced since
    // Nobody in view between the two people: a new presentation.
    for (let i = 0; i < 3; i++) await core.processDescriptor(null, []);
    const keptPunch = await punchOf(kept);
    expect(core.attachSnapshot(keptPunch, jpeg)).toBe('stored');

    await core.upload();

    const onCentral = await admin.query<{ punch_id: string }>('SELECT punch_id::text FROM punch_snapshots');
    expect(onCentral.rows.map((r) => r.punch_id)).toEqual([keptPunch]);
    expect(core.uploader.getStatus()).toMatchObject({ connected: true, pending: 0, snapshotsPending: 0, uploadError: null });
    const screen = service.status();
    expect(screen.online).toBe(true);
    expect(screen.lastError).toBeNull();
  });
});
