import type pg from 'pg';
import { addDays, localDateAt, startOfWeek, type DayFlag, type LocalDate } from '../../shared/timesheet/index.js';
import { query } from './central-call.js';
import { effectiveRules, readSite, readSites, type SiteRow } from './site-settings.js';
import { checkedPeriod, loadSiteTimesheets } from './timesheet-data.js';

/** One person's week on the grid: a cell per day and the week's totals. */
export interface WeekRow {
  employeeNo: string;
  fullName: string;
  active: boolean;
  days: Array<{ day: LocalDate; roundedMinutes: number; overtimeMinutes: number; flags: DayFlag[]; punches: number }>;
  totalMinutes: number;
  overtimeMinutes: number;
  /** Days carrying a flag that asks for a person's attention (not `pin` or `corrected`, which are information). */
  exceptionDays: number;
}

export interface SiteWeek {
  site: string;
  timeZone: string;
  from: LocalDate;
  to: LocalDate;
  days: LocalDate[];
  /** Exceptions first (most exception days first), then by employee number. */
  rows: WeekRow[];
}

/** Flags that mean "somebody should look at this day". */
export const EXCEPTION_FLAGS: readonly DayFlag[] = ['absent', 'late', 'left_early', 'low_margin', 'missing_out', 'out_without_in'];

/** The first day of the site's week holding `day` (today in the site's zone when absent). */
export function siteWeekStart(site: SiteRow, day?: string, now: Date = new Date()): LocalDate {
  const date = day ?? localDateAt(now, site.timeZone);
  return startOfWeek(checkedPeriod(date, date).from, effectiveRules(site).weekStartsOn);
}

/**
 * The console's week grid: every employee of a site over one of its weeks, under its rules and schedules, through
 * the same engine load as `clockface timesheet` and the payroll export (so the three agree).
 */
export async function siteWeek(client: pg.ClientBase, siteCode: string, day?: string, now?: Date): Promise<SiteWeek> {
  const site = await readSite(client, siteCode);
  const from = siteWeekStart(site, day, now);
  const to = addDays(from, 6);
  const st = await loadSiteTimesheets(client, { site, period: { from, to }, ...(now ? { now } : {}) });
  const rows: WeekRow[] = [];
  for (const sheet of st.sheets.employees) {
    const who = st.employees.get(sheet.employeeId);
    if (!who) continue;
    const hasAny = sheet.days.some((d) => d.punches.length > 0 || d.flags.length > 0);
    if (!who.active && !hasAny) continue;
    rows.push({
      employeeNo: who.employeeNo,
      fullName: who.fullName,
      active: who.active,
      days: sheet.days.map((d) => ({
        day: d.day,
        roundedMinutes: d.roundedMinutes,
        overtimeMinutes: d.overtimeMinutes,
        flags: d.flags,
        punches: d.punches.length,
      })),
      totalMinutes: sheet.totals.roundedMinutes,
      overtimeMinutes: sheet.totals.overtimeMinutes,
      exceptionDays: sheet.days.filter((d) => d.flags.some((f) => EXCEPTION_FLAGS.includes(f))).length,
    });
  }
  rows.sort((a, b) => b.exceptionDays - a.exceptionDays || a.employeeNo.localeCompare(b.employeeNo));
  return { site: site.site, timeZone: site.timeZone, from, to, days: st.sheets.employees[0]?.days.map((d) => d.day) ?? dayList(from), rows };
}

function dayList(from: LocalDate): LocalDate[] {
  return Array.from({ length: 7 }, (_, i) => addDays(from, i));
}

/** Someone clocked in now: their last punch that counts is an IN, within the site's longest shift. */
export interface ClockedIn {
  employeeNo: string;
  fullName: string;
  since: Date;
}

export interface SiteNow {
  site: string;
  timeZone: string;
  clockedIn: ClockedIn[];
}

/**
 * Who is in right now, per site the login may read: yesterday and today through the engine (approved corrections
 * applied, so a supervisor's added OUT takes someone off the list), the last punch that counts per person.
 */
export async function whoIsIn(client: pg.ClientBase, now: Date = new Date()): Promise<SiteNow[]> {
  const out: SiteNow[] = [];
  for (const site of await readSites(client)) {
    const rules = effectiveRules(site);
    const today = localDateAt(now, site.timeZone);
    const st = await loadSiteTimesheets(client, { site, period: { from: addDays(today, -1), to: today }, now });
    const clockedIn: ClockedIn[] = [];
    for (const sheet of st.sheets.employees) {
      const last = sheet.days.flatMap((d) => d.punches).reduce<(typeof sheet.days)[number]['punches'][number] | null>(
        (latest, p) => (latest === null || p.at.getTime() >= latest.at.getTime() ? p : latest),
        null,
      );
      if (!last || last.direction !== 'in' || last.at.getTime() > now.getTime()) continue;
      if (now.getTime() - last.at.getTime() > rules.maxShiftMinutes * 60_000) continue;
      const who = st.employees.get(sheet.employeeId);
      if (who) clockedIn.push({ employeeNo: who.employeeNo, fullName: who.fullName, since: last.at });
    }
    clockedIn.sort((a, b) => a.since.getTime() - b.since.getTime());
    out.push({ site: site.site, timeZone: site.timeZone, clockedIn });
  }
  return out;
}

/** A punch as it reached central, for the Now page's feed. */
export interface RecentPunch {
  id: string;
  site: string;
  employeeNo: string;
  fullName: string;
  direction: 'in' | 'out';
  method: 'face' | 'pin';
  kiosk: string;
  punchedAt: Date;
  receivedAt: Date;
}

/** The latest punches central received that this login may read (row-level security decides which), or one person's. */
export async function recentPunches(client: pg.ClientBase, limit = 25, employeeNo?: string): Promise<RecentPunch[]> {
  const rows = await query<{
    id: string;
    site: string;
    employee_no: string;
    full_name: string;
    direction: 'in' | 'out';
    method: 'face' | 'pin';
    kiosk: string;
    punched_at: Date;
    received_at: Date;
  }>(
    client,
    `SELECT p.id::text, e.site, e.employee_no, e.full_name, p.direction, p.method, k.name AS kiosk, p.punched_at, p.received_at
     FROM punches p JOIN employees e ON e.id = p.employee_id JOIN kiosks k ON k.id = p.kiosk_id
     WHERE ($2::text IS NULL OR e.employee_no = $2)
     ORDER BY p.received_at DESC, p.id DESC LIMIT $1`,
    [limit, employeeNo ?? null],
  );
  return rows.map((r) => ({
    id: r.id,
    site: r.site,
    employeeNo: r.employee_no,
    fullName: r.full_name,
    direction: r.direction,
    method: r.method,
    kiosk: r.kiosk,
    punchedAt: r.punched_at,
    receivedAt: r.received_at,
  }));
}
