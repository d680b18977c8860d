/**
 * Turning punches into worked time: pair each IN with the next OUT of the same person, count hours per working
 * day in the site's time zone, and flag what cannot be paired. Pure, so reports, kiosks and property tests share it.
 *
 * Rules:
 * - A shift belongs to the day (site time zone) of its IN, even when it ends after midnight (night shifts).
 * - An IN while another is open: the earlier IN is "missing out" and earns no hours.
 * - An OUT with nothing open, or more than `maxShiftHours` after the open IN: "out without in" (and the IN, if
 *   any, "missing out"); no hours are guessed.
 */
export interface Punch {
  employeeId: number;
  direction: 'in' | 'out';
  at: Date;
}

export type DayFlag = 'missing_out' | 'out_without_in';

export interface DaySummary {
  employeeId: number;
  /** YYYY-MM-DD in the site's time zone. */
  day: string;
  firstIn: Date | null;
  lastOut: Date | null;
  workedMs: number;
  flags: DayFlag[];
}

export interface PairingOptions {
  timeZone: string;
  maxShiftHours: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** en-CA formats dates as YYYY-MM-DD; one formatter per zone and shape, since building them is slow. */
function formatter(timeZone: string, withTime: boolean): Intl.DateTimeFormat {
  const key = `${timeZone}|${withTime}`;
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      ...(withTime ? { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' } : {}),
    });
    formatters.set(key, f);
  }
  return f;
}

/** The calendar day of an instant in a time zone, as YYYY-MM-DD. */
export function localDay(at: Date, timeZone: string): string {
  return formatter(timeZone, false).format(at);
}

/** The wall-clock time of an instant in a time zone, as YYYY-MM-DDTHH:MM. */
export function localDateTime(at: Date, timeZone: string): string {
  const parts = Object.fromEntries(formatter(timeZone, true).formatToParts(at).map((p) => [p.type, p.value]));
  return `${parts['year']}-${parts['month']}-${parts['day']}T${parts['hour']}:${parts['minute']}`;
}

export function summariseDays(punches: readonly Punch[], options: PairingOptions): DaySummary[] {
  const byEmployee = new Map<number, Punch[]>();
  for (const p of punches) {
    const list = byEmployee.get(p.employeeId) ?? [];
    list.push(p);
    byEmployee.set(p.employeeId, list);
  }
  const maxMs = options.maxShiftHours * 3_600_000;
  const days = new Map<string, DaySummary>();
  const dayOf = (employeeId: number, at: Date): DaySummary => {
    const day = localDay(at, options.timeZone);
    const key = `${employeeId}|${day}`;
    let d = days.get(key);
    if (!d) {
      d = { employeeId, day, firstIn: null, lastOut: null, workedMs: 0, flags: [] };
      days.set(key, d);
    }
    return d;
  };
  const flag = (d: DaySummary, f: DayFlag) => {
    if (!d.flags.includes(f)) d.flags.push(f);
  };

  for (const [employeeId, list] of byEmployee) {
    // At the same instant an OUT closes the shift before the next IN opens one (back-to-back shifts), whatever
    // order the punches arrived in; hours-report.ts orders its SQL the same way.
    const rank = (p: Punch): number => (p.direction === 'out' ? 0 : 1);
    list.sort((a, b) => a.at.getTime() - b.at.getTime() || rank(a) - rank(b));
    let open: Punch | null = null;
    for (const p of list) {
      if (p.direction === 'in') {
        const d = dayOf(employeeId, p.at);
        if (d.firstIn === null || p.at < d.firstIn) d.firstIn = p.at;
        if (open) flag(dayOf(employeeId, open.at), 'missing_out');
        open = p;
        continue;
      }
      if (open && p.at.getTime() - open.at.getTime() <= maxMs) {
        const d = dayOf(employeeId, open.at); // the shift's day is the day it started
        d.workedMs += p.at.getTime() - open.at.getTime();
        if (d.lastOut === null || p.at > d.lastOut) d.lastOut = p.at;
        open = null;
        continue;
      }
      if (open) flag(dayOf(employeeId, open.at), 'missing_out');
      open = null;
      const d = dayOf(employeeId, p.at);
      if (d.lastOut === null || p.at > d.lastOut) d.lastOut = p.at;
      flag(d, 'out_without_in');
    }
    if (open) flag(dayOf(employeeId, open.at), 'missing_out');
  }
  return [...days.values()].sort((a, b) => a.employeeId - b.employeeId || a.day.localeCompare(b.day));
}
