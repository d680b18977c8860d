import { performance } from 'node:perf_hooks';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RegisteredKiosk } from '../../electron/central/kiosk-registry.js';
import { KioskCore, type FrameOutcome } from '../../electron/kiosk/kiosk-core.js';
import { KioskService } from '../../electron/kiosk/kiosk-service.js';
import { centralFactories, startMigrated, type TestCentral } from '../support/centrals.js';
import { recordTally } from '../support/fault-tally.js';
import { addEmployee, addSite, addTemplate, randomDescriptor, seededRandom } from '../support/roster-fixtures.js';
import { openKioskBehindProxy } from '../support/fault-kiosk.js';
import type { TcpProxy } from '../support/tcp-proxy.js';
import { TestClock, offsetClock, mondayWeeksAgo } from '../support/test-clock.js';

/**
 * The kiosk's wall clock jumps (NTP correcting a drifted clock, a flat RTC battery after a power cut, someone
 * setting the time by hand) between punches. What a payroll-grade kiosk must do, and what these tests hold it to:
 *
 * - never lose a punch because its time looks older than the last one, and never make two out of one look: the
 *   debounce ("already clocked in") and the IN/OUT alternation follow real elapsed time (a monotonic clock) for
 *   punches made by the running kiosk, whatever the wall clock did in between;
 * - keep the wall-clock time on each punch as recorded (it is what the kiosk showed the person; central has its
 *   own received_at beside it), upload every punch exactly once;
 * - not hold uploads for a week because a back-off was scheduled while the clock ran a week ahead;
 * - show the clock's offset from central (heartbeat), so that someone can see and fix it.
 *
 * The tests drive KioskCore with a TestClock (test/support/test-clock.ts): `clock.elapse(ms)` is real time passing
 * (wall and monotonic clock move), `clock.jump(ms)` is the wall clock alone being set. Nothing here measures time.
 */

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;

