import { describe, expect, it } from 'vitest';
import { isTimesheetPeriod, punchReadWindow, weeksCovering } from './period.js';
import { DEFAULT_RULES } from './rules.js';

describe('the period and the weeks around it', () => {
  it('covers whole weeks from the rules\' first weekday', () => {
    const monday = weeksCovering({ from: '2026-03-04', to: '2026-03-10' }, 1, 'Europe/Berlin');
    expect([monday.days[0], monday.days[monday.days.length - 1], monday.days.length]).toEqual(['2026-03-02', '2026-03-15', 14]);
    const sunday = weeksCovering({ from: '2026-03-04', to: '2026-03-04' }, 0, 'Europe/Berlin');
    expect([sunday.days[0], sunday.days.length]).toEqual(['2026-03-01', 7]);
  });

  it('tells the caller which punches to read: those weeks, and the longest shift either side', () => {
    expect(punchReadWindow({ from: '2026-03-04', to: '2026-03-04' }, DEFAULT_RULES, 'Europe/Berlin')).toEqual({
      from: new Date('2026-03-01T07:00:00Z'), // Monday 2 March 00:00 CET minus 16 h
      to: new Date('2026-03-09T15:00:00Z'), // Monday 9 March 00:00 CET plus 16 h
    });
  });

  it('checks the dates', () => {
    expect(isTimesheetPeriod({ from: '2026-03-01', to: '2026-03-01' })).toBe(true);
    expect(isTimesheetPeriod({ from: '2026-03-02', to: '2026-03-01' })).toBe(false);
    expect(isTimesheetPeriod({ from: '2026-02-30', to: '2026-03-01' })).toBe(false);
  });
});
