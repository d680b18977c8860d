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
import { FACE_MODEL_ID } from '../../shared/face-model.js';
import { centralFactories, startMigrated, type TestCentral } from '../support/centrals.js';
import { addEmployee, addSite, addTemplate, randomDescriptor, seededRandom } from '../support/roster-fixtures.js';
import { runCli } from '../support/run-cli.js';

/**
 * Audit snapshots: stored only when the kiosk is set to take them, only for a face punch just made, only a JPEG;
 * sent to central after the punch and then deleted on the kiosk; purged on central after the retention period,
 * and at once by erasure.
 */
describe.each(centralFactories())('audit snapshots on $label', (factory) => {
  let central: TestCentral;
  let admin: pg.Client;
  const dir = mkdtempSync(join(tmpdir(), 'clockface-snap-'));
  let core: KioskCore;
  let service: KioskService;
  const face = randomDescriptor(seededRandom(31));
  let jpeg: Buffer;

  beforeAll(async () => {
    central = await startMigrated(factory);
    admin = await central.connect();
    await addSite(admin, 'hq');
    const id = await addEmployee(admin, 'SNAP-1', 'hq', 'Snap Shot');
    await addTemplate(admin, id, face);
    const kiosk = await registerKiosk(admin, central.url, { name: 'door-snap', site: 'hq' });
    writeKioskSettings(dir, { ...kiosk.settings, kioskId: kiosk.id, engine: 'sqlite-vec', auditSnapshots: true });
    core = KioskCore.open(dir);
    await core.syncRoster(10_000);
    service = new KioskService(core, { follow: false });
    jpeg = await sharp({ create: { width: 160, height: 120, channels: 3, background: '#808080' } }).jpeg({ quality: 70 }).toBuffer();
  });
  afterAll(async () => {
    await service.stop();
    core.close();
    await admin.end();
    await central.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const look = () =>
    service.handle('submitFrame', { modelId: FACE_MODEL_ID, descriptor: face, issues: [], yaw: 0 });

  it('a face punch gets its snapshot, which reaches central and leaves the kiosk; bad ones are refused', async () => {
    // The frame is the template itself: one frame decides (the single-frame rule); a second would be "still here".
    const punched = await look();
    expect(punched).toMatchObject({ ok: true, value: { kind: 'punched' } });
    const punchId = punched.ok ? (punched.value as { punchId: string }).punchId : '';
    expect(await service.handle('attachSnapshot', { punchId, jpegBase64: Buffer.from('not a jpeg at all').toString('base64') })).toMatchObject({
      ok: false,
      error: { code: 'BRIDGE_INVALID' },
    });
    expect(await service.handle('attachSnapshot', { punchId: '00000000-0000-4000-8000-000000000000', jpegBase64: jpeg.toString('base64') })).toMatchObject({ ok: false });
    expect(await service.handle('attachSnapshot', { punchId, jpegBase64: jpeg.toString('base64') })).toEqual({ ok: true, value: null });
    expect(await service.handle('attachSnapshot', { punchId, jpegBase64: jpeg.toString('base64') })).toMatchObject({ ok: false });
    await service.stop(); // waits for the background upload the snapshot started
    await core.upload();
    const { rows } = await admin.query<{ jpeg: Buffer }>('SELECT jpeg FROM punch_snapshots WHERE punch_id = $1', [punchId]);
    expect(rows[0]?.jpeg.equals(jpeg)).toBe(true);
    expect(core.db.prepare('SELECT count(*) AS n FROM punch_snapshots').get()).toEqual({ n: 0 });
  });

  it('`snapshots purge` keeps the retention period; erasure removes them at once; a kiosk not set for snapshots refuses them', async () => {
    await admin.query("UPDATE punch_snapshots SET created_at = now() - interval '40 days'");
    const kept = await runCli(['snapshots', 'purge', '--keep-days', '60', '--json'], { CLOCKFACE_DATABASE_URL: central.url });
    expect(JSON.parse(kept.stdout)).toEqual({ deleted: 0, remaining: 1, keepDays: 60 });
    const purged = await runCli(['snapshots', 'purge', '--json'], { CLOCKFACE_DATABASE_URL: central.url });
    expect(JSON.parse(purged.stdout)).toEqual({ deleted: 1, remaining: 0, keepDays: 30 });

    await admin.query(
      `INSERT INTO punch_snapshots (punch_id, jpeg) SELECT id, $1 FROM punches LIMIT 1`,
      [jpeg],
    );
    expect((await eraseEmployee(admin, 'SNAP-1')).snapshotsDeleted).toBe(1);

    core.settings.auditSnapshots = false;
    expect(await service.handle('attachSnapshot', { punchId: '00000000-0000-4000-8000-000000000000', jpegBase64: jpeg.toString('base64') })).toMatchObject({
      ok: false,
      error: { message: 'this kiosk does not keep audit snapshots' },
    });
  });
});
