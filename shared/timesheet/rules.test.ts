import { describe, expect, it } from 'vitest';
import { DEFAULT_RULES, parseTimesheetRules, TimesheetRulesError, timesheetRulesSchema } from './rules.js';
import { parseWeekSchedule } from './schedule.js';

const problemsOf = (value: unknown): readonly string[] => {
  try {
    parseTimesheetRules(value);
    return [];
  } catch (error) {
    if (error instanceof TimesheetRulesError) return error.problems;
    throw error;
  }
};

describe('timesheet rules', () => {
  it('the defaults are valid and frozen', () => {
    expect(parseTimesheetRules(DEFAULT_RULES)).toEqual(DEFAULT_RULES);
    expect(Object.isFrozen(DEFAULT_RULES) && Object.isFrozen(DEFAULT_RULES.rounding)).toBe(true);
    expect(DEFAULT_RULES).toMatchObject({ autoBreak: null, dailyOvertimeAfterMinutes: null, weeklyOvertimeAfterMinutes: null, maxShiftMinutes: 960 });
  });

  it('names every bad field', () => {
    expect(
      problemsOf({
        ...DEFAULT_RULES,
        graceLateMinutes: -1,
        graceLeftEarlyMinutes: '5',
        rounding: { toMinutes: 7, mode: 'up' },
        autoBreak: { afterWorkedMinutes: 1.5, breakMinutes: 0 },
        weeklyOvertimeAfterMinutes: 'none',
        weekStartsOn: 7,
        maxShiftMinutes: 0,
        lowMarginDistance: Number.POSITIVE_INFINITY,
        dailyOvertimeAfterMinute: 480,
      }),
    ).toEqual([
      'graceLateMinutes must not be negative',
      'graceLeftEarlyMinutes must be a number of minutes',
      'rounding.toMinutes must be one of 0, 5, 6, 10, 15',
      "rounding.mode must be 'nearest'",
      'autoBreak.afterWorkedMinutes must be whole minutes',
      'autoBreak.breakMinutes must be at least 1 minute',
      'weeklyOvertimeAfterMinutes must be a number of minutes or null',
      'weekStartsOn must be 0 (Sunday) to 6 (Saturday)',
      'maxShiftMinutes must be at least 1 minute',
      'lowMarginDistance must be a finite number or null',
      'dailyOvertimeAfterMinute is not a rule', // a typo must not silently mean "no overtime"
    ]);
  });

  it('names a missing part and a value that is not rules at all', () => {
    const partial: Record<string, unknown> = { ...DEFAULT_RULES };
    delete partial['rounding'];
    delete partial['autoBreak'];
    expect(problemsOf(partial)).toEqual(['rounding must be { toMinutes, mode }', 'autoBreak must be { afterWorkedMinutes, breakMinutes } or null']);
    expect(problemsOf(null)).toEqual(['the rules must be an object']);
    expect(() => parseTimesheetRules({})).toThrow(/^invalid timesheet rules: graceLateMinutes must be a number of minutes; /);
  });

  it('the schema accepts every rounding step and turning rules off with null', () => {
    for (const toMinutes of [0, 5, 6, 10, 15]) {
      expect(timesheetRulesSchema.safeParse({ ...DEFAULT_RULES, rounding: { toMinutes, mode: 'nearest' } }).success).toBe(true);
    }
    expect(
      timesheetRulesSchema.safeParse({ ...DEFAULT_RULES, autoBreak: { afterWorkedMinutes: 360, breakMinutes: 30 }, lowMarginDistance: 0.5 }).success,
    ).toBe(true);
  });
});

describe('week schedules', () => {
  it('names the weekday and field of each mistake', () => {
    expect(parseWeekSchedule({ monday: { start: '08:00', end: '16:00' } })).toEqual({ monday: { start: '08:00', end: '16:00' } });
    expect(() => parseWeekSchedule({ monday: { start: '8:00', end: '24:00' }, funday: {} }, 'site B')).toThrow(
      'site B: monday.start must be HH:MM, 00:00 to 23:59; monday.end must be HH:MM, 00:00 to 23:59; funday is not a weekday or a shift field',
    );
    expect(() => parseWeekSchedule({ tuesday: { start: '08:00' } })).toThrow('the schedule: tuesday.end must be HH:MM, 00:00 to 23:59');
  });
});
