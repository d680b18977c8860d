import { describe, expect, it } from 'vitest';
import { TimesheetInputError } from './input-error.js';
import { DEFAULT_RULES, TimesheetRulesError, type TimesheetRules } from './rules.js';
import { buildTimesheets, type TimesheetRequest } from './timesheet.js';
import type { PunchCorrection, RawPunch, TimesheetDay } from './types.js';

const BERLIN = 'Europe/Berlin';
const ACCEPTANCE_RULES: TimesheetRules = {
  ...DEFAULT_RULES,
  autoBreak: { afterWorkedMinutes: 360, breakMinutes: 30 },
  dailyOvertimeAfterMinutes: 480,
};

let nextId = 0;
/** A face punch of employee 1 (unless said otherwise); `at` is an ISO instant with its offset. */
const punch = (direction: 'in' | 'out', at: string, extra: Partial<RawPunch> = {}): RawPunch => ({
  id: `p${(nextId += 1)}`,
  employeeId: 1,
  direction,
  at: new Date(at),
  method: 'face',
  matchDistance: 0.3,
  kioskId: 1,
  ...extra,
});

const request = (overrides: Partial<TimesheetRequest>): TimesheetRequest => ({
  timeZone: BERLIN,
  period: { from: '2026-03-02', to: '2026-03-08' },
  now: new Date('2026-04-01T00:00:00Z'),
  rules: ACCEPTANCE_RULES,
  punches: [],
  ...overrides,
});

/** The days of the only person in the result, by date. */
const daysOf = (overrides: Partial<TimesheetRequest>): Map<string, TimesheetDay> => {
  const result = buildTimesheets(request(overrides));
  expect(result.employees).toHaveLength(1);
  return new Map(result.employees[0]!.days.map((day) => [day.day, day]));
};

const minutes = (day: TimesheetDay | undefined) =>
  day && {
    worked: day.workedMinutes,
    break: day.breakMinutes,
    rounded: day.roundedMinutes,
    regular: day.regularMinutes,
    overtime: day.overtimeMinutes,
    flags: day.flags,
  };

describe('a shift in progress', () => {
  it('an IN within the longest shift at `now` is not a missing OUT yet; once the shift is over, it is', () => {
    const morning = () => [punch('in', '2026-03-03T08:00+01:00')];
    const at = (now: string) => daysOf({ punches: morning(), now: new Date(now) }).get('2026-03-03')?.flags;
    expect(at('2026-03-03T10:00+01:00')).toEqual([]);
    // 16 h (the default longest shift) after 08:00 is midnight: from then on nobody is still at work.
    expect(at('2026-03-03T23:59+01:00')).toEqual([]);
    expect(at('2026-03-04T00:00+01:00')).toEqual(['missing_out']);
  });
});

