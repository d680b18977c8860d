/**
 * The timesheet engine (issue 17): punches + corrections + rules + schedules → per person and local day, worked,
 * rounded, regular and overtime minutes and flags. Pure, and dependent on nothing but zod: it runs on central, in
 * the CLI and in a browser alike. Start at `buildTimesheets`; read punches over `punchReadWindow`.
 */
export { buildTimesheets, type EmployeeSchedule, type TimesheetRequest, type Timesheets } from './timesheet.js';
export { TimesheetInputError } from './input-error.js';
export { isTimesheetPeriod, punchReadWindow, type TimesheetPeriod } from './period.js';
export { roundWorkedMinutes } from './day-totals.js';
export {
  DEFAULT_RULES,
  parseTimesheetRules,
  ROUNDING_STEPS,
  TimesheetRulesError,
  timesheetRulesSchema,
  type RoundingStep,
  type TimesheetRules,
} from './rules.js';
export {
  parseWeekSchedule,
  shiftInstants,
  shiftOfDate,
  WEEKDAYS,
  weekScheduleSchema,
  type ScheduledShift,
  type ShiftInstants,
  type Weekday,
  type WeekSchedule,
} from './schedule.js';
export * from './types.js';
export {
  addDays,
  isLocalDate,
  isTimeZone,
  localDateAt,
  startOfLocalDay,
  startOfWeek,
  wallClockAt,
  weekdayOf,
  zonedInstant,
  type LocalDate,
  type WallClock,
} from './zoned-time.js';
