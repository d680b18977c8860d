import type pg from 'pg';
import { ClockfaceError } from '../../shared/errors.js';
import { localDateTime, summariseDays, type DayFlag, type Punch } from '../../shared/reports/attendance.js';

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
    employee_id: string;
    employee_no: string;
    full_name: string;
    site: string;
    time_zone: string;
    direction: 'in' | 'out';
    punched_at: Date;
  }>(
    `SELECT p.employee_id::text, e.employee_no, e.full_name, e.site, s.time_zone, p.direction, p.punched_at
     FROM punches p JOIN employees e ON e.id = p.employee_id JOIN sites s ON s.code = e.site
     WHERE p.punched_at >= (($1::date - 1)::timestamp AT TIME ZONE 'UTC') - $3::float8 * interval '1 hour'
       AND p.punched_at < (($2::date + 2)::timestamp AT TIME ZONE 'UTC') + $3::float8 * interval '1 hour'
       AND ($4::text IS NULL OR e.site = $4)
     ORDER BY p.employee_id, p.punched_at, p.direction DESC, p.id`,
    [range.from, range.to, maxShiftHours, range.site ?? null],
  );
  const people = new Map<number, { employeeNo: string; fullName: string; site: string; timeZone: string }>();
  const byZone = new Map<string, Punch[]>();
  for (const r of rows) {
    const id = Number(r.employee_id);
    people.set(id, { employeeNo: r.employee_no, fullName: r.full_name, site: r.site, timeZone: r.time_zone });
    const list = byZone.get(r.time_zone) ?? [];
    list.push({ employeeId: id, direction: r.direction, at: r.punched_at });
    byZone.set(r.time_zone, list);
  }
  const out: HoursRow[] = [];
  for (const [timeZone, punches] of byZone) {
    for (const d of summariseDays(punches, { timeZone, maxShiftHours })) {
      if (d.day < range.from || d.day > range.to) continue;
      const who = people.get(d.employeeId);
      if (!who) continue;
      out.push({
        employeeNo: who.employeeNo,
        fullName: who.fullName,
        site: who.site,
        day: d.day,
        firstIn: d.firstIn ? localDateTime(d.firstIn, timeZone) : null,
        lastOut: d.lastOut ? localDateTime(d.lastOut, timeZone) : null,
        workedHours: Math.round(d.workedMs / 36_000) / 100,
        flags: d.flags,
      });
    }
  }
  return out.sort((a, b) => a.employeeNo.localeCompare(b.employeeNo) || a.day.localeCompare(b.day));
}