describe('the acceptance examples of issue 17 (Europe/Berlin, 30 min break after 6 h, overtime after 8 h a day)', () => {
  const fullDay = () => [punch('in', '2026-03-03T08:00+01:00'), punch('out', '2026-03-03T18:00+01:00')];

  it('IN 08:00, OUT 18:00: 570 worked, 30 break, 480 regular, 90 overtime', () => {
    const day = daysOf({ punches: fullDay() }).get('2026-03-03');
    expect(minutes(day)).toEqual({ worked: 570, break: 30, rounded: 570, regular: 480, overtime: 90, flags: [] });
    expect(day?.dailyOvertimeMinutes).toBe(90);
    expect(day?.intervals).toEqual([
      { in: new Date('2026-03-03T07:00Z'), out: new Date('2026-03-03T17:00Z'), inPunchId: expect.any(String), outPunchId: expect.any(String) },
    ]);
  });

  it('a missing OUT fixed by an approved add: the day is corrected and its totals normal', () => {
    const morning = punch('in', '2026-03-03T08:00+01:00');
    const forgotten = daysOf({ punches: [morning] }).get('2026-03-03');
    expect(minutes(forgotten)).toEqual({ worked: 0, break: 0, rounded: 0, regular: 0, overtime: 0, flags: ['missing_out'] });

    const add: PunchCorrection = {
      id: 'c1',
      kind: 'add',
      employeeId: 1,
      direction: 'out',
      at: new Date('2026-03-03T18:00+01:00'),
      reason: 'forgot to clock out',
      status: 'approved',
    };
    const fixed = daysOf({ punches: [morning], corrections: [add] }).get('2026-03-03');
    expect(minutes(fixed)).toEqual({ worked: 570, break: 30, rounded: 570, regular: 480, overtime: 90, flags: ['corrected'] });
    expect(fixed?.corrections).toEqual([add]);
    expect(fixed?.punches.map((p) => [p.id, p.origin, p.method])).toEqual([
      [morning.id, 'raw', 'face'],
      ['c1', 'added', null],
    ]);
  });

  it('voiding the OUT of a complete day: missing_out and 0 minutes', () => {
    const [morning, evening] = fullDay();
    const voided: PunchCorrection = { id: 'c2', kind: 'void', punchId: evening!.id, reason: 'colleague\'s face', status: 'approved' };
    const day = daysOf({ punches: [morning!, evening!], corrections: [voided] }).get('2026-03-03');
    expect(minutes(day)).toEqual({ worked: 0, break: 0, rounded: 0, regular: 0, overtime: 0, flags: ['corrected', 'missing_out'] });
    expect(day?.punches.map((p) => p.id)).toEqual([morning!.id]);
    expect(day?.corrections).toEqual([voided]);
  });

  it('a night shift 22:00 → 06:00 across the spring change (2026-03-29) is 420 minutes on 2026-03-28', () => {
    const days = daysOf({
      period: { from: '2026-03-23', to: '2026-03-31' },
      punches: [punch('in', '2026-03-28T22:00+01:00'), punch('out', '2026-03-29T06:00+02:00')],
      rules: DEFAULT_RULES,
    });
    expect(minutes(days.get('2026-03-28'))).toEqual({ worked: 420, break: 0, rounded: 420, regular: 420, overtime: 0, flags: [] });
    expect(days.get('2026-03-29')?.intervals).toEqual([]);
    expect(days.get('2026-03-28')?.punches).toHaveLength(2);
  });

  it('and across the autumn change (2026-10-25) the same wall-clock shift is 540 minutes', () => {
    const days = daysOf({
      period: { from: '2026-10-24', to: '2026-10-25' },
      punches: [punch('in', '2026-10-24T22:00+02:00'), punch('out', '2026-10-25T06:00+01:00')],
      rules: DEFAULT_RULES,
    });
    expect(days.get('2026-10-24')?.workedMinutes).toBe(540);
  });
});

describe('the automatic break', () => {
  it('is not deducted when the person clocked out for at least the break', () => {
    const days = daysOf({
      punches: [
        punch('in', '2026-03-03T08:00+01:00'),
        punch('out', '2026-03-03T12:00+01:00'),
        punch('in', '2026-03-03T12:30+01:00'),
        punch('out', '2026-03-03T17:00+01:00'),
      ],
    });
    expect(minutes(days.get('2026-03-03'))).toMatchObject({ worked: 510, break: 0, regular: 480, overtime: 30 });
  });

  it('is deducted when the gap was shorter than the break, and only once the day passes the threshold', () => {
    const days = daysOf({
      punches: [
        punch('in', '2026-03-03T08:00+01:00'),
        punch('out', '2026-03-03T12:00+01:00'),
        punch('in', '2026-03-03T12:15+01:00'),
        punch('out', '2026-03-03T17:00+01:00'), // 8 h 45 paired, a 15-minute gap
        punch('in', '2026-03-04T08:00+01:00'),
        punch('out', '2026-03-04T14:00+01:00'), // exactly 6 h: not past the threshold
      ],
    });
    expect(minutes(days.get('2026-03-03'))).toMatchObject({ worked: 495, break: 30 });
    expect(minutes(days.get('2026-03-04'))).toMatchObject({ worked: 360, break: 0 });
  });
});

