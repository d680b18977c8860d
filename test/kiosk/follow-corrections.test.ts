import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerKiosk } from '../../electron/central/kiosk-registry.js';
import { KioskCore } from '../../electron/kiosk/kiosk-core.js';
import { writeKioskSettings } from '../../electron/kiosk/kiosk-settings.js';
import { centralFactories, startMigrated, type TestCentral } from '../support/centrals.js';
import { addEmployee, addSite, addTemplate, randomDescriptor, seededRandom } from '../support/roster-fixtures.js';
import { TestClock } from '../support/test-clock.js';

const HOUR = 3_600_000;

/**
 * Kiosks follow corrections (issue 17, central 0110): a supervisor's fix on central changes what the kiosk's automatic
 * IN/OUT does next, once the kiosk has synced. Both cases would go the wrong way without it: the kiosk's own last
 * punch (an IN this morning, or an accidental OUT) would decide.
 */
describe.each(centralFactories())('a kiosk follows corrections made on $label', (factory) => {
  let central: TestCentral;
  let admin: pg.Client;
  const dirs: string[] = [];
  let kiosk: Awaited<ReturnType<typeof registerKiosk>>;

  beforeAll(async () => {
    central = await startMigrated(factory);
    admin = await central.connect();
    await addSite(admin, 'hq');
    kiosk = await registerKiosk(admin, central.url, { name: 'door-fix', site: 'hq' });
  });
  afterAll(async () => {
    await admin.end();
    await central.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  /** A person enrolled on central, and a kiosk (its own folder and clock) that knows them, its clock `hoursAgo` back. */
  async function setUp(employeeNo: string, seed: number, hoursAgo: number) {
    const face = Float32Array.from(randomDescriptor(seededRandom(seed)));
    await addTemplate(admin, await addEmployee(admin, employeeNo, 'hq', `Person ${employeeNo}`), [...face]);
    const dir = mkdtempSync(join(tmpdir(), 'clockface-follow-'));
    dirs.push(dir);
    writeKioskSettings(dir, { ...kiosk.settings, kioskId: kiosk.id, engine: 'sqlite-vec' });
    const clock = new TestClock(new Date(Date.now() - hoursAgo * HOUR));
    const core = KioskCore.open(dir, { clock });
    await core.syncRoster(10_000);
    /** One presentation: nobody in view first (a new person at the kiosk), then the face. */
    const look = async () => {
      for (let i = 0; i < 3; i++) await core.processDescriptor(null, []);
      return core.processDescriptor(face, []);
    };
    return { core, clock, look };
  }

  it('IN this morning, then out without clocking OUT: the supervisor adds the OUT, and back at the door it is an IN', async () => {
    const { core, clock, look } = await setUp('FIX-1', 61, 5);
    expect(await look()).toMatchObject({ kind: 'punched', punch: { direction: 'in' } });
    await core.upload();
    clock.elapse(3 * HOUR); // left at noon without clocking out
    await admin.query("SELECT * FROM correction_add('FIX-1', 'out', $1, 'left for the dentist, forgot to clock out')", [clock.now()]);
    clock.elapse(2 * HOUR); // back two hours later
    await core.syncRoster(5_000);
    expect(await look()).toMatchObject({ kind: 'punched', punch: { direction: 'in' } });
    core.close();
  });

  it('an accidental OUT a minute after the IN, voided by the supervisor: at the end of the day it is an OUT', async () => {
    const { core, clock, look } = await setUp('FIX-2', 62, 9);
    expect(await look()).toMatchObject({ kind: 'punched', punch: { direction: 'in' } });
    clock.elapse(60_000);
    const mistake = await look();
    // An OUT this soon is asked about; the person (wrongly) says yes.
    expect(mistake.kind).toBe('confirm');
    const confirmed = mistake.kind === 'confirm' ? core.confirmPunch(mistake.confirmationId, true) : null;
    expect(confirmed?.punch.direction).toBe('out');
    await core.upload();
    await admin.query("SELECT * FROM correction_void($1, 'pressed yes by mistake')", [confirmed?.punch.id]);
    clock.elapse(8 * HOUR);
    await core.syncRoster(5_000);
    expect(await look()).toMatchObject({ kind: 'punched', punch: { direction: 'out' } });
    core.close();
  });
});
