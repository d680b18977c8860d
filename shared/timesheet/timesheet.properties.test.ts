/**
 * Properties of the whole engine over random punches, corrections, rules and schedules (fast-check). Each
 * generated case is a few people over three weeks around a DST change in one of three zones.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { roundWorkedMinutes } from './day-totals.js';
import { comparePunches } from './pair-punches.js';
import { DEFAULT_RULES, ROUNDING_STEPS, type TimesheetRules } from './rules.js';
import type { WeekSchedule } from './schedule.js';
import { buildTimesheets, type TimesheetRequest, type Timesheets } from './timesheet.js';
import type { CorrectionStatus, PunchCorrection, RawPunch } from './types.js';
import { addDays, localDateAt, startOfLocalDay, startOfWeek, zonedInstant } from './zoned-time.js';

const MINUTE = 60_000;
const PERIOD_DAYS = 21;
const PEOPLE = [1, 2, 3];

/** Three-week periods, each holding a DST change of its zone (2026). */
const SETTINGS = [
  { timeZone: 'Europe/Berlin', from: '2026-03-16' }, // spring: 29 March
  { timeZone: 'Europe/Berlin', from: '2026-10-12' }, // autumn: 25 October
  { timeZone: 'America/New_York', from: '2026-02-23' }, // spring: 8 March
  { timeZone: 'America/New_York', from: '2026-10-19' }, // autumn: 1 November
  { timeZone: 'Australia/Sydney', from: '2026-03-23' }, // autumn: 5 April
  { timeZone: 'Australia/Sydney', from: '2026-09-21' }, // spring: 4 October
];

const rulesArb: fc.Arbitrary<TimesheetRules> = fc.record({
  graceLateMinutes: fc.integer({ min: 0, max: 15 }),
  graceLeftEarlyMinutes: fc.integer({ min: 0, max: 15 }),
  rounding: fc.record({ toMinutes: fc.constantFrom(...ROUNDING_STEPS), mode: fc.constant('nearest' as const) }),
  autoBreak: fc.option(fc.record({ afterWorkedMinutes: fc.integer({ min: 0, max: 480 }), breakMinutes: fc.integer({ min: 1, max: 60 }) })),
  dailyOvertimeAfterMinutes: fc.option(fc.integer({ min: 1, max: 720 })),
  weeklyOvertimeAfterMinutes: fc.option(fc.integer({ min: 1, max: 3000 })),
  weekStartsOn: fc.constantFrom(0, 1, 2, 3, 4, 5, 6),
  maxShiftMinutes: fc.constantFrom(480, 720, 960, 960, 1440),
  lowMarginDistance: fc.option(fc.double({ min: 0.2, max: 0.6, noNaN: true })),
});

