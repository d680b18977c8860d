/**
 * A day's worked time: paired time, the automatic break, and rounding. Kept in milliseconds until rounding, so that
 * with the default rules the worked time is exactly what today's report counts.
 */
import type { RoundingStep, TimesheetRules } from './rules.js';

const MINUTE_MS = 60_000;

/** A paired shift's ends, epoch milliseconds. */
export interface ShiftSpan {
  inMs: number;
  outMs: number;
}

/**
 * The unpaid break to deduct from a day, in milliseconds: `breakMinutes` once the day's paired time passes
 * `afterWorkedMinutes`, unless the person already clocked out and back in for at least `breakMinutes` between two
 * of the day's shifts (a break they took and did not get paid for must not be deducted twice). Never more than the
 * paired time, so worked time cannot go negative whatever the rules say.
 *
 * @param shifts the day's paired shifts, in time order
 */
export function automaticBreakMs(shifts: readonly ShiftSpan[], rules: Pick<TimesheetRules, 'autoBreak'>): number {
  const { autoBreak } = rules;
  if (!autoBreak) return 0;
  let pairedMs = 0;
  for (const shift of shifts) pairedMs += shift.outMs - shift.inMs;
  if (pairedMs <= autoBreak.afterWorkedMinutes * MINUTE_MS) return 0;
  const breakMs = autoBreak.breakMinutes * MINUTE_MS;
  let previousOutMs: number | null = null;
  for (const shift of shifts) {
    if (previousOutMs !== null && shift.inMs - previousOutMs >= breakMs) return 0;
    previousOutMs = shift.outMs;
  }
  return Math.min(breakMs, pairedMs);
}

/**
 * Worked time in whole minutes, rounded to the nearest multiple of `toMinutes` (0: of one minute), halves up:
 * 7 min 30 s with a 15-minute step is 15, 7 min 29.999 s is 0. Idempotent: a rounded value rounds to itself.
 * Payroll is paid in whole minutes, while punches carry milliseconds: even "no rounding" has to pick a minute, and
 * the nearest one favours neither side.
 */
export function roundWorkedMinutes(workedMs: number, toMinutes: RoundingStep): number {
  const stepMinutes = toMinutes === 0 ? 1 : toMinutes;
  const stepMs = stepMinutes * MINUTE_MS;
  return Math.floor((workedMs + stepMs / 2) / stepMs) * stepMinutes;
}
