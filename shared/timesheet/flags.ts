/**
 * A day's flags: what a supervisor should look at before payroll runs. Pure facts in, a sorted list out.
 */
import type { TimesheetRules } from './rules.js';
import type { ShiftInstants } from './schedule.js';
import type { DayFlag, PunchDirection, PunchMethod } from './types.js';

const MINUTE_MS = 60_000;

/** What flagging needs of a punch. */
export interface FlaggablePunch {
  direction: PunchDirection;
  atMs: number;
  method: PunchMethod | null;
  matchDistance: number | null;
}

/** Everything a day's flags are decided from. */
export interface DayFacts {
  /** The punches counting on the day, in time order (the OUT of a night shift included). */
  punches: readonly FlaggablePunch[];
  /** An IN of the day was left unpaired. */
  hasMissingOut: boolean;
  /** An OUT of the day had no IN to close. */
  hasOutWithoutIn: boolean;
  /** The day's shifts differ from what the raw punches give. */
  corrected: boolean;
  /** The scheduled shift, or null on a day off or without a schedule. */
  scheduled: ShiftInstants | null;
  /** When the local day ends (the next day's start). */
  dayEndMs: number;
  nowMs: number;
}

/**
 * The day's flags, sorted. The schedule's flags:
 * - `late` when the day's first IN is after start + grace;
 * - `left_early` when the day's last OUT is before end − grace (a night shift's OUT next morning is the day's);
 * - `absent` when the day has no punch at all and both the local day and the scheduled shift are over at `now`
 *   (a night shift's day is not absent before its shift has ended).
 * They look at every IN and OUT of the day, paired or not: a forgotten OUT after lunch also makes the lunch OUT the
 * last one, so the day is `left_early` as well as `missing_out`. Flags ask for a look; one too many is cheaper
 * than one missing.
 */
export function dayFlags(facts: DayFacts, rules: Pick<TimesheetRules, 'graceLateMinutes' | 'graceLeftEarlyMinutes' | 'lowMarginDistance'>): DayFlag[] {
  let pin = false;
  let lowMargin = false;
  for (const punch of facts.punches) {
    if (punch.method === 'pin') pin = true;
    else if (punch.method === 'face' && rules.lowMarginDistance !== null && punch.matchDistance !== null) {
      lowMargin ||= punch.matchDistance >= rules.lowMarginDistance;
    }
  }
  const { scheduled, punches } = facts;
  const firstIn = punches.find((punch) => punch.direction === 'in');
  const lastOut = punches.findLast((punch) => punch.direction === 'out');
  const late = scheduled !== null && firstIn !== undefined && firstIn.atMs > scheduled.start + rules.graceLateMinutes * MINUTE_MS;
  const leftEarly =
    scheduled !== null && lastOut !== undefined && lastOut.atMs < scheduled.end - rules.graceLeftEarlyMinutes * MINUTE_MS;
  const absent = scheduled !== null && punches.length === 0 && facts.nowMs >= Math.max(facts.dayEndMs, scheduled.end);

  // Pushed in DAY_FLAGS order (alphabetical), so the list comes out sorted without sorting: this runs once per
  // person and day.
  const flags: DayFlag[] = [];
  if (absent) flags.push('absent');
  if (facts.corrected) flags.push('corrected');
  if (late) flags.push('late');
  if (leftEarly) flags.push('left_early');
  if (lowMargin) flags.push('low_margin');
  if (facts.hasMissingOut) flags.push('missing_out');
  if (facts.hasOutWithoutIn) flags.push('out_without_in');
  if (pin) flags.push('pin');
  return flags;
}
