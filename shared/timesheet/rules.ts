/**
 * A site's pay rules: grace, rounding, the automatic break, overtime thresholds, the week, the longest shift, and
 * when a face match is flagged. `DEFAULT_RULES` change nothing about what `clockface report` gives today.
 */
import { z } from 'zod';

/** The rounding steps payroll offices use; 0 rounds only to the whole minute. */
export const ROUNDING_STEPS = [0, 5, 6, 10, 15] as const;

/** A rounding step in minutes. */
export type RoundingStep = (typeof ROUNDING_STEPS)[number];

/** The rules a timesheet is computed under. Minutes are whole minutes. */
export interface TimesheetRules {
  /** How late the first IN may be before the day is `late`. */
  graceLateMinutes: number;
  /** How early the last OUT may be before the day is `left_early`. */
  graceLeftEarlyMinutes: number;
  /** The day's worked time (after the break) to the nearest multiple of `toMinutes`, halves up. */
  rounding: { toMinutes: RoundingStep; mode: 'nearest' };
  /** An unpaid break deducted once the day's worked time passes `afterWorkedMinutes`, unless one was taken. */
  autoBreak: { afterWorkedMinutes: number; breakMinutes: number } | null;
  /** Rounded minutes beyond this in one day are daily overtime; null: none. */
  dailyOvertimeAfterMinutes: number | null;
  /** Regular minutes beyond this in one week are weekly overtime; null: none. */
  weeklyOvertimeAfterMinutes: number | null;
  /** The first day of the week: 0 Sunday, 1 Monday … 6 Saturday. */
  weekStartsOn: 0 | 1 | 2 | 3 | 4 | 5 | 6;
  /** An OUT later than this after the open IN is not its shift's end but a forgotten clock-out. */
  maxShiftMinutes: number;
  /** Face punches whose match distance is at least this are flagged `low_margin`; null: never. */
  lowMarginDistance: number | null;
}

/**
 * Today's report: no grace needed (no schedule means no lateness), no rounding beyond the minute, no break, no
 * overtime, a 16-hour longest shift (`DEFAULT_MAX_SHIFT_HOURS` in electron/reports/hours-report.ts).
 */
export const DEFAULT_RULES: Readonly<TimesheetRules> = Object.freeze({
  graceLateMinutes: 0,
  graceLeftEarlyMinutes: 0,
  rounding: Object.freeze({ toMinutes: 0, mode: 'nearest' } as const),
  autoBreak: null,
  dailyOvertimeAfterMinutes: null,
  weeklyOvertimeAfterMinutes: null,
  weekStartsOn: 1,
  maxShiftMinutes: 960,
  lowMarginDistance: null,
});

/** Whole minutes, at least `least`; each message names the field. */
const minutes = (what: string, least: 0 | 1, orNull = '') =>
  z
    .number({ error: `${what} must be a number of minutes${orNull}` })
    .int(`${what} must be whole minutes`)
    .min(least, least === 0 ? `${what} must not be negative` : `${what} must be at least 1 minute`);

/** Whole minutes or null (null turns the rule off). */
const minutesOrNull = (what: string) => minutes(what, 1, ' or null').nullable();

/**
 * The schema of `TimesheetRules`. Each message names its field, so a settings screen or a config file error can
 * say what to fix. Unknown fields are refused: a misspelt `dailyOvertimeAfterMinute` must not silently mean "none".
 */
export const timesheetRulesSchema = z.strictObject(
  {
    graceLateMinutes: minutes('graceLateMinutes', 0),
    graceLeftEarlyMinutes: minutes('graceLeftEarlyMinutes', 0),
    rounding: z.strictObject(
      {
        toMinutes: z.literal(ROUNDING_STEPS, { error: `rounding.toMinutes must be one of ${ROUNDING_STEPS.join(', ')}` }),
        mode: z.literal('nearest', { error: "rounding.mode must be 'nearest'" }),
      },
      { error: 'rounding must be { toMinutes, mode }' },
    ),
    autoBreak: z
      .strictObject(
        {
          afterWorkedMinutes: minutes('autoBreak.afterWorkedMinutes', 0),
          breakMinutes: minutes('autoBreak.breakMinutes', 1),
        },
        { error: 'autoBreak must be { afterWorkedMinutes, breakMinutes } or null' },
      )
      .nullable(),
    dailyOvertimeAfterMinutes: minutesOrNull('dailyOvertimeAfterMinutes'),
    weeklyOvertimeAfterMinutes: minutesOrNull('weeklyOvertimeAfterMinutes'),
    weekStartsOn: z.literal([0, 1, 2, 3, 4, 5, 6], { error: 'weekStartsOn must be 0 (Sunday) to 6 (Saturday)' }),
    maxShiftMinutes: minutes('maxShiftMinutes', 1),
    lowMarginDistance: z
      .number({ error: 'lowMarginDistance must be a finite number or null' })
      .min(0, 'lowMarginDistance must not be negative')
      .nullable(),
  },
  { error: 'the rules must be an object' },
) satisfies z.ZodType<TimesheetRules>;

/** Bad rules, with one line per bad field (`rounding.toMinutes: …`). */
export class TimesheetRulesError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid timesheet rules: ${problems.join('; ')}`);
    this.name = 'TimesheetRulesError';
  }
}

/** Checks rules from a file or a form; throws a `TimesheetRulesError` naming every bad field. */
export function parseTimesheetRules(value: unknown): TimesheetRules {
  const parsed = timesheetRulesSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new TimesheetRulesError(
    parsed.error.issues.flatMap((issue) => {
      const prefix = issue.path.map((key) => `${String(key)}.`).join('');
      // The schema's messages name their field; an unknown key's message is zod's, so it is said here.
      if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => `${prefix}${key} is not a rule`);
      return [issue.message];
    }),
  );
}