describe('rounding and overtime', () => {
  it('rounds the day after the break to the nearest step, halves up', () => {
    const punches = [punch('in', '2026-03-03T08:00+01:00'), punch('out', '2026-03-03T16:07:30+01:00')];
    const rules: TimesheetRules = { ...DEFAULT_RULES, rounding: { toMinutes: 15, mode: 'nearest' } };
    expect(minutes(daysOf({ punches, rules }).get('2026-03-03'))).toMatchObject({ worked: 487.5, rounded: 495 });
    const earlier = [punch('in', '2026-03-03T08:00+01:00'), punch('out', '2026-03-03T16:07:29+01:00')];
    expect(daysOf({ punches: earlier, rules }).get('2026-03-03')?.roundedMinutes).toBe(480);
    // With no rounding step, payroll still gets whole minutes: the nearest one.
    expect(daysOf({ punches: earlier, rules: DEFAULT_RULES }).get('2026-03-03')?.roundedMinutes).toBe(487);
  });

  it('weekly overtime starts on the day the week passes the threshold, after daily overtime', () => {
    // Monday 2 March to Friday 6 March, 10 h a day; daily OT after 8 h, weekly after 36 h of regular time.
    const punches = ['02', '03', '04', '05', '06'].flatMap((d) => [
      punch('in', `2026-03-${d}T08:00+01:00`),
      punch('out', `2026-03-${d}T18:00+01:00`),
    ]);
    const rules: TimesheetRules = { ...DEFAULT_RULES, dailyOvertimeAfterMinutes: 480, weeklyOvertimeAfterMinutes: 36 * 60 };
    const result = buildTimesheets(request({ punches, rules }));
    const sheet = result.employees[0]!;
    expect(sheet.days.slice(0, 5).map((d) => [d.regularMinutes, d.dailyOvertimeMinutes, d.weeklyOvertimeMinutes])).toEqual([
      [480, 120, 0],
      [480, 120, 0],
      [480, 120, 0],
      [480, 120, 0], // 32 h regular so far
      [240, 120, 240], // 4 more reach 36 h; the other 4 h are weekly overtime
    ]);
    expect(sheet.totals).toMatchObject({
      daysWorked: 5,
      workedMinutes: 3000,
      roundedMinutes: 3000,
      regularMinutes: 2160,
      dailyOvertimeMinutes: 600,
      weeklyOvertimeMinutes: 240,
      overtimeMinutes: 840,
    });
  });

  it('counts the week\'s days before the period towards weekly overtime', () => {
    const punches = ['02', '03', '04', '05', '06'].flatMap((d) => [
      punch('in', `2026-03-${d}T08:00+01:00`),
      punch('out', `2026-03-${d}T16:00+01:00`),
    ]);
    const rules: TimesheetRules = { ...DEFAULT_RULES, weeklyOvertimeAfterMinutes: 30 * 60 };
    const result = buildTimesheets(request({ punches, rules, period: { from: '2026-03-05', to: '2026-03-06' } }));
    const sheet = result.employees[0]!;
    expect(sheet.days.map((d) => [d.day, d.regularMinutes, d.weeklyOvertimeMinutes])).toEqual([
      ['2026-03-05', 360, 120],
      ['2026-03-06', 0, 480],
    ]);
    expect(sheet.totals.weeklyOvertimeMinutes).toBe(600);
  });
});

