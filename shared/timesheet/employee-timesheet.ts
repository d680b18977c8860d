/**
 * One person's timesheet: pair their punches (raw and effective), count each shift on the day it began, then the
 * day's break, rounding, daily and weekly overtime, flags, and the corrections each day shows.
 */
import type { LedgerPunch } from './apply-corrections.js';
import { correctedDays, correctionDays, dayOfEachPair, type IndexedPairing } from './correction-days.js';
import { automaticBreakMs, roundWorkedMinutes, type ShiftSpan } from './day-totals.js';
import { dayFlags } from './flags.js';
import { splitDailyOvertime, weeklyOvertimeByDay } from './overtime.js';
import { pairSortedPunches, sortPunches, type PairablePunch, type PunchPair } from './pair-punches.js';
import type { TimesheetRules } from './rules.js';
import type { ShiftInstants, WeekSchedule } from './schedule.js';
import {
  DAY_FLAGS,
  type DayFlag,
  type EffectivePunch,
  type EmployeeTimesheet,
  type PunchCorrection,
  type TimesheetDay,
  type TimesheetTotals,
  type WorkInterval,
} from './types.js';
import type { LocalDayCalendar } from './zoned-time.js';

const MINUTE_MS = 60_000;
const DAYS_IN_WEEK = 7;

/** What every person's timesheet shares. */
export interface SheetContext {
  rules: TimesheetRules;
  /** The whole weeks holding the period, in the site's zone. */
  calendar: LocalDayCalendar;
  /** The calendar indices of the period's first and last day. */
  periodFirst: number;
  periodLast: number;
  nowMs: number;
  maxShiftMs: number;
  /** The scheduled shift of a calendar day; computing instants costs `formatToParts` calls, so it is cached. */
  shiftOn: (dayIndex: number, schedule: WeekSchedule | null) => ShiftInstants | null;
}

/** One person's share of the request. */
export interface PersonInput {
  effective: readonly LedgerPunch[];
  /** The raw punches, when a correction changed this person's (otherwise the effective ones are the raw ones). */
  raw: readonly PairablePunch[] | null;
  corrections: readonly PunchCorrection[];
  schedule: WeekSchedule | null;
  ledger: ReadonlyMap<string, LedgerPunch>;
  appliedAt: ReadonlyMap<string, readonly number[]>;
  context: SheetContext;
}

/** A calendar day's numbers before the week is looked at. */
interface DayNumbers {
  pairs: PunchPair<LedgerPunch>[];
  workedMs: number;
  breakMs: number;
  roundedMinutes: number;
  regularMinutes: number;
  dailyOvertimeMinutes: number;
  weeklyOvertimeMinutes: number;
}

/** The timesheet of one person over the period of `input.context`. */
export function employeeTimesheet(employeeId: number, input: PersonInput): EmployeeTimesheet {
  const { context } = input;
  const { calendar, rules } = context;
  const dayCount = calendar.days.length;
  const dayAt = (atMs: number) => calendar.indexAt(atMs);

  const effective = indexedPairing(input.effective, context.maxShiftMs, dayAt);
  const raw = input.raw ? indexedPairing(input.raw, context.maxShiftMs, dayAt) : effective;
  const corrected = input.raw ? correctedDays(raw, effective, dayCount) : new Array<boolean>(dayCount).fill(false);
  const correctionsByDay: PunchCorrection[][] = [];
  if (input.corrections.length > 0) {
    const placed = correctionDays(input.corrections, {
      ledger: input.ledger,
      appliedAt: input.appliedAt,
      raw,
      effective,
      corrected,
      dayAt,
      maxShiftMs: context.maxShiftMs,
    });
    input.corrections.forEach((correction, index) => {
      for (const day of placed[index] ?? []) (correctionsByDay[day] ??= []).push(correction);
    });
  }

  const numbers: DayNumbers[] = calendar.days.map(() => ({
    pairs: [],
    workedMs: 0,
    breakMs: 0,
    roundedMinutes: 0,
    regularMinutes: 0,
    dailyOvertimeMinutes: 0,
    weeklyOvertimeMinutes: 0,
  }));
  effective.pairs.forEach((pair, index) => numbers[effective.pairDays[index] ?? -1]?.pairs.push(pair));
  for (const day of numbers) {
    const shifts: ShiftSpan[] = [];
    for (const pair of day.pairs) if (pair.in && pair.out) shifts.push({ inMs: pair.in.atMs, outMs: pair.out.atMs });
    const pairedMs = shifts.reduce((sum, shift) => sum + shift.outMs - shift.inMs, 0);
    day.breakMs = automaticBreakMs(shifts, rules);
    day.workedMs = pairedMs - day.breakMs;
    day.roundedMinutes = roundWorkedMinutes(day.workedMs, rules.rounding.toMinutes);
    const split = splitDailyOvertime(day.roundedMinutes, rules.dailyOvertimeAfterMinutes);
    day.regularMinutes = split.regularMinutes;
    day.dailyOvertimeMinutes = split.dailyOvertimeMinutes;
  }
  // The calendar is whole weeks from a week's first day, so every run of 7 days is one week.
  for (let weekStart = 0; weekStart < dayCount; weekStart += DAYS_IN_WEEK) {
    const week = numbers.slice(weekStart, weekStart + DAYS_IN_WEEK);
    const weekly = weeklyOvertimeByDay(
      week.map((day) => day.regularMinutes),
      rules.weeklyOvertimeAfterMinutes,
    );
    week.forEach((day, index) => {
      day.weeklyOvertimeMinutes = weekly[index] ?? 0;
      day.regularMinutes -= day.weeklyOvertimeMinutes;
    });
  }

  const days: TimesheetDay[] = [];
  for (let index = context.periodFirst; index <= context.periodLast; index += 1) {
    const day = numbers[index];
    const date = calendar.days[index];
    const dayEndMs = calendar.starts[index + 1];
    if (!day || date === undefined || dayEndMs === undefined) throw new Error(`day ${index} is outside the calendar`);
    const scheduled = context.shiftOn(index, input.schedule);
    const punches = day.pairs.flatMap((pair) => [pair.in, pair.out].filter((punch) => punch !== null));
    days.push({
      day: date,
      scheduled: scheduled ? { start: new Date(scheduled.start), end: new Date(scheduled.end) } : null,
      intervals: day.pairs.map(asInterval),
      workedMinutes: day.workedMs / MINUTE_MS,
      breakMinutes: day.breakMs / MINUTE_MS,
      roundedMinutes: day.roundedMinutes,
      regularMinutes: day.regularMinutes,
      dailyOvertimeMinutes: day.dailyOvertimeMinutes,
      weeklyOvertimeMinutes: day.weeklyOvertimeMinutes,
      overtimeMinutes: day.dailyOvertimeMinutes + day.weeklyOvertimeMinutes,
      flags: dayFlags(
        {
          punches,
          // An IN still within the longest shift at `now` is a shift in progress, not yet a forgotten OUT: today's
          // grid must not flag everyone who is at work.
          hasMissingOut: day.pairs.some(
            (pair) => pair.in !== null && pair.out === null && pair.in.atMs + rules.maxShiftMinutes * MINUTE_MS <= context.nowMs,
          ),
          hasOutWithoutIn: day.pairs.some((pair) => pair.in === null),
          corrected: corrected[index] === true,
          scheduled,
          dayEndMs,
          nowMs: context.nowMs,
        },
        rules,
      ),
      punches: punches.map(asEffectivePunch),
      corrections: correctionsByDay[index] ?? [],
    });
  }
  return { employeeId, days, totals: totalsOf(days, numbers.slice(context.periodFirst, context.periodLast + 1)) };
}

