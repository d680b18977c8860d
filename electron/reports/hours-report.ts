import type pg from 'pg';
import { ClockfaceError } from '../../shared/errors.js';
import { localDateTime, type DayFlag } from '../../shared/reports/attendance.js';
import { DEFAULT_RULES, buildTimesheets, type RawPunch, type TimesheetDay } from '../../shared/timesheet/index.js';

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

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/**
 * Hours per employee per working day between two dates (inclusive), each day in the employee's site time zone.
 * Punches a shift's length beyond both ends are read too, so that night shifts and early clock-outs at the edges
 * pair correctly.
 */
export async function hoursReport(
  client: pg.ClientBase,
  range: { from: string; to: string; site?: string; maxShiftHours?: number },
): Promise<HoursRow[]> {
  if (!DATE.test(range.from) || !DATE.test(range.to) || range.from > range.to) {
    throw new ClockfaceError('INVALID_ARGUMENT', 'dates are YYYY-MM-DD, with --from not after --to');
  }
  const maxShiftHours = range.maxShiftHours ?? DEFAULT_MAX_SHIFT_HOURS;
  // The read window is anchored in UTC, not in the session's TimeZone: one day either side covers every site zone
  // (offsets are within ±14 h), where a server set to UTC+14 reading a UTC-12 site would cut off a night shift's
  // OUT. Hours as float8: a maxShiftHours of 12.5 is valid (make_interval(hours => …) takes only integers).
  // Punches at the same instant are ordered OUT before IN (then by id, so the report never depends on the order
  // rows happen to come back in): an OUT and the next IN entered at the same minute close one shift and open the
  // next; the other way round they would pair into a zero-length shift and void both. The pairing sort is stable.
  const { rows } = await client.query<{
    id: string;
    employee_id: string;
    employee_no: string;
    full_name: string;
    site: string;
    time_zone: string;
    direction: 'in' | 'out';
    punched_at: Date;
    method: 'face' | 'pin';
    match_distance: number | null;
    kiosk_id: string | null;
  }>(
    `SELECT p.id::text, p.employee_id::text, e.employee_no, e.full_name, e.site, s.time_zone, p.direction, p.punched_at,
            p.method, p.match_distance, p.kiosk_id::text
     FROM punches p JOIN employees e ON e.id = p.employee_id JOIN sites s ON s.code = e.site
     WHERE p.punched_at >= (($1::date - 1)::timestamp AT TIME ZONE 'UTC') - $3::float8 * interval '1 hour'
       AND p.punched_at < (($2::date + 2)::timestamp AT TIME ZONE 'UTC') + $3::float8 * interval '1 hour'
       AND ($4::text IS NULL OR e.site = $4)
     ORDER BY p.employee_id, p.punched_at, p.direction DESC, p.id`,
    [range.from, range.to, maxShiftHours, range.site ?? null],
  );
  const people = new Map<number, { employeeNo: string; fullName: string; site: string; timeZone: string }>();
  const byZone = new Map<string, RawPunch[]>();
  for (const r of rows) {
    const id = Number(r.employee_id);
    people.set(id, { employeeNo: r.employee_no, fullName: r.full_name, site: r.site, timeZone: r.time_zone });
    const list = byZone.get(r.time_zone) ?? [];
    list.push({
      id: r.id,
      employeeId: id,
      direction: r.direction,
      at: r.punched_at,
      method: r.method,
      matchDistance: r.match_distance,
      kioskId: r.kiosk_id === null ? null : Number(r.kiosk_id),
    });
    byZone.set(r.time_zone, list);
  }
  // The timesheet engine with its default rules (no break, no rounding, no overtime): the pairing every other
  // timesheet output uses, so this report and `clockface timesheet` agree. Whole minutes for the longest shift.
  const rules = { ...DEFAULT_RULES, maxShiftMinutes: Math.round(maxShiftHours * 60) };
  const out: HoursRow[] = [];
  for (const [timeZone, punches] of byZone) {
    const sheets = buildTimesheets({ timeZone, period: { from: range.from, to: range.to }, now: new Date(), rules, punches });
    for (const sheet of sheets.employees) {
      const who = people.get(sheet.employeeId);
      if (!who) continue;
      // The report's rows are the days someone punched (an unpaired punch is an interval of its own).
      for (const d of sheet.days.filter((day) => day.intervals.length > 0)) {
        const { firstIn, lastOut, workedMs } = pairedTimes(d);
        out.push({
          employeeNo: who.employeeNo,
          fullName: who.fullName,
          site: who.site,
          day: d.day,
          firstIn: firstIn ? localDateTime(firstIn, timeZone) : null,
          lastOut: lastOut ? localDateTime(lastOut, timeZone) : null,
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
