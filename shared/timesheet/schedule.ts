/**
 * A person's week of scheduled shifts, the thing `late`, `left_early` and `absent` are measured against. The caller
 * merges a site's schedule with the person's overrides; the engine takes the result.
 */
import { z } from 'zod';
import { TimesheetInputError } from './input-error.js';
import { addDays, isWallTime, parseWallTime, weekdayOf, zonedInstant, type LocalDate } from './zoned-time.js';

/** Days of the week, indexed as `Date.getUTCDay()` and `TimesheetRules.weekStartsOn` count them (0 Sunday). */
export const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] as const;

/** A day of the week. */
export type Weekday = (typeof WEEKDAYS)[number];

/** A shift on the wall clock. An `end` at or before `start` ends the next day (22:00 → 06:00). */
export interface ScheduledShift {
  /** `HH:MM`, 00:00–23:59. */
  start: string;
  /** `HH:MM`, 00:00–23:59. */
  end: string;
}

/** The shift of each weekday that has one; a weekday left out is a day off. */
export type WeekSchedule = Partial<Record<Weekday, ScheduledShift>>;

const wallTime = (what: string) =>
  z.string({ error: `${what} must be HH:MM, 00:00 to 23:59` }).refine(isWallTime, `${what} must be HH:MM, 00:00 to 23:59`);

const shiftOn = (weekday: Weekday) =>
  z
    .strictObject(
      { start: wallTime(`${weekday}.start`), end: wallTime(`${weekday}.end`) },
      { error: `${weekday} must be { start, end }` },
    )
    .optional();

/** The schema of `WeekSchedule`; messages name the weekday and field (`monday.start must be HH:MM …`). */
export const weekScheduleSchema = z.strictObject(
  {
    sunday: shiftOn('sunday'),
    monday: shiftOn('monday'),
    tuesday: shiftOn('tuesday'),
    wednesday: shiftOn('wednesday'),
    thursday: shiftOn('thursday'),
    friday: shiftOn('friday'),
    saturday: shiftOn('saturday'),
  },
  { error: 'a schedule must be an object of weekdays' },
) satisfies z.ZodType<WeekSchedule>;

/**
 * Checks a schedule from a file or a form; throws a `TimesheetInputError` naming every bad field, prefixed with
 * `who` (`employee 3's schedule: monday.start must be HH:MM, 00:00 to 23:59`).
 */
export function parseWeekSchedule(value: unknown, who = 'the schedule'): WeekSchedule {
  const parsed = weekScheduleSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.flatMap((issue) => {
    const prefix = issue.path.map((key) => `${String(key)}.`).join('');
    if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => `${prefix}${key} is not a weekday or a shift field`);
    return [issue.message];
  });
  throw new TimesheetInputError(`${who}: ${problems.join('; ')}`);
}

/** The instants a scheduled shift begins and ends (epoch milliseconds). */
export interface ShiftInstants {
  start: number;
  end: number;
}

/** The shift `schedule` plans on a local date, or null on a day off. */
export function shiftOfDate(date: LocalDate, schedule: WeekSchedule | null): ScheduledShift | null {
  const weekday = WEEKDAYS[weekdayOf(date)];
  return (weekday && schedule?.[weekday]) ?? null;
}

/**
 * A scheduled shift on a local date as instants. The end is the next day's wall time when it is not after the
 * start. Around a DST change the wall times are read as `zonedInstant` does, so a 22:00 → 06:00 shift across the
 * spring change lasts 7 hours, as the person really works it.
 */
export function shiftInstants(date: LocalDate, shift: ScheduledShift, timeZone: string): ShiftInstants {
  const start = parseWallTime(shift.start);
  const end = parseWallTime(shift.end);
  return {
    start: zonedInstant(date, start, timeZone),
    end: zonedInstant(end > start ? date : addDays(date, 1), end, timeZone),
  };
}