const wallTimeArb = fc.integer({ min: 0, max: 1439 }).map((m) => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`);
const scheduleArb: fc.Arbitrary<WeekSchedule | null> = fc.option(
  fc.record(
    {
      sunday: fc.record({ start: wallTimeArb, end: wallTimeArb }),
      monday: fc.record({ start: wallTimeArb, end: wallTimeArb }),
      tuesday: fc.record({ start: wallTimeArb, end: wallTimeArb }),
      wednesday: fc.record({ start: wallTimeArb, end: wallTimeArb }),
      thursday: fc.record({ start: wallTimeArb, end: wallTimeArb }),
      friday: fc.record({ start: wallTimeArb, end: wallTimeArb }),
      saturday: fc.record({ start: wallTimeArb, end: wallTimeArb }),
    },
    { requiredKeys: [] },
  ),
);

/** A minute within the first 19 days of the period (so every shift, and its day, is inside the period). */
const minuteArb = fc.oneof(
  fc.integer({ min: 0, max: 19 * 1440 - 1 }),
  // Round hours, and a few busy instants, so that punches of one person often meet at one instant.
  fc.integer({ min: 0, max: 19 * 24 - 1 }).map((h) => h * 60),
  fc.integer({ min: 0, max: 19 * 2 - 1 }).map((halfDay) => halfDay * 720),
);

const punchArb = fc.record({
  employeeId: fc.constantFrom(...PEOPLE),
  direction: fc.constantFrom('in' as const, 'out' as const),
  minute: minuteArb,
  second: fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 59 })),
  method: fc.constantFrom('face' as const, 'face' as const, 'pin' as const),
  matchDistance: fc.double({ min: 0.1, max: 0.6, noNaN: true }),
});

/** A correction as an instruction; `target` picks among the punches known when it applies (raw, then added). */
const correctionArb = fc.record({
  kind: fc.constantFrom('add' as const, 'move' as const, 'void' as const),
  status: fc.constantFrom<CorrectionStatus>('approved', 'approved', 'pending', 'rejected'),
  target: fc.nat(),
  employeeId: fc.constantFrom(...PEOPLE),
  direction: fc.constantFrom('in' as const, 'out' as const),
  minute: minuteArb,
});
type CorrectionPlan = typeof correctionArb extends fc.Arbitrary<infer T> ? T : never;

const caseArb = fc.record({
  setting: fc.constantFrom(...SETTINGS),
  rules: rulesArb,
  schedules: fc.tuple(scheduleArb, scheduleArb, scheduleArb),
  punches: fc.array(punchArb, { maxLength: 45 }),
  corrections: fc.array(correctionArb, { maxLength: 8 }),
  nowDay: fc.integer({ min: -1, max: PERIOD_DAYS + 1 }),
});
type Case = typeof caseArb extends fc.Arbitrary<infer T> ? T : never;

/** A generated case as the engine's input: raw punches, then corrections naming them. */
function requestOf(c: Case): TimesheetRequest {
  const { timeZone, from } = c.setting;
  const origin = startOfLocalDay(from, timeZone);
  const punches: RawPunch[] = c.punches.map((p, index) => ({
    id: `r${String(index).padStart(3, '0')}`,
    employeeId: p.employeeId,
    direction: p.direction,
    at: new Date(origin + p.minute * MINUTE + p.second * 1000),
    method: p.method,
    matchDistance: p.method === 'face' ? p.matchDistance : null,
    kioskId: p.method === 'face' ? 1 : 2,
  }));
  return {
    timeZone,
    period: { from, to: addDays(from, PERIOD_DAYS - 1) },
    now: new Date(startOfLocalDay(addDays(from, c.nowDay), timeZone)),
    rules: c.rules,
    punches,
    corrections: correctionsOf(c.corrections, punches, origin, 'c'),
    employees: PEOPLE.map((employeeId, index) => ({ employeeId, schedule: c.schedules[index] ?? null })),
  };
}

function correctionsOf(plans: readonly CorrectionPlan[], punches: readonly RawPunch[], origin: number, prefix: string, known = punches.map((p) => p.id)): PunchCorrection[] {
  const ids = [...known];
  return plans.map((plan, index): PunchCorrection => {
    const id = `${prefix}${index}`;
    const at = new Date(origin + plan.minute * MINUTE);
    const meta = { reason: 'generated', status: plan.status };
    const target = ids.length > 0 ? ids[plan.target % ids.length]! : 'nobody';
    if (plan.kind === 'add' || target === 'nobody') {
      if (plan.status === 'approved') ids.push(id);
      return { id, kind: 'add', employeeId: plan.employeeId, direction: plan.direction, at, ...meta };
    }
    if (plan.kind === 'move') return { id, kind: 'move', punchId: target, at, ...meta };
    return { id, kind: 'void', punchId: target, ...meta };
  });
}

/** The result without the display lists of corrections (the one thing pending, rejected or cancelled ones change). */
const withoutCorrectionLists = (result: Timesheets) =>
  result.employees.map((e) => ({ ...e, days: e.days.map(({ corrections: _shown, ...day }) => day) }));

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !(value instanceof Date) && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

/** Everything about the inputs, Dates' times included (JSON alone would not notice a Date mutated in place). */
const fingerprint = (request: TimesheetRequest) =>
  JSON.stringify(request, (_key, value: unknown) => (value instanceof Date ? `Date(${value.getTime()})` : value)) +
  [...request.punches.map((p) => p.at.getTime()), ...(request.corrections ?? []).map((c) => ('at' in c ? c.at.getTime() : 0))].join(',');

const RUNS = { numRuns: 150 };

describe('timesheet properties', () => {
  it('the punches, corrections, rules and schedules given are never changed', () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const request = requestOf(c);
        const before = fingerprint(request);
        buildTimesheets(deepFreeze(request)); // frozen: any write would throw in strict-mode modules
        expect(fingerprint(request)).toBe(before);
      }),
      RUNS,
    );
  });

  it('regular + daily overtime + weekly overtime = rounded on every day; totals are the days\' sums', () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const request = requestOf(c);
        const step = request.rules.rounding.toMinutes || 1;
        // Problems are collected and compared once: an expect per day and field would be most of the run time.
        const problems: string[] = [];
        const check = (ok: boolean, what: string) => {
          if (!ok) problems.push(what);
        };
        for (const sheet of buildTimesheets(request).employees) {
          check(sheet.days.length === PERIOD_DAYS, 'one entry per day of the period');
          for (const day of sheet.days) {
            const where = `${sheet.employeeId} ${day.day}`;
            check(day.regularMinutes + day.dailyOvertimeMinutes + day.weeklyOvertimeMinutes === day.roundedMinutes, `${where}: regular + overtime = rounded`);
            check(day.overtimeMinutes === day.dailyOvertimeMinutes + day.weeklyOvertimeMinutes, `${where}: overtime = daily + weekly`);
            for (const n of [day.roundedMinutes, day.regularMinutes, day.dailyOvertimeMinutes, day.weeklyOvertimeMinutes]) {
              check(Number.isInteger(n) && n >= 0, `${where}: whole, non-negative minutes`);
            }
            check(day.roundedMinutes % step === 0, `${where}: rounded to the step`);
            check(Math.abs(day.roundedMinutes - day.workedMinutes) <= step / 2, `${where}: rounded to the nearest step`);
            const pairedMs = day.intervals.reduce((sum, i) => sum + (i.in && i.out ? i.out.getTime() - i.in.getTime() : 0), 0);
            check(Math.abs((day.workedMinutes + day.breakMinutes) * MINUTE - pairedMs) < 1e-6, `${where}: worked + break = paired`);
            check(day.flags.join() === [...new Set(day.flags)].sort().join(), `${where}: flags sorted, once each`);
          }
          const sum = (pick: (d: (typeof sheet.days)[number]) => number) => sheet.days.reduce((s, d) => s + pick(d), 0);
          check(sheet.totals.roundedMinutes === sum((d) => d.roundedMinutes), 'total rounded');
          check(sheet.totals.regularMinutes + sheet.totals.overtimeMinutes === sheet.totals.roundedMinutes, 'total regular + overtime');
          check(Math.abs(sheet.totals.workedMinutes - sum((d) => d.workedMinutes)) < 1e-6, 'total worked');
        }
        expect(problems).toEqual([]);
      }),
      RUNS,
    );
  });

  it('rounding is idempotent', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 30 * 1440 * MINUTE }), fc.constantFrom(...ROUNDING_STEPS), (workedMs, step) => {
        const rounded = roundWorkedMinutes(workedMs, step);
        expect(roundWorkedMinutes(rounded * MINUTE, step)).toBe(rounded);
      }),
      { numRuns: 1000 },
    );
  });

  it('pending and rejected corrections change nothing but the days\' lists of corrections', () => {
    const unreviewed = fc.array(
      correctionArb.map((plan) => ({ ...plan, status: plan.status === 'approved' ? ('pending' as const) : plan.status })),
      { maxLength: 6 },
    );
    fc.assert(
      fc.property(caseArb, unreviewed, fc.nat(), (c, extra, at) => {
        const request = requestOf(c);
        const origin = startOfLocalDay(request.period.from, request.timeZone);
        const added = correctionsOf(extra, request.punches, origin, 'u', [...request.punches.map((p) => p.id), 'nobody']);
        const corrections = [...(request.corrections ?? [])];
        corrections.splice(at % (corrections.length + 1), 0, ...added); // anywhere in the order
        const base = buildTimesheets(request);
        const withUnreviewed = buildTimesheets({ ...request, corrections });
        expect(withoutCorrectionLists(withUnreviewed)).toEqual(withoutCorrectionLists(base));
        const approved = (r: Timesheets) => r.unappliedCorrections.filter((u) => u.correction.status === 'approved');
        expect(approved(withUnreviewed)).toEqual(approved(base));
      }),
      RUNS,
    );
  });

  it('adding a punch and then voiding it (both approved) gives back the original timesheet', () => {
    fc.assert(
      fc.property(caseArb, correctionArb, fc.nat(), fc.nat(), (c, plan, addAt, voidAfter) => {
        const request = requestOf(c);
        const origin = startOfLocalDay(request.period.from, request.timeZone);
        const add: PunchCorrection = {
          id: 'extra-add',
          kind: 'add',
          employeeId: plan.employeeId,
          direction: plan.direction,
          at: new Date(origin + plan.minute * MINUTE),
          reason: 'test',
          status: 'approved',
        };
        const cancel: PunchCorrection = { id: 'extra-void', kind: 'void', punchId: add.id, reason: 'test', status: 'approved' };
        const corrections = [...(request.corrections ?? [])];
        const addIndex = addAt % (corrections.length + 1);
        corrections.splice(addIndex, 0, add);
        corrections.splice(addIndex + 1 + (voidAfter % (corrections.length - addIndex)), 0, cancel);
        const base = buildTimesheets(request);
        const cancelled = buildTimesheets({ ...request, corrections });
        expect(withoutCorrectionLists(cancelled)).toEqual(withoutCorrectionLists(base));
        // Whatever the other corrections did to the added punch in between, it is gone.
        expect(cancelled.employees.flatMap((e) => e.days.flatMap((d) => d.punches.map((p) => p.id)))).not.toContain('extra-add');
      }),
      RUNS,
    );
  });

  it('a correction changes only the days it touches and the weeks holding them', () => {
    // The days a correction touches: the dates of the times it names, and the days holding its punch, or the
    // punches next to where it took that punch from or to, in the raw timesheet, before it, or after it.
    fc.assert(
      fc.property(caseArb, correctionArb, fc.boolean(), (c, plan, fresh) => {
        const request = requestOf(c);
        const origin = startOfLocalDay(request.period.from, request.timeZone);
        const raw = buildTimesheets({ ...request, corrections: [] });
        const base = buildTimesheets(request);
        // A fresh add, or a move or void of a punch that counts now.
        const counting = base.employees.flatMap((e) => e.days.flatMap((d) => d.punches.map((p) => p.id)));
        const kind = fresh || counting.length === 0 ? 'add' : plan.kind === 'add' ? 'move' : plan.kind;
        const [correction] = correctionsOf([{ ...plan, kind, status: 'approved' }], request.punches, origin, 'extra', counting);
        const changed = buildTimesheets({ ...request, corrections: [...(request.corrections ?? []), correction!] });
        const punchId = correction!.kind === 'add' ? correction!.id : correction!.punchId;

        const sheets = [raw, base, changed];
        const located = sheets.flatMap((r) => r.employees.flatMap((e) => e.days.flatMap((d) => d.punches.filter((p) => p.id === punchId))));
        const { employeeId, direction } = located[0]!;
        const times = [...located.map((p) => p.at.getTime()), ...('at' in correction! ? [correction!.at.getTime()] : [])];
        const concerned = new Set<string>([punchId]);
        for (const result of sheets) {
          const others = (result.employees.find((e) => e.employeeId === employeeId)?.days ?? [])
            .flatMap((d) => d.punches)
            .filter((p) => p.id !== punchId)
            .map((p) => ({ id: p.id, direction: p.direction, atMs: p.at.getTime() }));
          for (const atMs of times) {
            const around = [...others, { id: punchId, direction, atMs }].sort(comparePunches);
            const index = around.findIndex((p) => p.id === punchId);
            for (const neighbour of [around[index - 1], around[index + 1]]) if (neighbour) concerned.add(neighbour.id);
          }
        }
        const touched = new Set(times.map((t) => localDateAt(t, request.timeZone)));
        for (const result of sheets) {
          for (const day of result.employees.find((e) => e.employeeId === employeeId)?.days ?? []) {
            if (day.punches.some((p) => concerned.has(p.id))) touched.add(day.day);
          }
        }
        const touchedWeeks = new Set([...touched].map((day) => startOfWeek(day, request.rules.weekStartsOn)));

        expect(changed.employees.map((e) => e.employeeId)).toEqual(base.employees.map((e) => e.employeeId));
        base.employees.forEach((sheet, e) => {
          sheet.days.forEach((day, d) => {
            const after = changed.employees[e]?.days[d];
            if (sheet.employeeId === employeeId && touchedWeeks.has(startOfWeek(day.day, request.rules.weekStartsOn))) return;
            expect(after).toEqual(day);
          });
        });
      }),
      RUNS,
    );
  });

  it('every corrected day shows an applied correction that explains it', () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const request = requestOf(c);
        const result = buildTimesheets(request);
        const unapplied = new Set(result.unappliedCorrections.map((u) => u.correction.id));
        for (const day of result.employees.flatMap((e) => e.days)) {
          if (!day.flags.includes('corrected')) continue;
          expect(day.corrections.some((x) => x.status === 'approved' && !unapplied.has(x.id))).toBe(true);
        }
      }),
      RUNS,
    );
  });

  it('the order punches are given in does not matter, even among punches at one instant', () => {
    // Half the cases crowd every punch onto four instants, where only the engine's own order can decide.
    const crowded = caseArb.map((c) => ({ ...c, punches: c.punches.map((p) => ({ ...p, minute: (p.minute % 4) * 600, second: 0 })) }));
    fc.assert(
      fc.property(fc.oneof(caseArb, crowded), fc.nat(), (c, seed) => {
        const request = requestOf(c);
        const shuffled = [...request.punches].sort((a, b) => hash(a.id, seed) - hash(b.id, seed));
        expect(buildTimesheets({ ...request, punches: shuffled })).toEqual(buildTimesheets(request));
      }),
      RUNS,
    );
  });
});

describe('DST nights count real elapsed time', () => {
  const CHANGES = [
    { timeZone: 'Europe/Berlin', night: '2026-03-28' },
    { timeZone: 'Europe/Berlin', night: '2026-10-24' },
    { timeZone: 'America/New_York', night: '2026-03-07' },
    { timeZone: 'America/New_York', night: '2026-10-31' },
    { timeZone: 'Australia/Sydney', night: '2026-04-04' },
    { timeZone: 'Australia/Sydney', night: '2026-10-03' },
  ];

  it('22:00 → 06:00 is 7 h across a spring change and 9 h across an autumn one, in each zone', () => {
    const hours = CHANGES.map(({ timeZone, night }) => {
      const result = buildTimesheets({
        timeZone,
        period: { from: night, to: addDays(night, 1) },
        now: new Date('2027-01-01T00:00Z'),
        rules: DEFAULT_RULES,
        punches: [
          { id: 'a', employeeId: 1, direction: 'in', at: new Date(zonedInstant(night, 22 * 60, timeZone)), method: 'face', matchDistance: 0.3, kioskId: 1 },
          { id: 'b', employeeId: 1, direction: 'out', at: new Date(zonedInstant(addDays(night, 1), 6 * 60, timeZone)), method: 'face', matchDistance: 0.3, kioskId: 1 },
        ],
      });
      return result.employees[0]!.days.map((d) => d.workedMinutes / 60);
    });
    expect(hours).toEqual([[7, 0], [9, 0], [7, 0], [9, 0], [9, 0], [7, 0]]);
  });

  it('any shift from a wall-clock start counts its real minutes, on the day it began', () => {
    const shiftArb = fc.record({
      change: fc.constantFrom(...CHANGES),
      startMinute: fc.integer({ min: 0, max: 1439 }),
      dayOffset: fc.integer({ min: -1, max: 1 }),
      durationMs: fc.integer({ min: 1, max: 960 * MINUTE }),
    });
    fc.assert(
      fc.property(shiftArb, ({ change: { timeZone, night }, startMinute, dayOffset, durationMs }) => {
        const start = zonedInstant(addDays(night, dayOffset), startMinute, timeZone);
        const result = buildTimesheets({
          timeZone,
          period: { from: addDays(night, -1), to: addDays(night, 2) },
          now: new Date('2027-01-01T00:00Z'),
          rules: DEFAULT_RULES,
          punches: [
            { id: 'a', employeeId: 1, direction: 'in', at: new Date(start), method: 'face', matchDistance: 0.3, kioskId: 1 },
            { id: 'b', employeeId: 1, direction: 'out', at: new Date(start + durationMs), method: 'face', matchDistance: 0.3, kioskId: 1 },
          ],
        });
        const worked = result.employees[0]!.days.filter((d) => d.workedMinutes > 0);
        expect(worked.map((d) => [d.day, d.workedMinutes])).toEqual([[localDateAt(start, timeZone), durationMs / MINUTE]]);
      }),
      { numRuns: 300 },
    );
  });
});

/** A cheap deterministic hash, to shuffle by. */
function hash(text: string, seed: number): number {
  let h = seed | 0;
  for (let i = 0; i < text.length; i += 1) h = Math.imul(h ^ text.charCodeAt(i), 2_654_435_761);
  return h;
}
