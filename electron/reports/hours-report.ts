import type pg from 'pg';
import { localDateTime, type DayFlag } from '../../shared/reports/attendance.js';
import { DEFAULT_RULES, type TimesheetDay } from '../../shared/timesheet/index.js';
import { readSites } from '../timesheets/site-settings.js';
import { checkedPeriod, loadSiteTimesheets } from '../timesheets/timesheet-data.js';

/** A shift longer than this is not a shift but a forgotten clock-out. */
export const DEFAULT_MAX_SHIFT_HOURS = 16;

export interface HoursRow {
  employeeNo: string;
  fullName: string;
  site: string;
  day: string;
  /** Local wall-clock time in the site's time zone, YYYY-MM-DDTHH:MM. */
  firstIn: string | null;
  lastOut: string | null;
  workedHours: number;
  flags: DayFlag[];
}

/**
 * Hours per employee per working day between two dates (inclusive), each day in the employee's site time zone, with
 * the approved corrections applied (a forgotten OUT added by `clockface punch add` closes its shift here too).
 * Through the same loader as `clockface timesheet` and `report --payroll` (electron/timesheets/timesheet-data.ts),
 * but with the default rules: paired time, no break, rounding or overtime, and no schedule. Punches a shift's length
 * beyond both ends are read too, so that night shifts and early clock-outs at the edges pair correctly.
 */
export async function hoursReport(
  client: pg.ClientBase,
  range: { from: string; to: string; site?: string; maxShiftHours?: number },
): Promise<HoursRow[]> {
  const period = checkedPeriod(range.from, range.to);
  const maxShiftHours = range.maxShiftHours ?? DEFAULT_MAX_SHIFT_HOURS;
  // The timesheet engine with its default rules: the pairing every other timesheet output uses, so this report and
  // `clockface timesheet` agree. Whole minutes for the longest shift (12.5 h is 750 min).
  const rules = { ...DEFAULT_RULES, maxShiftMinutes: Math.round(maxShiftHours * 60) };
  const out: HoursRow[] = [];
  for (const site of await readSites(client, range.site)) {
    const { sheets, employees } = await loadSiteTimesheets(client, { site, period, rules, schedules: false });
    for (const sheet of sheets.employees) {
      const who = employees.get(sheet.employeeId);
      if (!who) continue;
      // The report's rows are the days someone punched (an unpaired punch is an interval of its own).
      for (const d of sheet.days.filter((day) => day.intervals.length > 0)) {
        const { firstIn, lastOut, workedMs } = pairedTimes(d);
        out.push({
          employeeNo: who.employeeNo,
          fullName: who.fullName,
          site: site.site,
          day: d.day,
          firstIn: firstIn ? localDateTime(firstIn, site.timeZone) : null,
          lastOut: lastOut ? localDateTime(lastOut, site.timeZone) : null,
          workedHours: Math.round(workedMs / 36_000) / 100,
          flags: d.flags.filter((f): f is DayFlag => f === 'missing_out' || f === 'out_without_in'),
        });
      }
    }
  }
  return out.sort((a, b) => a.employeeNo.localeCompare(b.employeeNo) || a.day.localeCompare(b.day));
}

/** A day's first IN, last OUT (paired or not) and paired time, as this report has always shown them. */
function pairedTimes(day: TimesheetDay): { firstIn: Date | null; lastOut: Date | null; workedMs: number } {
  let firstIn: Date | null = null;
  let lastOut: Date | null = null;
  let workedMs = 0;
  for (const i of day.intervals) {
    if (i.in && (firstIn === null || i.in < firstIn)) firstIn = i.in;
    if (i.out && (lastOut === null || i.out > lastOut)) lastOut = i.out;
    if (i.in && i.out) workedMs += i.out.getTime() - i.in.getTime();
  }
  return { firstIn, lastOut, workedMs };
}
