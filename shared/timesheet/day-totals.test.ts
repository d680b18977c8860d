import { describe, expect, it } from 'vitest';
import { automaticBreakMs, roundWorkedMinutes } from './day-totals.js';
import { splitDailyOvertime, weeklyOvertimeByDay } from './overtime.js';

const M = 60_000;
const shift = (fromMinute: number, toMinute: number) => ({ inMs: fromMinute * M, outMs: toMinute * M });
const autoBreak = { autoBreak: { afterWorkedMinutes: 360, breakMinutes: 30 } };

describe('automatic break', () => {
  it('is deducted only past the threshold, and not when the person took one', () => {
    expect(automaticBreakMs([shift(0, 360)], autoBreak)).toBe(0); // exactly 6 h: not past it
    expect(automaticBreakMs([shift(0, 361)], autoBreak)).toBe(30 * M);
    expect(automaticBreakMs([shift(0, 240), shift(270, 500)], autoBreak)).toBe(0); // a 30-minute gap
    expect(automaticBreakMs([shift(0, 240), shift(269, 500)], autoBreak)).toBe(30 * M); // 29 minutes is not a break
    expect(automaticBreakMs([shift(0, 600)], { autoBreak: null })).toBe(0);
  });

  it('never takes more than the day\'s paired time', () => {
    expect(automaticBreakMs([shift(0, 10)], { autoBreak: { afterWorkedMinutes: 5, breakMinutes: 30 } })).toBe(10 * M);
  });
});

describe('rounding', () => {
  it('rounds to the nearest step, halves up, and to the whole minute without a step', () => {
    expect(roundWorkedMinutes(7.5 * M, 15)).toBe(15);
    expect(roundWorkedMinutes(7.5 * M - 1, 15)).toBe(0);
    expect(roundWorkedMinutes(483 * M, 6)).toBe(486);
    expect(roundWorkedMinutes(482 * M, 5)).toBe(480);
    expect(roundWorkedMinutes(30_000, 0)).toBe(1);
    expect(roundWorkedMinutes(29_999, 0)).toBe(0);
    expect(roundWorkedMinutes(0, 10)).toBe(0);
  });
});

describe('overtime', () => {
  it('daily: rounded minutes beyond the threshold', () => {
    expect(splitDailyOvertime(570, 480)).toEqual({ regularMinutes: 480, dailyOvertimeMinutes: 90 });
    expect(splitDailyOvertime(400, 480)).toEqual({ regularMinutes: 400, dailyOvertimeMinutes: 0 });
    expect(splitDailyOvertime(900, null)).toEqual({ regularMinutes: 900, dailyOvertimeMinutes: 0 });
  });

  it('weekly: from the day the threshold is crossed, in day order', () => {
    expect(weeklyOvertimeByDay([480, 480, 0, 480, 480, 480, 240], 2400)).toEqual([0, 0, 0, 0, 0, 0, 240]);
    expect(weeklyOvertimeByDay([600, 600, 600, 600, 600], 2400)).toEqual([0, 0, 0, 0, 600]);
    expect(weeklyOvertimeByDay([500, 500, 500], 1200)).toEqual([0, 0, 300]);
    expect(weeklyOvertimeByDay([500, 500, 500], null)).toEqual([0, 0, 0]);
  });
});