describe('schedules: late, left early, absent', () => {
  const schedule = {
    monday: { start: '08:00', end: '16:00' },
    tuesday: { start: '08:00', end: '16:00' },
    wednesday: { start: '08:00', end: '16:00' },
    friday: { start: '22:00', end: '06:00' },
  };
  const rules: TimesheetRules = { ...DEFAULT_RULES, graceLateMinutes: 5, graceLeftEarlyMinutes: 5 };

  it('flags a first IN after the grace and a last OUT before it, not within it', () => {
    const days = daysOf({
      rules,
      employees: [{ employeeId: 1, schedule }],
      punches: [
        punch('in', '2026-03-02T08:05+01:00'), // Monday: on the grace's edge
        punch('out', '2026-03-02T15:55+01:00'),
        punch('in', '2026-03-03T08:06+01:00'), // Tuesday: late and early
        punch('out', '2026-03-03T15:54+01:00'),
      ],
    });
    expect(days.get('2026-03-02')?.flags).toEqual([]);
    expect(days.get('2026-03-03')?.flags).toEqual(['late', 'left_early']);
  });

  it('judges the first IN and the last OUT, paired or not: a forgotten OUT after lunch is also leaving early', () => {
    const days = daysOf({
      rules,
      employees: [{ employeeId: 1, schedule }],
      punches: [
        punch('in', '2026-03-02T08:00+01:00'),
        punch('out', '2026-03-02T12:00+01:00'),
        punch('in', '2026-03-02T12:30+01:00'), // never closed
        punch('out', '2026-03-03T07:00+01:00'), // Tuesday: an OUT alone, then a late IN
        punch('in', '2026-03-03T13:00+01:00'),
        punch('out', '2026-03-03T16:00+01:00'),
      ],
    });
    expect(days.get('2026-03-02')?.flags).toEqual(['left_early', 'missing_out']);
    expect(days.get('2026-03-03')?.flags).toEqual(['late', 'out_without_in']);
  });

  it('absent: a scheduled day without a punch, only once it (and its shift) is over', () => {
    const sheet = (now: string) =>
      new Map(
        buildTimesheets(
          request({ rules, now: new Date(now), employees: [{ employeeId: 1, schedule }], punches: [] }),
        ).employees[0]!.days.map((d) => [d.day, d.flags]),
      );
    const midWeek = sheet('2026-03-04T12:00+01:00');
    expect([...midWeek].filter(([, flags]) => flags.includes('absent')).map(([day]) => day)).toEqual(['2026-03-02', '2026-03-03']);
    // Friday's night shift ends on Saturday at 06:00: Saturday 00:30 is too early to call Friday absent.
    expect(sheet('2026-03-07T00:30+01:00').get('2026-03-06')).toEqual([]);
    expect(sheet('2026-03-07T06:00+01:00').get('2026-03-06')).toEqual(['absent']);
    expect(sheet('2026-03-07T06:00+01:00').get('2026-03-05')).toEqual([]); // Thursday: a day off
  });

  it('without a schedule no day is late, early or absent', () => {
    const days = daysOf({ rules, punches: [punch('in', '2026-03-02T11:00+01:00'), punch('out', '2026-03-02T12:00+01:00')] });
    expect([...days.values()].flatMap((d) => d.flags)).toEqual([]);
  });

  it('a night shift is late against its own start and ends the next morning', () => {
    const days = daysOf({
      rules,
      employees: [{ employeeId: 1, schedule }],
      punches: [punch('in', '2026-03-06T22:10+01:00'), punch('out', '2026-03-07T05:50+01:00')],
    });
    expect(days.get('2026-03-06')).toMatchObject({
      flags: ['late', 'left_early'],
      workedMinutes: 460,
      scheduled: { start: new Date('2026-03-06T22:00+01:00'), end: new Date('2026-03-07T06:00+01:00') },
    });
  });
});

describe('pin and low-margin punches', () => {
  it('flags PIN punches, and face matches at or beyond lowMarginDistance', () => {
    const days = daysOf({
      rules: { ...DEFAULT_RULES, lowMarginDistance: 0.5 },
      punches: [
        punch('in', '2026-03-02T08:00+01:00', { method: 'pin', matchDistance: null }),
        punch('out', '2026-03-02T16:00+01:00', { matchDistance: 0.49 }),
        punch('in', '2026-03-03T08:00+01:00', { matchDistance: 0.5 }),
        punch('out', '2026-03-03T16:00+01:00'),
      ],
    });
    expect(days.get('2026-03-02')?.flags).toEqual(['pin']);
    expect(days.get('2026-03-03')?.flags).toEqual(['low_margin']);
  });
});

