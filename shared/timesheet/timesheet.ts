/**
 * The timesheet engine: raw punches + corrections + rules + schedules → per person, per local day, the shifts,
 * worked, rounded, regular and overtime minutes, and the flags payroll must look at.
 *
 * The steps, each in its own module:
 * 1. apply-corrections.ts: the approved corrections, in order, give the effective punches;
 * 2. pair-punches.ts: each person's punches pair into shifts, by the rules of today's report;
 * 3. each shift counts on the local day it began (zoned-time.ts), over the whole weeks holding the period (period.ts);
 * 4. day-totals.ts: paired time, the automatic break, rounding;
 * 5. overtime.ts: daily, then weekly overtime;
 * 6. flags.ts and correction-days.ts: what to look at, and which corrections to show where.
 * This file checks the request and splits it by person; employee-timesheet.ts runs steps 2–6 for one person.
 * With `DEFAULT_RULES` steps 4–5 change nothing and the shifts and worked minutes are today's report's
 * (legacy-agreement.test.ts proves it).
 */
import { applyCorrections } from './apply-corrections.js';
import { employeeTimesheet, type SheetContext } from './employee-timesheet.js';
import { TimesheetInputError } from './input-error.js';
import type { PairablePunch } from './pair-punches.js';
import { isTimesheetPeriod, weeksCovering, type TimesheetPeriod } from './period.js';
import { parseTimesheetRules, type TimesheetRules } from './rules.js';
import { parseWeekSchedule, shiftInstants, WEEKDAYS, type ShiftInstants, type WeekSchedule } from './schedule.js';
import type { EmployeeTimesheet, PunchCorrection, RawPunch, UnappliedCorrection } from './types.js';
import { isTimeZone, weekdayOf, type LocalDayCalendar } from './zoned-time.js';

const MINUTE_MS = 60_000;

/** A person to report and the week schedule that applies to them (the site's, with their overrides merged). */
export interface EmployeeSchedule {
  employeeId: number;
  /** null: no schedule, so no `late`, `left_early` or `absent`. */
  schedule: WeekSchedule | null;
}

/** Everything a timesheet is computed from. */
export interface TimesheetRequest {
  /** The site's IANA time zone: days, weeks and schedules are read on its wall clock. */
  timeZone: string;
  /** The local dates to report, both included. */
  period: TimesheetPeriod;
  /** When the timesheet is made: only scheduled days fully past at `now` can be `absent`. */
  now: Date;
  rules: TimesheetRules;
  /**
   * The raw punches, of any number of people, in any order. Read them over `punchReadWindow(period, rules,
   * timeZone)` so that the period's edges pair as they would with every punch.
   */
  punches: readonly RawPunch[];
  /** The corrections, in the order they were created. */
  corrections?: readonly PunchCorrection[];
  /**
   * People to report even without a punch (so they can be `absent`), with their schedules. Anyone else with a
   * punch or a correction is reported too, without a schedule.
   */
  employees?: readonly EmployeeSchedule[];
}

/** The timesheets of everyone concerned, in employee id order. */
export interface Timesheets {
  employees: EmployeeTimesheet[];
  /**
   * Approved corrections that could not apply, and corrections of any status naming a punch that is not among the
   * punches (so no day can show them).
   */
  unappliedCorrections: UnappliedCorrection[];
}

/**
 * Builds the timesheets of a period. Pure: the same request always gives the same result, and nothing given is
 * changed (the results hold their own `Date`s).
 *
 * @throws TimesheetRulesError for bad rules, TimesheetInputError for a bad zone, period, schedule, or time
 */