describe.each(centralFactories())('kiosk clock jumps against $label', (factory) => {
  const random = seededRandom(4711);
  const root = mkdtempSync(join(tmpdir(), `clockface-clock-${factory.kind}-`));
  let central: TestCentral;
  let admin: pg.Client;
  let kiosk: RegisteredKiosk;
  let proxy: TcpProxy;
  let dir: string;
  const faces = new Map<number, number[]>();
  const people: number[] = [];
  /** `clock.elapse(ms)`: real time passing (wall and monotonic clock move); `clock.jump(ms)`: the wall clock is set. */
  const clock = new TestClock(mondayWeeksAgo(4, '07:00'));
  const options = {
    clock,
    engine: 'sqlite-vec' as const,
    centralTimeouts: { connectMs: 1_500, queryMs: 5_000 },
  };
  /** Every punch the kiosk confirmed. */
  const confirmed: Array<{ id: string; employeeId: number; direction: 'in' | 'out'; at: string }> = [];
  let core: KioskCore;

  /** The scenario's premise, checked on the test's own clock (a set-up check, not a timing): the kiosk reads before `at`. */
  function expectKioskClockBefore(at: Date | string | number): void {
    const reads = clock.now().toISOString();
    expect(reads < new Date(at).toISOString(), `the kiosk clock reads ${reads}, not before ${new Date(at).toISOString()}`).toBe(true);
  }

  beforeAll(async () => {
    central = await startMigrated(factory);
    admin = await central.connect();
    await addSite(admin, 'hq');
    for (let i = 0; i < 6; i++) {
      const id = await addEmployee(admin, `C${i}`, 'hq');
      const d = randomDescriptor(random);
      await addTemplate(admin, id, d);
      faces.set(id, d);
      people.push(id);
    }
    dir = join(root, 'kiosk');
    ({ kiosk, proxy, core } = await openKioskBehindProxy(admin, central.url, dir, { name: `clock-${factory.kind}`, site: 'hq', engine: 'sqlite-vec', core: options }));
  }, 120_000);

  afterAll(async () => {
    core?.close();
    await proxy?.close();
    await admin?.end();
    await central?.close();
    rmSync(root, { recursive: true, force: true });
  });

  /**
   * One look at the camera: the person walks up (an empty view first), then a clear frame (which decides alone), and
   * a second a second later if it did not.
   */
  async function look(employeeId: number, k: KioskCore = core): Promise<FrameOutcome> {
    k.resetFrames();
    for (let i = 0; i < 3; i++) await k.processDescriptor(null, ['NO_FACE']);
    const values = Float32Array.from(faces.get(employeeId) ?? [], (v) => v + (random() - 0.5) * 0.004);
    let outcome = await k.processDescriptor(values, []);
    if (outcome.kind === 'pending') {
      clock.elapse(1_000);
      outcome = await k.processDescriptor(Float32Array.from(values), []);
    }
    if (outcome.kind === 'punched') {
      confirmed.push({ id: outcome.punch.id, employeeId, direction: outcome.punch.direction, at: outcome.punch.at.toISOString() });
    }
    return outcome;
  }

  const punched = (o: FrameOutcome): 'in' | 'out' | 'already' | string =>
    o.kind === 'punched' ? o.punch.direction : o.kind === 'already' ? 'already' : o.kind;

  /** Central's copy of the punches confirmed so far: each exactly once, with the kiosk's recorded time. */
  async function expectCentralHoldsConfirmed(): Promise<{ expected: number; lost: number; duplicated: number }> {
    const { rows } = await admin.query<{ id: string; employee_id: number; direction: string; punched_at: Date }>(
      'SELECT id::text, employee_id::int AS employee_id, direction, punched_at FROM punches WHERE kiosk_id = $1',
      [kiosk.id],
    );
    const want = confirmed.map((p) => `${p.id} ${p.employeeId} ${p.direction} ${p.at}`).sort();
    const got = rows.map((r) => `${r.id} ${r.employee_id} ${r.direction} ${r.punched_at.toISOString()}`).sort();
    expect(got).toEqual(want);
    const ids = new Set(rows.map((r) => r.id));
    return { expected: confirmed.length, lost: confirmed.filter((p) => !ids.has(p.id)).length, duplicated: rows.length - ids.size };
  }

  async function uploadAll(): Promise<void> {
    await core.upload();
    expect(core.uploader.getStatus()).toMatchObject({ connected: true, pending: 0 });
  }

  for (const back of [
    { label: '1 h', ms: HOUR, person: 0 },
    { label: '1 day', ms: DAY, person: 1 },
  ]) {
    it(`clock set back ${back.label} between punches: a second look stays "already", the next punch alternates, none is dropped`, async () => {
      const id = people[back.person] ?? 0;
      const before = confirmed.length;
      clock.elapse(10 * 60_000);
      expect(punched(await look(id))).toBe('in');
      const inAt = clock.now();

      // 10 s later (real time) the clock is set back: the same person looks again. It is the same visit.
      clock.elapse(10_000);
      clock.jump(-back.ms);
      const again = await look(id);
      expect(again.kind).toBe('already');
      if (again.kind === 'already') expect(again.at.toISOString()).toBe(inAt.toISOString());

      // Later (real time), with the wall clock still reading earlier than the IN: the clock-out, recorded.
      clock.elapse(Math.min(4 * HOUR, (back.ms * 2) / 3));
      expectKioskClockBefore(inAt);
      expect(punched(await look(id))).toBe('out');
      // The next day's arrival (real time), the clock still wrong: IN again, not a second OUT.
      clock.elapse(16 * HOUR);
      expect(punched(await look(id))).toBe('in');
      // A double look at it: "already".
      clock.elapse(20_000);
      expect((await look(id)).kind).toBe('already');

      // After a restart the monotonic record is gone: a punch whose time looks older than the last is still
      // recorded (never dropped as "already"), and the direction alternates from the last one recorded.
      core.close();
      core = KioskCore.open(dir, options);
      clock.elapse(30 * 60_000);
      clock.jump(-back.ms);
      expectKioskClockBefore(confirmed.at(-1)?.at ?? 0);
      expect(punched(await look(id))).toBe('out');
      clock.elapse(15_000);
      expect((await look(id)).kind).toBe('already');

      const mine = confirmed.slice(before);
      expect(mine.map((p) => p.direction)).toEqual(['in', 'out', 'in', 'out']);
      await uploadAll();
      const punches = await expectCentralHoldsConfirmed();
      clock.jump(2 * back.ms); // the clock is corrected
      recordTally({
        area: 'fault',
        kind: `clock jump back ${back.label}`,
        count: 2,
        punches: { expected: mine.length, lost: punches.lost, duplicated: punches.duplicated },
        outcome: 'double looks stayed "already" (monotonic debounce); IN/OUT alternated; older-looking punches recorded and uploaded once',
      });
    });
  }

  for (const fwd of [
    { label: '1 h', ms: HOUR, person: 2 },
    { label: '1 week', ms: WEEK, person: 3 },
  ]) {
    it(`clock set forward ${fwd.label} and back: a second look stays "already", the clock-out is OUT, and uploads do not wait for the clock`, async () => {
      const id = people[fwd.person] ?? 0;
      const other = people[fwd.person + 2] ?? 0;
      const before = confirmed.length;
      clock.elapse(10 * 60_000);
      expect(punched(await look(id))).toBe('in');
      clock.elapse(10_000);
      clock.jump(fwd.ms);
      // 10 real seconds later: the same visit, however far the clock moved. (By the wall clock alone a week-old IN
      // is a forgotten clock-out, and this would have been a second IN.)
      expect((await look(id)).kind).toBe('already');

      // Central is unreachable while the clock is ahead: the failed upload schedules its retry on that clock.
      proxy.cut({ refuse: true });
      clock.elapse(4 * HOUR);
      expect(punched(await look(id))).toBe('out');
      expect(punched(await look(other))).toBe('in');
      expect(await core.upload()).toBe(0);
      const pending = core.uploader.getStatus().pending;
      expect(pending).toBeGreaterThanOrEqual(3);

      // The clock is corrected and central is back: the very next upload sends everything, no waiting a week.
      clock.jump(-fwd.ms);
      proxy.heal();
      clock.elapse(10 * 60_000);
      expect(await core.upload()).toBe(pending);
      expect(core.uploader.getStatus().pending).toBe(0);

      // Back on the right clock, the next punches alternate as usual.
      clock.elapse(HOUR);
      expect(punched(await look(other))).toBe('out');
      await uploadAll();
      const mine = confirmed.slice(before);
      expect(mine.map((p) => `${p.employeeId === id ? 'A' : 'B'} ${p.direction}`)).toEqual(['A in', 'A out', 'B in', 'B out']);
      const punches = await expectCentralHoldsConfirmed();
      recordTally({
        area: 'fault',
        kind: `clock jump forward ${fwd.label} (and back)`,
        count: 2,
        punches: { expected: mine.length, lost: punches.lost, duplicated: punches.duplicated },
        outcome: 'double look stayed "already"; clock-out was OUT; retries scheduled on the fast clock were sent at once after correction',
      });
    });
  }

  it("the kiosk clock's offset from central is measured at each heartbeat and shown on the status screen", async () => {
    const figures: string[] = [];
    for (const offset of [0, -HOUR, 90 * 60_000, -DAY]) {
      // The real clock here, with the kiosk's error: the heartbeat compares it with central's clock.
      const k = KioskCore.open(dir, { engine: 'sqlite-vec', clock: offsetClock(offset) });
      try {
        const service = new KioskService(k, { follow: false });
        expect(service.status().clockOffsetMs).toBeNull(); // unknown until a heartbeat reached central
        const started = performance.now();
        await k.upload();
        const uploadMs = performance.now() - started;
        const shown = service.status().clockOffsetMs;
        expect(shown).not.toBeNull();
        // Central runs on this machine's clock: what the kiosk shows is its own error, to within half the heartbeat's
        // round trip (a part of this upload), plus rounding. The bound comes from this run, not from a time limit.
        expect(Math.abs((shown ?? Number.NaN) - offset) <= uploadMs / 2 + 1, `shown ${shown} ms for ${offset} ms (upload ${uploadMs} ms)`).toBe(true);
        // Central keeps what the kiosk measured, for `clockface kiosk list`.
        const onCentral = await admin.query<{ ms: number | null }>('SELECT clock_offset_ms::float8 AS ms FROM kiosks WHERE id = $1', [kiosk.id]);
        expect(onCentral.rows[0]?.ms).toBe(shown);
        figures.push(`${offset / 60_000} min → ${shown} ms`);
      } finally {
        k.close();
      }
    }
    console.log(`[clock-jumps] ${factory.label}: offsets set → shown: ${figures.join(', ')}`);
    const punches = await expectCentralHoldsConfirmed();
    expect(punches).toMatchObject({ lost: 0, duplicated: 0 });
    recordTally({
      area: 'fault',
      kind: 'kiosk clock offset (heartbeat)',
      count: 4,
      outcome: 'offsets of 0, -1 h, +1.5 h, -1 day shown on the kiosk status within a round trip',
    });
  });
});