describe('corrections', () => {
  it('a move keeps the punch\'s id and recognition, says where it was, and can move an added punch', () => {
    const morning = punch('in', '2026-03-03T08:20+01:00');
    const evening = punch('out', '2026-03-03T16:00+01:00');
    const corrections: PunchCorrection[] = [
      { id: 'm1', kind: 'move', punchId: morning.id, at: new Date('2026-03-03T08:00+01:00'), reason: 'camera down', status: 'approved' },
      { id: 'a1', kind: 'add', employeeId: 1, direction: 'in', at: new Date('2026-03-04T08:00+01:00'), reason: 'x', status: 'approved' },
      { id: 'm2', kind: 'move', punchId: 'a1', at: new Date('2026-03-04T09:00+01:00'), reason: 'typo', status: 'approved' },
    ];
    const days = daysOf({ rules: DEFAULT_RULES, punches: [morning, evening], corrections });
    expect(days.get('2026-03-03')?.punches[0]).toMatchObject({
      id: morning.id,
      origin: 'moved',
      originalAt: new Date('2026-03-03T08:20+01:00'),
      correctionIds: ['m1'],
      method: 'face',
    });
    expect(days.get('2026-03-03')?.workedMinutes).toBe(480);
    expect(days.get('2026-03-04')?.punches[0]).toMatchObject({
      id: 'a1',
      origin: 'added',
      at: new Date('2026-03-04T09:00+01:00'),
      originalAt: new Date('2026-03-04T08:00+01:00'),
      correctionIds: ['a1', 'm2'],
    });
  });

  it('applies in the order given: a move before the add it names cannot apply, and is reported', () => {
    const corrections: PunchCorrection[] = [
      { id: 'm1', kind: 'move', punchId: 'a1', at: new Date('2026-03-04T09:00+01:00'), reason: '', status: 'approved' },
      { id: 'a1', kind: 'add', employeeId: 1, direction: 'in', at: new Date('2026-03-04T08:00+01:00'), reason: '', status: 'approved' },
      { id: 'v1', kind: 'void', punchId: 'a1', reason: '', status: 'approved' },
      { id: 'v2', kind: 'void', punchId: 'a1', reason: '', status: 'approved' },
      { id: 'v3', kind: 'void', punchId: 'nobody', reason: '', status: 'pending' },
    ];
    const result = buildTimesheets(request({ corrections }));
    expect(result.unappliedCorrections.map((u) => [u.correction.id, u.reason])).toEqual([
      ['m1', 'unknown_punch'],
      ['v2', 'punch_voided'],
      ['v3', 'unknown_punch'],
    ]);
    const day = result.employees[0]!.days.find((d) => d.day === '2026-03-04');
    expect(day?.punches).toEqual([]);
    expect(day?.flags).toEqual([]); // added and voided: nothing changed
    expect(day?.corrections.map((c) => c.id)).toEqual(['m1', 'a1', 'v1', 'v2']);
  });

  it('pending and rejected corrections show on their day and change nothing', () => {
    const morning = punch('in', '2026-03-03T08:00+01:00');
    const corrections: PunchCorrection[] = [
      { id: 'a1', kind: 'add', employeeId: 1, direction: 'out', at: new Date('2026-03-03T16:00+01:00'), reason: '', status: 'pending' },
      { id: 'v1', kind: 'void', punchId: morning.id, reason: '', status: 'rejected' },
    ];
    const day = daysOf({ punches: [morning], corrections }).get('2026-03-03');
    expect(day?.flags).toEqual(['missing_out']);
    expect(day?.corrections.map((c) => c.id)).toEqual(['a1', 'v1']);
  });

  it('a voided night-shift OUT shows on the night\'s day, and a void letting an evening IN pair corrects the evening too', () => {
    const eveningIn = punch('in', '2026-03-02T23:00+01:00');
    const strayIn = punch('in', '2026-03-03T01:00+01:00');
    const morningOut = punch('out', '2026-03-03T07:00+01:00');
    const before = daysOf({ rules: DEFAULT_RULES, punches: [eveningIn, strayIn, morningOut] });
    expect(before.get('2026-03-02')?.flags).toEqual(['missing_out']);
    expect(before.get('2026-03-03')?.workedMinutes).toBe(360);

    const voidStray: PunchCorrection = { id: 'v1', kind: 'void', punchId: strayIn.id, reason: 'double', status: 'approved' };
    const after = daysOf({ rules: DEFAULT_RULES, punches: [eveningIn, strayIn, morningOut], corrections: [voidStray] });
    expect(minutes(after.get('2026-03-02'))).toMatchObject({ worked: 480, flags: ['corrected'] });
    expect(minutes(after.get('2026-03-03'))).toMatchObject({ worked: 0, flags: ['corrected'] });
    expect(after.get('2026-03-02')?.corrections).toEqual([voidStray]);
    expect(after.get('2026-03-03')?.corrections).toEqual([voidStray]);
  });

  it('an added IN that takes a lone OUT from the next day shows on both days (found by a property)', () => {
    const lonelyOut = punch('out', '2026-03-04T00:00+01:00');
    const add: PunchCorrection = { id: 'a1', kind: 'add', employeeId: 1, direction: 'in', at: new Date('2026-03-03T12:00+01:00'), reason: '', status: 'approved' };
    const days = daysOf({ rules: DEFAULT_RULES, punches: [lonelyOut], corrections: [add] });
    expect(minutes(days.get('2026-03-03'))).toMatchObject({ worked: 720, flags: ['corrected'] });
    expect(days.get('2026-03-04')?.flags).toEqual(['corrected']); // its out_without_in is gone
    expect(days.get('2026-03-03')?.corrections).toEqual([add]);
    expect(days.get('2026-03-04')?.corrections).toEqual([add]);
  });

  it('a correction does not show on a corrected day it cannot have changed (found by a property)', () => {
    // An add voided again shows on its own date; a later add days away must not pull it onto its own day.
    const corrections: PunchCorrection[] = [
      { id: 'a1', kind: 'add', employeeId: 1, direction: 'in', at: new Date('2026-03-08T00:00+01:00'), reason: '', status: 'approved' },
      { id: 'v1', kind: 'void', punchId: 'a1', reason: '', status: 'approved' },
      { id: 'a2', kind: 'add', employeeId: 1, direction: 'in', at: new Date('2026-03-02T00:00+01:00'), reason: '', status: 'approved' },
    ];
    const days = daysOf({ rules: DEFAULT_RULES, corrections });
    expect(days.get('2026-03-08')?.corrections.map((c) => c.id)).toEqual(['a1', 'v1']);
    expect(days.get('2026-03-02')?.corrections.map((c) => c.id)).toEqual(['a2']);
  });

  it('never changes the punches and corrections it is given', () => {
    const punches = [punch('in', '2026-03-03T08:00+01:00'), punch('out', '2026-03-03T16:00+01:00')];
    const corrections: PunchCorrection[] = [
      { id: 'm1', kind: 'move', punchId: punches[0]!.id, at: new Date('2026-03-03T07:00+01:00'), reason: '', status: 'approved' },
    ];
    const snapshot = JSON.stringify({ punches, corrections });
    const result = buildTimesheets(request({ punches, corrections }));
    expect(JSON.stringify({ punches, corrections })).toBe(snapshot);
    // The result's dates are its own: changing one leaves the input alone.
    result.employees[0]!.days[1]!.punches[0]!.at.setTime(0);
    expect(JSON.stringify({ punches, corrections })).toBe(snapshot);
  });
});