function indexedPairing<P extends PairablePunch>(
  punches: readonly P[],
  maxShiftMs: number,
  dayAt: (atMs: number) => number,
): IndexedPairing<P> {
  const sorted = sortPunches(punches);
  const pairs = pairSortedPunches(sorted, maxShiftMs);
  return { sorted, pairs, pairDays: dayOfEachPair(pairs, dayAt) };
}

function totalsOf(days: readonly TimesheetDay[], numbers: readonly DayNumbers[]): TimesheetTotals {
  const flagDays = Object.fromEntries(DAY_FLAGS.map((flag) => [flag, 0])) as Record<DayFlag, number>;
  const totals: TimesheetTotals = {
    daysWorked: 0,
    workedMinutes: 0,
    breakMinutes: 0,
    roundedMinutes: 0,
    regularMinutes: 0,
    dailyOvertimeMinutes: 0,
    weeklyOvertimeMinutes: 0,
    overtimeMinutes: 0,
    flagDays,
  };
  // Sum milliseconds, then divide once: adding fractional minutes day by day would drift in the last digit.
  let workedMs = 0;
  let breakMs = 0;
  for (const day of numbers) {
    workedMs += day.workedMs;
    breakMs += day.breakMs;
    if (day.pairs.some((pair) => pair.in && pair.out)) totals.daysWorked += 1;
  }
  totals.workedMinutes = workedMs / MINUTE_MS;
  totals.breakMinutes = breakMs / MINUTE_MS;
  for (const day of days) {
    totals.roundedMinutes += day.roundedMinutes;
    totals.regularMinutes += day.regularMinutes;
    totals.dailyOvertimeMinutes += day.dailyOvertimeMinutes;
    totals.weeklyOvertimeMinutes += day.weeklyOvertimeMinutes;
    totals.overtimeMinutes += day.overtimeMinutes;
    for (const flag of day.flags) flagDays[flag] += 1;
  }
  return totals;
}

function asInterval(pair: PunchPair<LedgerPunch>): WorkInterval {
  return {
    in: pair.in ? new Date(pair.in.atMs) : null,
    out: pair.out ? new Date(pair.out.atMs) : null,
    inPunchId: pair.in?.id ?? null,
    outPunchId: pair.out?.id ?? null,
  };
}

function asEffectivePunch(punch: LedgerPunch): EffectivePunch {
  return {
    id: punch.id,
    employeeId: punch.employeeId,
    direction: punch.direction,
    at: new Date(punch.atMs),
    origin: punch.source === 'added' ? 'added' : punch.originalAtMs !== null ? 'moved' : 'raw',
    originalAt: punch.originalAtMs === null ? null : new Date(punch.originalAtMs),
    correctionIds: [...punch.correctionIds],
    method: punch.method,
    matchDistance: punch.matchDistance,
    kioskId: punch.kioskId,
  };
}
