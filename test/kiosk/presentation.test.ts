import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { KioskCore, type FrameOutcome } from '../../electron/kiosk/kiosk-core.js';
import { KioskService } from '../../electron/kiosk/kiosk-service.js';
import { recordPunch, workedMinutesToday } from '../../electron/kiosk/store/punch-store.js';
import { writeKioskSettings } from '../../electron/kiosk/kiosk-settings.js';
import { randomDescriptor, seededRandom } from '../support/roster-fixtures.js';
import { TestClock } from '../support/test-clock.js';

/**
 * One presentation, one decision: someone who stays at the kiosk after clocking in is never clocked out by it
 * (before, the 60 s debounce ran out while they chatted and the next look was an OUT with the chime), and an OUT
 * minutes after an IN is asked about, not punched. Frames every 250 ms on a clock the test moves.
 */
describe('a person who stays in view', () => {
  const dir = mkdtempSync(join(tmpdir(), 'clockface-presence-'));
  const clock = new TestClock('2026-03-02T08:00:00Z');
  const random = seededRandom(5);
  const amy = Float32Array.from(randomDescriptor(random));
  const raj = Float32Array.from(randomDescriptor(random));
  let core: KioskCore;
  let service: KioskService;

  beforeAll(() => {
    writeKioskSettings(dir, {
      kioskName: 'door-presence',
      site: 'hq',
      roleName: 'clockface_kiosk_presence',
      url: 'postgres://nobody:secret@127.0.0.1:9/none',
      kioskId: 1,
      engine: 'js',
      centralFallback: false,
    });
    core = KioskCore.open(dir, { clock });
    service = new KioskService(core, { follow: false });
    const person = core.db.prepare("INSERT INTO employees (id, employee_no, full_name, site, active) VALUES (?, ?, ?, 'hq', 1)");
    const template = core.db.prepare("INSERT INTO templates (id, employee_id, model_id, embedding) VALUES (?, ?, 'faceapi-resnet128@1', ?)");
    person.run(1, 'AMY-1', 'Amy');
    person.run(2, 'RAJ-1', 'Raj');
    template.run(10, 1, Buffer.from(amy.buffer));
    template.run(20, 2, Buffer.from(raj.buffer));
    core.index.rebuild([
      { templateId: 10, descriptor: amy },
      { templateId: 20, descriptor: raj },
    ]);
  });
  beforeEach(async () => {
    // Each case starts with an empty view, long after the last: nobody is "still there".
    clock.elapse(3_600_000);
    await empty(3);
  });
  afterAll(async () => {
    await service.stop();
    core.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function frame(face: Float32Array | null): Promise<FrameOutcome> {
    clock.elapse(250);
    return core.processDescriptor(face ? Float32Array.from(face) : null, face ? [] : ['NO_FACE']);
  }
  async function empty(n: number): Promise<void> {
    for (let i = 0; i < n; i++) await frame(null);
  }
  /** `seconds` of frames of one face; the kinds seen, in order, without repeats. */
  async function stay(face: Float32Array, seconds: number): Promise<FrameOutcome[]> {
    const outcomes: FrameOutcome[] = [];
    for (let t = 0; t < seconds * 4; t++) {
      const o = await frame(face);
      if (outcomes.at(-1)?.kind !== o.kind) outcomes.push(o);
    }
    return outcomes;
  }
  const punchesOf = (id: number): number => (core.db.prepare('SELECT count(*) AS n FROM punches WHERE employee_id = ?').get(id) as { n: number }).n;

  it('90 s in view after clocking IN makes exactly one punch; nothing after it is a punch', async () => {
    const before = punchesOf(1);
    const seen = await stay(amy, 90);
    // The frames are the template itself: the first decides (single-frame rule).
    expect(seen.map((o) => o.kind)).toEqual(['punched', 'still-here']);
    expect(punchesOf(1)).toBe(before + 1);
    const last = seen.at(-1);
    if (last?.kind === 'still-here') expect(last.direction).toBe('in');
  });

  it('one frame without a face (a missed detection while chatting) is not leaving', async () => {
    await stay(amy, 2);
    await empty(1);
    // Past the 60 s debounce, frames all the while: still the same presentation.
    expect((await stay(amy, 70)).map((o) => o.kind)).toEqual(['still-here']);
  });

  it('leaving and coming back within the debounce says "already"; after the confirm window, a punch', async () => {
    const first = await stay(amy, 2);
    const punched = first.find((o) => o.kind === 'punched');
    await empty(3);
    const again = await stay(amy, 2);
    expect(again.map((o) => o.kind)).toEqual(['already', 'still-here']);
    await empty(3);
    clock.elapse(11 * 60_000);
    const later = await stay(amy, 1);
    expect(later.find((o) => o.kind === 'punched')).toMatchObject({ punch: { direction: punched?.kind === 'punched' && punched.punch.direction === 'in' ? 'out' : 'in' } });
  });

  it('an OUT minutes after an IN is asked about: no punch until yes; no records nothing; a stale answer nothing', async () => {
    // A fresh IN for Raj.
    expect((await stay(raj, 2)).some((o) => o.kind === 'punched' && o.punch.direction === 'in')).toBe(true);
    await empty(3);
    clock.elapse(2 * 60_000);
    const before = punchesOf(2);
    const asked = (await stay(raj, 2)).find((o) => o.kind === 'confirm');
    expect(asked).toMatchObject({ kind: 'confirm', direction: 'out', lastDirection: 'in', employee: { employeeNo: 'RAJ-1' } });
    if (asked?.kind !== 'confirm') throw new Error('no question');
    expect(punchesOf(2)).toBe(before);
    // Through the bridge, as the screen answers: no.
    expect(await service.handle('confirmPunch', { confirmationId: asked.confirmationId, yes: false })).toEqual({ ok: true, value: { kind: 'not-punched' } });
    expect(punchesOf(2)).toBe(before);
    // Asked again after leaving and coming back; yes now punches OUT, once; the same answer again does nothing.
    await empty(3);
    const again = (await stay(raj, 2)).find((o) => o.kind === 'confirm');
    if (again?.kind !== 'confirm') throw new Error('not asked again');
    const yes = await service.handle('confirmPunch', { confirmationId: again.confirmationId, yes: true });
    // The clock-out screen says how long Raj worked today: the IN a little over two minutes ago.
    expect(yes).toMatchObject({ ok: true, value: { kind: 'punched', direction: 'out', employee: { employeeNo: 'RAJ-1' }, workedTodayMinutes: 2 } });
    expect(await service.handle('confirmPunch', { confirmationId: again.confirmationId, yes: true })).toEqual({ ok: true, value: { kind: 'not-punched' } });
    expect(punchesOf(2)).toBe(before + 1);
    // An answer after the question expired records nothing (an IN first: only an OUT is asked about).
    await empty(3);
    clock.elapse(61_000);
    expect((await stay(raj, 2)).some((o) => o.kind === 'punched' && o.punch.direction === 'in')).toBe(true);
    await empty(3);
    clock.elapse(2 * 60_000);
    const third = (await stay(raj, 2)).find((o) => o.kind === 'confirm');
    if (third?.kind !== 'confirm') throw new Error('not asked a third time');
    clock.elapse(21_000);
    expect(core.confirmPunch(third.confirmationId, true)).toBeNull();
    expect(punchesOf(2)).toBe(before + 2);
  });

  it('someone else stepping in is decided on at once; the one who stayed is not', async () => {
    await stay(amy, 2);
    const other = await stay(raj, 2);
    expect(other.some((o) => o.kind === 'punched' || o.kind === 'already' || o.kind === 'confirm')).toBe(true);
  });

  it('a pause in analysis (the PIN pad was open) ends the presentation', async () => {
    await stay(amy, 2);
    clock.elapse(25_000);
    expect((await stay(amy, 2)).map((o) => o.kind)).toContain('already');
  });
});

describe('"Worked today" on the clock-out screen', () => {
  const dir = mkdtempSync(join(tmpdir(), 'clockface-worked-'));
  let core: KioskCore;
  beforeAll(() => {
    writeKioskSettings(dir, {
      kioskName: 'door-worked',
      site: 'hq',
      roleName: 'clockface_kiosk_worked',
      url: 'postgres://nobody:secret@127.0.0.1:9/none',
      kioskId: 1,
      engine: 'js',
      centralFallback: false,
    });
    core = KioskCore.open(dir, { clock: new TestClock('2026-03-02T08:00:00Z') });
    const person = core.db.prepare("INSERT INTO employees (id, employee_no, full_name, site, active) VALUES (?, ?, ?, 'hq', 1)");
    for (const id of [1, 2, 3, 4]) person.run(id, `E-${id}`, `Person ${id}`);
  });
  afterAll(() => {
    core.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const punch = (employeeId: number, direction: 'in' | 'out', iso: string) =>
    recordPunch(core.db, { employeeId, direction, method: 'pin', matchDistance: null, at: new Date(iso) });

  it('sums the pairs that end today in the site zone: a split shift, a night shift, an OUT without its IN', () => {
    // Split shift in Shanghai (UTC+8): 08:00-12:00 and 13:00-17:30 local.
    punch(1, 'in', '2026-03-02T00:00:00Z');
    punch(1, 'out', '2026-03-02T04:00:00Z');
    punch(1, 'in', '2026-03-02T05:00:00Z');
    punch(1, 'out', '2026-03-02T09:30:00Z');
    expect(workedMinutesToday(core.db, 1, new Date('2026-03-02T09:30:05Z'), 'Asia/Shanghai')).toBe(510);
    // Night shift 22:00-06:00 in New York (UTC-5): counted on the morning it ends, whole.
    punch(2, 'in', '2026-03-02T03:00:00Z');
    punch(2, 'out', '2026-03-02T11:00:00Z');
    expect(workedMinutesToday(core.db, 2, new Date('2026-03-02T11:00:05Z'), 'America/New_York')).toBe(480);
    // In UTC the same pair ends on 2 March too; yesterday's pairs are not today's.
    expect(workedMinutesToday(core.db, 2, new Date('2026-03-03T11:00:05Z'), 'UTC')).toBeNull();
    // An OUT whose IN this kiosk never saw: nothing said, rather than a guess.
    punch(3, 'out', '2026-03-02T09:00:00Z');
    expect(workedMinutesToday(core.db, 3, new Date('2026-03-02T09:00:05Z'), 'UTC')).toBeNull();
  });

  it("takes central's last punch as the IN made at another door", () => {
    core.db
      .prepare('INSERT INTO central_last_punches (employee_id, direction, punched_at) VALUES (?, ?, ?)')
      .run(4, 'in', '2026-03-02T08:00:00.000Z');
    punch(4, 'out', '2026-03-02T16:15:00Z');
    expect(workedMinutesToday(core.db, 4, new Date('2026-03-02T16:15:01Z'), 'Europe/London')).toBe(495);
    // A zone this runtime does not know falls back to the system's, not to an error.
    expect(workedMinutesToday(core.db, 4, new Date('2026-03-02T16:15:01Z'), 'Mars/Olympus_Mons')).toBe(495);
  });
});