describe('input checks', () => {
  it('refuses bad rules naming the field, an unknown zone, a reversed period, a bad schedule', () => {
    expect(() => buildTimesheets(request({ rules: { ...DEFAULT_RULES, rounding: { toMinutes: 7 as 5, mode: 'nearest' } } }))).toThrow(
      TimesheetRulesError,
    );
    expect(() => buildTimesheets(request({ timeZone: 'Mars/Olympus' }))).toThrow(/unknown time zone/);
    expect(() => buildTimesheets(request({ period: { from: '2026-03-08', to: '2026-03-02' } }))).toThrow(TimesheetInputError);
    expect(() => buildTimesheets(request({ employees: [{ employeeId: 3, schedule: { monday: { start: '8:00', end: '16:00' } } }] }))).toThrow(
      "employee 3's schedule: monday.start must be HH:MM, 00:00 to 23:59",
    );
    expect(() => buildTimesheets(request({ punches: [punch('in', 'not a time')] }))).toThrow(/invalid time/);
  });

  it('reports a listed person without punches, every day of the period', () => {
    const result = buildTimesheets(request({ employees: [{ employeeId: 9, schedule: null }] }));
    expect(result.employees.map((e) => [e.employeeId, e.days.length, e.totals.daysWorked])).toEqual([[9, 7, 0]]);
  });
});
