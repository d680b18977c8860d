import { describe, expect, it } from 'vitest';
import { localDay, summariseDays, type Punch } from './attendance.js';

const at = (iso: string) => new Date(iso);
const p = (direction: 'in' | 'out', iso: string, employeeId = 1): Punch => ({ employeeId, direction, at: at(iso) });
const opts = { timeZone: 'UTC', maxShiftHours: 16 };

describe('punch pairing', () => {
  it('sums several in/out pairs in one day', () => {
    const [day] = summariseDays(
      [p('in', '2026-03-02T08:00Z'), p('out', '2026-03-02T12:00Z'), p('in', '2026-03-02T12:30Z'), p('out', '2026-03-02T17:15Z')],
      opts,
    );
    expect(day).toMatchObject({ day: '2026-03-02', workedMs: (4 + 4.75) * 3_600_000, flags: [] });
    expect(day?.firstIn?.toISOString()).toBe('2026-03-02T08:00:00.000Z');
    expect(day?.lastOut?.toISOString()).toBe('2026-03-02T17:15:00.000Z');
  });

  it('back-to-back shifts: an OUT and the next IN at the same instant pair the same in either input order', () => {
    const night = [p('in', '2026-03-02T00:10Z'), p('out', '2026-03-02T08:10Z')];
    const day = [p('in', '2026-03-02T08:10Z'), p('out', '2026-03-02T16:10Z')];
    for (const punches of [[...night, ...day], [night[0]!, day[0]!, night[1]!, day[1]!]]) {
      const days = summariseDays(punches, opts);
      expect(days.map((d) => [d.day, d.workedMs / 3_600_000, d.flags])).toEqual([['2026-03-02', 16, []]]);
    }
  });

  it('a night shift belongs to the day it started', () => {
    const days = summariseDays([p('in', '2026-03-02T22:00Z'), p('out', '2026-03-03T06:30Z')], opts);
    expect(days).toHaveLength(1);
    expect(days[0]).toMatchObject({ day: '2026-03-02', workedMs: 8.5 * 3_600_000, flags: [] });
  });

  it('flags a missing clock-out and an out without in, and guesses no hours', () => {
    const days = summariseDays(
      [p('in', '2026-03-02T08:00Z'), p('in', '2026-03-03T08:00Z'), p('out', '2026-03-03T16:00Z'), p('out', '2026-03-04T16:00Z')],
      opts,
    );
    expect(days.map((d) => [d.day, d.workedMs / 3_600_000, d.flags])).toEqual([
      ['2026-03-02', 0, ['missing_out']],
      ['2026-03-03', 8, []],
      ['2026-03-04', 0, ['out_without_in']],
    ]);
  });

  it('an out longer than the longest shift after the in is not paired', () => {
    const days = summariseDays([p('in', '2026-03-02T08:00Z'), p('out', '2026-03-03T09:00Z')], opts);
    expect(days.map((d) => [d.day, d.workedMs, d.flags])).toEqual([
      ['2026-03-02', 0, ['missing_out']],
      ['2026-03-03', 0, ['out_without_in']],
    ]);
  });

  it('counts days in the site time zone', () => {
    // 23:30 UTC on the 2nd is already the 3rd in Berlin (UTC+1 in March before DST).
    expect(localDay(at('2026-03-02T23:30Z'), 'Europe/Berlin')).toBe('2026-03-03');
    const [day] = summariseDays([p('in', '2026-03-02T23:30Z'), p('out', '2026-03-03T07:30Z')], {
      timeZone: 'Europe/Berlin',
      maxShiftHours: 16,
    });
    expect(day?.day).toBe('2026-03-03');
  });

  it('keeps people apart', () => {
    const days = summariseDays([p('in', '2026-03-02T08:00Z', 1), p('out', '2026-03-02T09:00Z', 2)], opts);
    expect(days.map((d) => [d.employeeId, d.flags])).toEqual([
      [1, ['missing_out']],
      [2, ['out_without_in']],
    ]);
  });
});
