/**
 * The timesheet engine can replace today's report: with DEFAULT_RULES it gives the same days, shifts, first IN,
 * last OUT, worked time and pairing flags as `summariseDays` (shared/reports/attendance.ts), on every case
 * shared/reports/attendance.test.ts and test/roster/report.test.ts cover, and on random punch sequences.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { localDateTime, localDay, summariseDays, type DaySummary, type Punch } from '../reports/attendance.js';
import { DEFAULT_RULES } from './rules.js';
import { buildTimesheets } from './timesheet.js';
import type { RawPunch, TimesheetDay } from './types.js';

/** What today's report shows of a day, in one shape both engines can be read into. */
interface ReportDay {
  employeeId: number;
  day: string;
  firstIn: number | null;
  lastOut: number | null;
  workedMs: number;
  flags: string[];
}

const fromLegacy = (d: DaySummary): ReportDay => ({
  employeeId: d.employeeId,
  day: d.day,
  firstIn: d.firstIn?.getTime() ?? null,
  lastOut: d.lastOut?.getTime() ?? null,
  workedMs: d.workedMs,
  flags: [...d.flags].sort(),
});

const extreme = (times: (Date | null)[], pick: (a: number, b: number) => number): number | null =>
  times.reduce<number | null>((best, t) => (t === null ? best : best === null ? t.getTime() : pick(best, t.getTime())), null);

/** A timesheet day read as today's report reads its day: first IN, last OUT, paired time, pairing flags. */
const fromTimesheet = (employeeId: number, d: TimesheetDay): ReportDay => ({
  employeeId,
  day: d.day,
  firstIn: extreme(d.intervals.map((i) => i.in), Math.min),
  lastOut: extreme(d.intervals.map((i) => i.out), Math.max),
  workedMs: d.intervals.reduce((sum, i) => sum + (i.in && i.out ? i.out.getTime() - i.in.getTime() : 0), 0),
  flags: d.flags.filter((f) => f === 'missing_out' || f === 'out_without_in'),
});

/** Both engines on the same punches; the report's days (those with a punch) side by side. */
function bothEngines(punches: readonly Punch[], timeZone: string, maxShiftHours = 16) {
  const legacy = summariseDays(punches, { timeZone, maxShiftHours }).map(fromLegacy);
  const days = punches.map((p) => localDay(p.at, timeZone)).sort();
  const raw: RawPunch[] = punches.map((p, index) => ({
    // Ids in input order: at one instant and direction, the legacy sort keeps input order and the engine sorts by id.
    id: `p${String(index).padStart(6, '0')}`,
    employeeId: p.employeeId,
    direction: p.direction,
    at: p.at,
    method: 'face',
    matchDistance: 0.3,
    kioskId: 1,
  }));
  const sheets = buildTimesheets({
    timeZone,
    period: { from: days[0] ?? '2026-01-01', to: days[days.length - 1] ?? '2026-01-01' },
    now: new Date('2100-01-01T00:00:00Z'),
    rules: { ...DEFAULT_RULES, maxShiftMinutes: maxShiftHours * 60 },
    punches: raw,
  });
  const timesheet = sheets.employees.flatMap((e) =>
    e.days.filter((d) => d.intervals.length > 0).map((d) => fromTimesheet(e.employeeId, d)),
  );
  // The default rules add nothing on top of pairing: worked is paired time, no break, no overtime, no other flag.
  for (const e of sheets.employees) {
    for (const d of e.days) {
      expect(d.breakMinutes).toBe(0);
      expect(d.overtimeMinutes).toBe(0);
      expect(d.regularMinutes).toBe(d.roundedMinutes);
      expect(d.flags.filter((f) => f !== 'missing_out' && f !== 'out_without_in')).toEqual([]);
      expect(d.workedMinutes).toBe(fromTimesheet(e.employeeId, d).workedMs / 60_000);
    }
  }
  return { legacy, timesheet, sheets };
}

const p = (direction: 'in' | 'out', iso: string, employeeId = 1): Punch => ({ employeeId, direction, at: new Date(iso) });

