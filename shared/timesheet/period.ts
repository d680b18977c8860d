/**
 * A timesheet's period and the days the engine looks at around it. Weekly overtime needs whole weeks: a period that
 * starts on a Wednesday still counts Monday's and Tuesday's regular minutes towards that week's threshold. So the
 * engine works on the weeks covering the period and reports only the period's days.
 */
import type { TimesheetRules } from './rules.js';
import { addDays, isLocalDate, LocalDayCalendar, startOfWeek, type LocalDate } from './zoned-time.js';

/** Local dates, both included. */
export interface TimesheetPeriod {
  from: LocalDate;
  to: LocalDate;
}

/** Whether a period is two real `YYYY-MM-DD` dates with `from` not after `to`. */
export function isTimesheetPeriod(period: TimesheetPeriod): boolean {
  return isLocalDate(period.from) && isLocalDate(period.to) && period.from <= period.to;
}

/** The calendar of the whole weeks (starting on `weekStartsOn`) that hold the period, in the site's zone. */
export function weeksCovering(period: TimesheetPeriod, weekStartsOn: number, timeZone: string): LocalDayCalendar {
  return new LocalDayCalendar(startOfWeek(period.from, weekStartsOn), addDays(startOfWeek(period.to, weekStartsOn), 6), timeZone);
}

/**
 * The instants between which a caller must read punches (both ends included) so that every day the engine looks at
 * pairs exactly as it would with every punch ever made: a day's shifts depend only on punches from the longest shift
 * before the day to the longest shift after it. Corrections naming punches outside this window need those punches
 * too (a `move` or `void` of a punch not given is reported as `unknown_punch`).
 */
export function punchReadWindow(
  period: TimesheetPeriod,
  rules: Pick<TimesheetRules, 'weekStartsOn' | 'maxShiftMinutes'>,
  timeZone: string,
): { from: Date; to: Date } {
  const calendar = weeksCovering(period, rules.weekStartsOn, timeZone);
  const maxShiftMs = rules.maxShiftMinutes * 60_000;
  const first = calendar.starts[0] ?? Number.NaN;
  const end = calendar.starts[calendar.starts.length - 1] ?? Number.NaN;
  return { from: new Date(first - maxShiftMs), to: new Date(end + maxShiftMs) };
}
