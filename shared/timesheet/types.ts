/**
 * The timesheet engine's inputs and outputs. Plain data: every field is something payroll or a screen reads, and
 * nothing here refers back to a database row or a class.
 */
import type { LocalDate } from './zoned-time.js';

/** Which way a punch goes. */
export type PunchDirection = 'in' | 'out';

/** How the kiosk recognised the person. */
export type PunchMethod = 'face' | 'pin';

/** A punch as the kiosk recorded it. The engine never changes one: corrections are separate records. */
export interface RawPunch {
  /** The kiosk-made UUID (central's primary key). */
  id: string;
  employeeId: number;
  direction: PunchDirection;
  /** The instant of the punch. */
  at: Date;
  method: PunchMethod;
  /** The face match's distance (lower is surer); null for a PIN punch. */
  matchDistance: number | null;
  kioskId: number | null;
}

/** A correction's review state. Only `approved` corrections change the timesheet; the others are shown. */
export type CorrectionStatus = 'approved' | 'pending' | 'rejected';

/** A punch someone forgot, entered by hand. The added punch's id is the correction's id. */
export interface AddPunchCorrection {
  id: string;
  kind: 'add';
  employeeId: number;
  direction: PunchDirection;
  at: Date;
  reason: string;
  status: CorrectionStatus;
}

/** A punch at the wrong time, moved to `at`. `punchId` names a raw punch or a punch an `add` created. */
export interface MovePunchCorrection {
  id: string;
  kind: 'move';
  punchId: string;
  at: Date;
  reason: string;
  status: CorrectionStatus;
}

/** A punch that should not count (a double punch, someone else's face). */
export interface VoidPunchCorrection {
  id: string;
  kind: 'void';
  punchId: string;
  reason: string;
  status: CorrectionStatus;
}

/** An append-only correction record. Corrections apply in the order they were created (the order given). */
export type PunchCorrection = AddPunchCorrection | MovePunchCorrection | VoidPunchCorrection;

/** Where an effective punch comes from: a kiosk, a correction that added it, or a kiosk punch moved since. */
export type PunchOrigin = 'raw' | 'added' | 'moved';

/** A punch as it counts, after the approved corrections. */
export interface EffectivePunch {
  /** The raw punch's id, or for an added punch the id of the correction that added it. */
  id: string;
  employeeId: number;
  direction: PunchDirection;
  /** When it counts (after any move). */
  at: Date;
  /** `added` wins over `moved`: an added punch that was then moved is still one no kiosk recorded. */
  origin: PunchOrigin;
  /** The time before the first approved move (the kiosk's time, or the time the add gave); null if never moved. */
  originalAt: Date | null;
  /** The approved corrections that made the punch what it is, in the order they applied. */
  correctionIds: readonly string[];
  /** null for an added punch: nobody was recognised. */
  method: PunchMethod | null;
  matchDistance: number | null;
  kioskId: number | null;
}

/**
 * One shift, or half of one. `in` and `out` both set: a paired shift whose time counts. Only `in`: an IN that was
 * never closed (`missing_out`). Only `out`: an OUT with no IN to close (`out_without_in`).
 */
export interface WorkInterval {
  in: Date | null;
  out: Date | null;
  inPunchId: string | null;
  outPunchId: string | null;
}

/**
 * What a day needs a person to look at, in alphabetical order:
 * - `absent`: a scheduled day, fully past, without a single punch.
 * - `corrected`: the day's shifts differ from what the kiosk punches alone give.
 * - `late`: the first IN is after the scheduled start plus the grace.
 * - `left_early`: the last OUT is before the scheduled end minus the grace.
 * - `low_margin`: a face punch whose match distance reaches `lowMarginDistance`.
 * - `missing_out`: an IN that no OUT closed (within the longest shift), once that shift is over at `now` (before:
 *   a shift in progress, no flag); it earns nothing.
 * - `out_without_in`: an OUT with no open IN to close; it earns nothing.
 * - `pin`: a punch made with a PIN rather than a face.
 */
export type DayFlag = 'absent' | 'corrected' | 'late' | 'left_early' | 'low_margin' | 'missing_out' | 'out_without_in' | 'pin';

/** Every flag, in the order a day lists them. */
export const DAY_FLAGS: readonly DayFlag[] = Object.freeze([
  'absent',
  'corrected',
  'late',
  'left_early',
  'low_margin',
  'missing_out',
  'out_without_in',
  'pin',
] as const);

/**
 * One local day of one person. Minutes: `workedMinutes` is exact (it has a fraction when punches carry seconds);
 * `roundedMinutes` and everything payroll is paid on are whole minutes, and
 * `regularMinutes + dailyOvertimeMinutes + weeklyOvertimeMinutes === roundedMinutes` always.
 */
export interface TimesheetDay {
  /** The local date in the site's zone. A shift counts on the day it began. */
  day: LocalDate;
  /** The scheduled shift of the day, if any. */
  scheduled: { start: Date; end: Date } | null;
  /** The day's shifts and half-shifts, in time order. */
  intervals: WorkInterval[];
  /** Paired time minus the automatic break, in minutes, before rounding. */
  workedMinutes: number;
  /** The automatic unpaid break deducted (0 when not due, or when the person took one). */
  breakMinutes: number;
  /** `workedMinutes` rounded by the rules (to the whole minute at least). */
  roundedMinutes: number;
  regularMinutes: number;
  dailyOvertimeMinutes: number;
  weeklyOvertimeMinutes: number;
  /** `dailyOvertimeMinutes + weeklyOvertimeMinutes`. */
  overtimeMinutes: number;
  flags: DayFlag[];
  /** The punches that count on this day (the OUT of a night shift included), in time order. */
  punches: EffectivePunch[];
  /** The corrections touching the day, whatever their status, in the order given: for display. */
  corrections: PunchCorrection[];
}

/** Sums over the days of the period. */
export interface TimesheetTotals {
  /** Days with paired time. */
  daysWorked: number;
  workedMinutes: number;
  breakMinutes: number;
  roundedMinutes: number;
  regularMinutes: number;
  dailyOvertimeMinutes: number;
  weeklyOvertimeMinutes: number;
  overtimeMinutes: number;
  /** For each flag, how many days carry it. */
  flagDays: Record<DayFlag, number>;
}

/** One person's timesheet: every day of the period, in order. */
export interface EmployeeTimesheet {
  employeeId: number;
  days: TimesheetDay[];
  totals: TimesheetTotals;
}

/** Why an approved correction changed nothing. */
export type UnappliedReason =
  /** A move or void whose punch is not among the punches given (or was added later than the correction). */
  | 'unknown_punch'
  /** A move or void of a punch an earlier correction voided. */
  | 'punch_voided'
  /** An add whose id is already a punch's id. */
  | 'id_taken';

/** An approved correction that could not apply, so that it is never lost silently. */
export interface UnappliedCorrection {
  correction: PunchCorrection;
  reason: UnappliedReason;
}