export function buildTimesheets(request: TimesheetRequest): Timesheets {
  const rules = parseTimesheetRules(request.rules);
  const { timeZone, period } = request;
  if (!isTimeZone(timeZone)) throw new TimesheetInputError(`unknown time zone ${JSON.stringify(timeZone)}`);
  if (!isTimesheetPeriod(period)) {
    throw new TimesheetInputError(`the period must be YYYY-MM-DD dates with from not after to, not ${JSON.stringify(period)}`);
  }
  const nowMs = request.now.getTime();
  if (!Number.isFinite(nowMs)) throw new TimesheetInputError('now is an invalid time');
  const schedules = checkedSchedules(request.employees ?? []);

  const calendar = weeksCovering(period, rules.weekStartsOn, timeZone);
  const context: SheetContext = {
    rules,
    calendar,
    periodFirst: calendar.days.indexOf(period.from),
    periodLast: calendar.days.indexOf(period.to),
    nowMs,
    maxShiftMs: rules.maxShiftMinutes * MINUTE_MS,
    shiftOn: shiftCache(calendar, timeZone),
  };

  const corrections = request.corrections ?? [];
  const outcome = applyCorrections(request.punches, corrections);
  const effective = groupBy(
    [...outcome.ledger.values()].filter((punch) => !punch.voided),
    (punch) => punch.employeeId,
  );
  const raw = groupBy(
    request.punches.filter((punch) => outcome.correctedEmployees.has(punch.employeeId)),
    (punch) => punch.employeeId,
  );

  // A correction belongs to the person whose punch it names (an add names its own person).
  const addedBy = new Map(corrections.flatMap((c) => (c.kind === 'add' ? [[c.id, c.employeeId] as const] : [])));
  const ownerOf = (correction: PunchCorrection): number | undefined =>
    correction.kind === 'add' ? correction.employeeId : (outcome.ledger.get(correction.punchId)?.employeeId ?? addedBy.get(correction.punchId));
  const unapplied = [...outcome.unapplied];
  const correctionsOf = new Map<number, PunchCorrection[]>();
  for (const correction of corrections) {
    const owner = ownerOf(correction);
    if (owner === undefined) {
      if (correction.status !== 'approved') unapplied.push({ correction, reason: 'unknown_punch' });
      continue;
    }
    const list = correctionsOf.get(owner) ?? [];
    list.push(correction);
    correctionsOf.set(owner, list);
  }

  const people = new Set<number>([...schedules.keys(), ...effective.keys(), ...correctionsOf.keys()]);
  for (const punch of outcome.ledger.values()) people.add(punch.employeeId); // someone whose every punch was voided
  const employees = [...people]
    .sort((a, b) => a - b)
    .map((employeeId) =>
      employeeTimesheet(employeeId, {
        effective: effective.get(employeeId) ?? [],
        raw: outcome.correctedEmployees.has(employeeId) ? (raw.get(employeeId) ?? []).map(asPairable) : null,
        corrections: correctionsOf.get(employeeId) ?? [],
        schedule: schedules.get(employeeId) ?? null,
        ledger: outcome.ledger,
        appliedAt: outcome.appliedAt,
        context,
      }),
    );
  return { employees, unappliedCorrections: unapplied };
}

function asPairable(punch: RawPunch): PairablePunch {
  return { id: punch.id, direction: punch.direction, atMs: punch.at.getTime() };
}

function groupBy<T>(items: readonly T[], keyOf: (item: T) => number): Map<number, T[]> {
  const groups = new Map<number, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  return groups;
}

/** The schedules by person, each checked; a bad one is refused naming the person and the field. */
function checkedSchedules(employees: readonly EmployeeSchedule[]): Map<number, WeekSchedule | null> {
  const schedules = new Map<number, WeekSchedule | null>();
  const checked = new Map<WeekSchedule, WeekSchedule>(); // people often share one schedule object: check it once
  for (const { employeeId, schedule } of employees) {
    if (schedules.has(employeeId)) throw new TimesheetInputError(`employee ${employeeId} is listed twice`);
    if (schedule === null) {
      schedules.set(employeeId, null);
      continue;
    }
    let parsed = checked.get(schedule);
    if (!parsed) {
      parsed = parseWeekSchedule(schedule, `employee ${employeeId}'s schedule`);
      checked.set(schedule, parsed);
    }
    schedules.set(employeeId, parsed);
  }
  return schedules;
}

/** Scheduled shift instants by date and wall times: people share schedules, and each instant costs several Intl calls. */
function shiftCache(calendar: LocalDayCalendar, timeZone: string): SheetContext['shiftOn'] {
  const cache = new Map<string, ShiftInstants>();
  const weekdays = calendar.days.map((date) => WEEKDAYS[weekdayOf(date)]);
  return (dayIndex, schedule) => {
    const date = calendar.days[dayIndex];
    const weekday = weekdays[dayIndex];
    const shift = schedule && weekday ? schedule[weekday] : undefined;
    if (date === undefined || !shift) return null;
    const key = `${date} ${shift.start} ${shift.end}`;
    let instants = cache.get(key);
    if (!instants) {
      instants = shiftInstants(date, shift, timeZone);
      cache.set(key, instants);
    }
    return instants;
  };
}
