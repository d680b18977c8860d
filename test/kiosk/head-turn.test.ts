import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KioskCore } from '../../electron/kiosk/kiosk-core.js';
import { KioskService } from '../../electron/kiosk/kiosk-service.js';
import { writeKioskSettings } from '../../electron/kiosk/kiosk-settings.js';
import { FACE_MODEL_ID } from '../../shared/face-model.js';
import { randomDescriptor, seededRandom } from '../support/roster-fixtures.js';
import { TestClock } from '../support/test-clock.js';

/**
 * The optional head-turn check through the bridge: recognition alone does not punch; the asked turn (by yaw) does,
 * with liveness recorded as passed; no turn in time, or someone else stepping in, makes no punch.
 */
describe('head-turn check (liveness: turn-head)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'clockface-turn-'));
  const clock = new TestClock('2026-03-02T08:00:00Z');
  let core: KioskCore;
  let service: KioskService;
  const random = seededRandom(8);
  const faces = { amy: randomDescriptor(random), raj: randomDescriptor(random), stranger: randomDescriptor(random) };

  beforeAll(() => {
    writeKioskSettings(dir, {
      kioskName: 'door-turn',
      site: 'hq',
      roleName: 'clockface_kiosk_turn',
      url: 'postgres://nobody:secret@127.0.0.1:9/none',
      kioskId: 1,
      engine: 'js',
      centralFallback: false,
      liveness: 'turn-head',
      // The cases below step through the N-of-M rule frame by frame (pending, then the challenge).
      policy: { singleFrame: null },
    });
    // random() < 0.5 asks for the left: always left here.
    core = KioskCore.open(dir, { clock, random: () => 0.2 });
    service = new KioskService(core, { follow: false });
    const insert = core.db.prepare("INSERT INTO employees (id, employee_no, full_name, site, active) VALUES (?, ?, ?, 'hq', 1)");
    const template = core.db.prepare("INSERT INTO templates (id, employee_id, model_id, embedding) VALUES (?, ?, 'faceapi-resnet128@1', ?)");
    insert.run(1, 'AMY-1', 'Amy');
    insert.run(2, 'RAJ-1', 'Raj');
    template.run(11, 1, Buffer.from(Float32Array.from(faces.amy).buffer));
    template.run(21, 2, Buffer.from(Float32Array.from(faces.raj).buffer));
    core.index.rebuild([
      { templateId: 11, descriptor: Float32Array.from(faces.amy) },
      { templateId: 21, descriptor: Float32Array.from(faces.raj) },
    ]);
  });
  afterAll(async () => {
    await service.stop();
    core.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const frame = (who: keyof typeof faces | null, yaw: number | null) =>
    service.handle('submitFrame', {
      modelId: FACE_MODEL_ID,
      descriptor: who ? faces[who].map((v, i) => v + (i % 2 ? 0.001 : -0.001)) : null,
      issues: who ? [] : ['NO_FACE'],
      yaw,
    });
  const punches = () => core.db.prepare('SELECT employee_id, liveness FROM punches ORDER BY punched_at').all();

  it('recognition asks for a turn; the wrong side waits; the asked side punches with liveness passed', async () => {
    expect(await frame('amy', 0)).toMatchObject({ ok: true, value: { kind: 'pending' } });
    expect(await frame('amy', 0)).toMatchObject({ ok: true, value: { kind: 'turn-head', direction: 'left', employee: { employeeNo: 'AMY-1' } } });
    expect(punches()).toEqual([]);
    expect(await frame('amy', -20)).toMatchObject({ ok: true, value: { kind: 'turn-head', direction: 'left' } });
    expect(await frame(null, null)).toMatchObject({ ok: true, value: { kind: 'turn-head' } });
    expect(await frame('amy', 18)).toMatchObject({ ok: true, value: { kind: 'punched', direction: 'in', employee: { employeeNo: 'AMY-1' } } });
    expect(punches()).toEqual([{ employee_id: 1, liveness: 'passed' }]);
  });

  it('no turn within the time limit, or someone else in front of the camera: no punch', async () => {
    clock.elapse(3_600_000);
    await frame('raj', 0);
    expect(await frame('raj', 0)).toMatchObject({ ok: true, value: { kind: 'turn-head' } });
    clock.elapse(9_000);
    expect(await frame('raj', 25)).toMatchObject({ ok: true, value: { kind: 'turn-failed' } });
    await frame('raj', 0);
    expect(await frame('raj', 0)).toMatchObject({ ok: true, value: { kind: 'turn-head' } });
    expect(await frame('amy', 25)).toMatchObject({ ok: true, value: { kind: 'turn-failed' } });
    expect(punches()).toEqual([{ employee_id: 1, liveness: 'passed' }]);
  });

  it("a colleague's photo held up, then the holder's own (unenrolled) head turned: no punch", async () => {
    clock.elapse(3_600_000);
    const before = punches().length;
    await frame('raj', 0);
    expect(await frame('raj', 0)).toMatchObject({ ok: true, value: { kind: 'turn-head', direction: 'left', employee: { employeeNo: 'RAJ-1' } } });
    // Nobody the kiosk knows (so not "someone else"), turned the asked way: still waiting, never a pass.
    expect(await frame('stranger', 20)).toMatchObject({ ok: true, value: { kind: 'turn-head' } });
    expect(await frame('stranger', 25)).toMatchObject({ ok: true, value: { kind: 'turn-head' } });
    clock.elapse(9_000);
    expect(await frame('stranger', 25)).toMatchObject({ ok: true, value: { kind: 'turn-failed' } });
    expect(punches()).toHaveLength(before);
  });
});