describe('default rules agree with today\'s report on the cases its tests cover', () => {
  const cases: Array<[string, Punch[], string]> = [
    ['several in/out pairs in one day', [p('in', '2026-03-02T08:00Z'), p('out', '2026-03-02T12:00Z'), p('in', '2026-03-02T12:30Z'), p('out', '2026-03-02T17:15Z')], 'UTC'],
    ['back-to-back shifts, OUT first', [p('in', '2026-03-02T00:10Z'), p('out', '2026-03-02T08:10Z'), p('in', '2026-03-02T08:10Z'), p('out', '2026-03-02T16:10Z')], 'UTC'],
    ['back-to-back shifts, IN first', [p('in', '2026-03-02T00:10Z'), p('in', '2026-03-02T08:10Z'), p('out', '2026-03-02T08:10Z'), p('out', '2026-03-02T16:10Z')], 'UTC'],
    ['a night shift', [p('in', '2026-03-02T22:00Z'), p('out', '2026-03-03T06:30Z')], 'UTC'],
    ['missing clock-out and out without in', [p('in', '2026-03-02T08:00Z'), p('in', '2026-03-03T08:00Z'), p('out', '2026-03-03T16:00Z'), p('out', '2026-03-04T16:00Z')], 'UTC'],
    ['an out beyond the longest shift', [p('in', '2026-03-02T08:00Z'), p('out', '2026-03-03T09:00Z')], 'UTC'],
    ['exactly the longest shift still pairs', [p('in', '2026-03-02T08:00Z'), p('out', '2026-03-03T00:00Z')], 'UTC'],
    ['days in the site time zone', [p('in', '2026-03-02T23:30Z'), p('out', '2026-03-03T07:30Z')], 'Europe/Berlin'],
    ['people kept apart', [p('in', '2026-03-02T08:00Z', 1), p('out', '2026-03-02T09:00Z', 2)], 'UTC'],
  ];
  it.each(cases)('%s', (_name, punches, timeZone) => {
    const { legacy, timesheet } = bothEngines(punches, timeZone);
    expect(timesheet).toEqual(legacy);
  });

  it('the rows of test/roster/report.test.ts, read from the timesheet the way hours-report.ts reads them', () => {
    const D = 1; // Day Worker, Berlin
    const N = 2; // Night Worker, Berlin
    const F = 3; // Forgetful, New York
    const berlin = [
      p('in', '2026-03-02T07:00:00Z', D),
      p('out', '2026-03-02T11:00:00Z', D),
      p('in', '2026-03-02T11:45:00Z', D),
      p('out', '2026-03-02T16:00:00Z', D),
      p('in', '2026-03-02T21:00:00Z', N),
      p('out', '2026-03-03T05:30:00Z', N),
      p('in', '2026-03-10T07:00:00Z', D),
      p('out', '2026-03-10T15:00:00Z', D),
    ];
    const newYork = [
      p('in', '2026-03-02T13:00:00Z', F),
      p('in', '2026-03-03T13:05:00Z', F),
      p('out', '2026-03-03T21:35:00Z', F),
      p('out', '2026-03-04T21:00:00Z', F),
    ];
    const names = new Map([[D, 'D-1'], [N, 'N-1'], [F, 'F-1']]);
    const rows = [
      ...bothEngines(berlin, 'Europe/Berlin').timesheet.map((d) => ({ ...d, zone: 'Europe/Berlin' })),
      ...bothEngines(newYork, 'America/New_York').timesheet.map((d) => ({ ...d, zone: 'America/New_York' })),
    ]
      .filter((d) => d.day >= '2026-03-02' && d.day <= '2026-03-04')
      .map((d) => [
        names.get(d.employeeId),
        d.day,
        d.firstIn === null ? null : localDateTime(new Date(d.firstIn), d.zone),
        d.lastOut === null ? null : localDateTime(new Date(d.lastOut), d.zone),
        Math.round(d.workedMs / 36_000) / 100,
        d.flags,
      ])
      .sort((a, b) => String(a[0]).localeCompare(String(b[0])) || String(a[1]).localeCompare(String(b[1])));
    expect(rows).toEqual([
      ['D-1', '2026-03-02', '2026-03-02T08:00', '2026-03-02T17:00', 8.25, []],
      ['F-1', '2026-03-02', '2026-03-02T08:00', null, 0, ['missing_out']],
      ['F-1', '2026-03-03', '2026-03-03T08:05', '2026-03-03T16:35', 8.5, []],
      ['F-1', '2026-03-04', null, '2026-03-04T16:00', 0, ['out_without_in']],
      ['N-1', '2026-03-02', '2026-03-02T22:00', '2026-03-03T06:30', 8.5, []],
    ]);
    // And both engines agree on every day of those punches, in range or not.
    for (const [punches, zone] of [[berlin, 'Europe/Berlin'], [newYork, 'America/New_York']] as const) {
      const { legacy, timesheet } = bothEngines(punches, zone);
      expect(timesheet).toEqual(legacy);
    }
  });
});

describe('default rules agree with today\'s report on random punch sequences', () => {
  const ZONES = ['UTC', 'Europe/Berlin', 'America/New_York', 'Australia/Sydney', 'Pacific/Kiritimati', 'Pacific/Pago_Pago', 'Asia/Kolkata'];
  // Around the 2026 spring and autumn changes of both hemispheres, so DST nights are common.
  const ORIGINS = ['2026-03-07T12:00Z', '2026-03-27T12:00Z', '2026-04-03T12:00Z', '2026-10-02T12:00Z', '2026-10-23T12:00Z'].map((iso) =>
    new Date(iso).getTime(),
  );
  const punchSequence = fc.record({
    timeZone: fc.constantFrom(...ZONES),
    origin: fc.constantFrom(...ORIGINS),
    maxShiftHours: fc.constantFrom(16, 16, 12, 8, 24),
    punches: fc.array(
      fc.record({
        employeeId: fc.integer({ min: 1, max: 3 }),
        direction: fc.constantFrom('in' as const, 'out' as const),
        // Minutes up to 5 days on, some on a coarse grid so that ties (same instant) happen; some with milliseconds.
        minute: fc.oneof(fc.integer({ min: 0, max: 7200 }), fc.integer({ min: 0, max: 40 }).map((m) => m * 180)),
        ms: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 59_999 })),
      }),
      { maxLength: 40 },
    ),
  });

  it('same days, shifts, first IN, last OUT, worked time and flags', () => {
    fc.assert(
      fc.property(punchSequence, ({ timeZone, origin, maxShiftHours, punches }) => {
        const input = punches.map((q) => p(q.direction, new Date(origin + q.minute * 60_000 + q.ms).toISOString(), q.employeeId));
        const { legacy, timesheet } = bothEngines(input, timeZone, maxShiftHours);
        expect(timesheet).toEqual(legacy);
      }),
      { numRuns: 300 },
    );
  });
});
