import type pg from 'pg';
import { ClockfaceError } from '../../shared/errors.js';
import {
  DAY_FLAGS,
  wallClockAt,
  type DayFlag,
  type EffectivePunch,
  type EmployeeTimesheet,
  type PunchCorrection,
  type PunchDirection,
  type PunchMethod,
  type PunchOrigin,
  type TimesheetDay,
  type TimesheetRules,
  type TimesheetTotals,
  type UnappliedReason,
  type WeekSchedule,
} from '../../shared/timesheet/index.js';
import { readSite, readSites } from './site-settings.js';
import { checkedPeriod, findEmployee, loadSiteTimesheets, type CorrectionRecord, type SiteTimesheets } from './timesheet-data.js';

/** An instant on the site's wall clock: `YYYY-MM-DD HH:MM`, with `:SS` when the seconds are not zero. */
export function localTime(at: Date, timeZone: string): string {
  const w = wallClockAt(at, timeZone);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${String(w.year).padStart(4, '0')}-${two(w.month)}-${two(w.day)} ${two(w.hour)}:${two(w.minute)}${w.second ? `:${two(w.second)}` : ''}`;
}

/** Minutes as h:mm (to the nearest minute); exact minutes are in `--json`. */
export function hoursMinutes(minutes: number): string {
  const whole = Math.round(minutes);
  const sign = whole < 0 ? '-' : '';
  const abs = Math.abs(whole);
  return `${sign}${Math.floor(abs / 60)}:${String(abs % 60).padStart(2, '0')}`;
}

/** A punch that counts on the day. */
export interface PunchView {
  id: string;
  direction: PunchDirection;
  at: string;
  /** `at` on the site's wall clock. */
  local: string;
  /** raw: as the kiosk recorded it; added: by a correction; moved: a kiosk punch at another time now. */
  origin: PunchOrigin;
  originalAt: string | null;
  originalLocal: string | null;
  /** null for a punch a correction added. */
  method: PunchMethod | null;
  matchDistance: number | null;
  kioskId: number | null;
  kiosk: string | null;
  /** The approved corrections that made it what it is (central's ids). */
  corrections: number[];
}

/** A punch an approved correction voided: shown on its day, counting for nothing. */
export interface VoidedPunchView {
  id: string;
  direction: PunchDirection;
  at: string;
  local: string;
  method: PunchMethod | null;
  kiosk: string | null;
  voidedBy: number;
}

export interface CorrectionView {
  id: number;
  kind: 'add' | 'move' | 'void';
  punchId: string;
  direction: PunchDirection | null;
  at: string | null;
  local: string | null;
  reason: string;
  status: 'approved' | 'pending' | 'rejected';
  requestedBy: string;
  requestedAt: string;
  decidedBy: string | null;
  decidedAt: string | null;
  decisionReason: string | null;
}

export interface DayView {
  day: string;
  /** The scheduled shift on the site's wall clock, if any. */
  scheduled: { start: string; end: string } | null;
  /** Paired time minus the automatic break (exact; a fraction when punches carry seconds). */
  workedMinutes: number;
  breakMinutes: number;
  /** What payroll is paid on: `regularMinutes + overtimeMinutes`. */
  roundedMinutes: number;
  regularMinutes: number;
  dailyOvertimeMinutes: number;
  weeklyOvertimeMinutes: number;
  overtimeMinutes: number;
  flags: DayFlag[];
  punches: PunchView[];
  voidedPunches: VoidedPunchView[];
  corrections: CorrectionView[];
}

export interface TimesheetView {
  employeeNo: string;
  fullName: string;
  site: string;
  timeZone: string;
  from: string;
  to: string;
  rules: TimesheetRules;
  secondApproval: boolean;
  schedule: WeekSchedule | null;
  days: DayView[];
  totals: TimesheetTotals;
  /** Approved corrections that changed nothing (the punch they name is not there, or voided already). */
  unappliedCorrections: Array<{ id: number; reason: UnappliedReason }>;
}

function correctionView(c: CorrectionRecord, timeZone: string): CorrectionView {
  return {
    id: c.id,
    kind: c.kind,
    punchId: c.punchId,
    direction: c.direction,
    at: c.at ? c.at.toISOString() : null,
    local: c.at ? localTime(c.at, timeZone) : null,
    reason: c.reason,
    status: c.status,
    requestedBy: c.requestedBy,
    requestedAt: c.requestedAt.toISOString(),
    decidedBy: c.decidedBy,
    decidedAt: c.decidedAt ? c.decidedAt.toISOString() : null,
    decisionReason: c.decisionReason,
  };
}

/** Shapes one employee's sheet for people and for `--json`: central's ids, wall-clock times, kiosk names. */
class SheetViewer {
  constructor(private readonly st: SiteTimesheets) {}

  private record(engineId: string): CorrectionRecord {
    const record = this.st.corrections.get(engineId);
    if (!record) throw new Error(`correction ${engineId} was not given to the engine`);
    return record;
  }

  private punch(p: EffectivePunch): PunchView {
    const tz = this.st.site.timeZone;
    const raw = this.st.punches.get(p.id);
    return {
      id: p.id,
      direction: p.direction,
      at: p.at.toISOString(),
      local: localTime(p.at, tz),
      origin: p.origin,
      originalAt: p.originalAt ? p.originalAt.toISOString() : null,
      originalLocal: p.originalAt ? localTime(p.originalAt, tz) : null,
      method: p.method,
      matchDistance: p.matchDistance,
      kioskId: p.kioskId,
      kiosk: raw?.kioskName ?? null,
      corrections: p.correctionIds.map((id) => this.record(id).id),
    };
  }

  /** The punch an approved void took away, at the time it had just before (after any earlier approved move). */
  private voided(c: PunchCorrection): VoidedPunchView | null {
    if (c.kind !== 'void' || c.status !== 'approved') return null;
    const voidId = this.record(c.id).id;
    const raw = this.st.punches.get(c.punchId);
    const added = this.st.corrections.get(c.punchId);
    let at = raw?.at ?? added?.at ?? null;
    const direction = raw?.direction ?? added?.direction ?? null;
    if (at === null || direction === null) return null;
    for (const m of this.st.corrections.values()) {
      if (m.kind === 'move' && m.punchId === c.punchId && m.status === 'approved' && m.id < voidId && m.at) at = m.at;
    }
    const tz = this.st.site.timeZone;
    return {
      id: c.punchId,
      direction,
      at: at.toISOString(),
      local: localTime(at, tz),
      method: raw?.method ?? null,
      kiosk: raw?.kioskName ?? null,
      voidedBy: voidId,
    };
  }

  day(d: TimesheetDay): DayView {
    const tz = this.st.site.timeZone;
    return {
      day: d.day,
      scheduled: d.scheduled ? { start: localTime(d.scheduled.start, tz), end: localTime(d.scheduled.end, tz) } : null,
      workedMinutes: d.workedMinutes,
      breakMinutes: d.breakMinutes,
      roundedMinutes: d.roundedMinutes,
      regularMinutes: d.regularMinutes,
      dailyOvertimeMinutes: d.dailyOvertimeMinutes,
      weeklyOvertimeMinutes: d.weeklyOvertimeMinutes,
      overtimeMinutes: d.overtimeMinutes,
      flags: d.flags,
      punches: d.punches.map((p) => this.punch(p)),
      voidedPunches: d.corrections.map((c) => this.voided(c)).filter((v): v is VoidedPunchView => v !== null),
      corrections: d.corrections.map((c) => correctionView(this.record(c.id), tz)),
    };
  }

  unapplied(employeeId: number): TimesheetView['unappliedCorrections'] {
    return this.st.sheets.unappliedCorrections
      .map(({ correction, reason }) => ({ record: this.record(correction.id), reason }))
      .filter(({ record }) => record.employeeId === employeeId)
      .map(({ record, reason }) => ({ id: record.id, reason }));
  }
}

/**
 * `clockface timesheet`: one employee's days over a period under their site's rules and schedule, with the
 * approved corrections applied and every correction shown.
 */
export async function employeeTimesheet(
  client: pg.ClientBase,
  employeeNo: string,
  range: { from: string; to: string; now?: Date },
): Promise<TimesheetView> {
  const period = checkedPeriod(range.from, range.to);
  const employee = await findEmployee(client, employeeNo);
  const site = await readSite(client, employee.site);
  const st = await loadSiteTimesheets(client, { site, period, employeeIds: [employee.id], ...(range.now ? { now: range.now } : {}) });
  const sheet = st.sheets.employees.find((s) => s.employeeId === employee.id);
  if (!sheet) throw new ClockfaceError('INTERNAL', `the timesheet engine gave no sheet for ${employeeNo}`);
  const viewer = new SheetViewer(st);
  return {
    employeeNo: employee.employeeNo,
    fullName: employee.fullName,
    site: site.site,
    timeZone: site.timeZone,
    from: period.from,
    to: period.to,
    rules: st.rules,
    secondApproval: site.secondApproval,
    schedule: st.schedules.get(employee.id) ?? null,
    days: sheet.days.map((d) => viewer.day(d)),
    totals: sheet.totals,
    unappliedCorrections: viewer.unapplied(employee.id),
  };
}

/** One employee's period for payroll: the engine's totals under their site's rules. */
export interface PayrollRow {
  employeeNo: string;
  fullName: string;
  site: string;
  daysWorked: number;
  workedMinutes: number;
  breakMinutes: number;
  regularMinutes: number;
  dailyOvertimeMinutes: number;
  weeklyOvertimeMinutes: number;
  overtimeMinutes: number;
  /** What is paid: regular + daily + weekly overtime (the rounded worked minutes). */
  totalMinutes: number;
  /** For each flag, the days carrying it. */
  flags: Record<DayFlag, number>;
  /** Approved corrections of this employee that changed nothing (see `clockface timesheet`). */
  unappliedCorrections: number;
}

/** Whether a sheet has anything in the period: paired or unpaired punches, a flag, a correction. */
function hasActivity(sheet: EmployeeTimesheet): boolean {
  return sheet.days.some((d) => d.intervals.length > 0 || d.flags.length > 0 || d.corrections.length > 0);
}

/**
 * `clockface report --payroll`: per employee, the period's days worked, regular, daily and weekly overtime and
 * total minutes and flag counts, each site under its own rules and schedules, with its approved corrections. The
 * same function (`loadSiteTimesheets`) as `clockface timesheet`, so the two always agree.
 */
export async function payrollReport(
  client: pg.ClientBase,
  range: { from: string; to: string; site?: string; now?: Date },
): Promise<PayrollRow[]> {
  const period = checkedPeriod(range.from, range.to);
  const sites = range.site === undefined ? await readSites(client) : [await readSite(client, range.site)];
  const rows: PayrollRow[] = [];
  for (const site of sites) {
    const st = await loadSiteTimesheets(client, { site, period, ...(range.now ? { now: range.now } : {}) });
    const viewer = new SheetViewer(st);
    for (const sheet of st.sheets.employees) {
      const who = st.employees.get(sheet.employeeId);
      if (!who || !hasActivity(sheet)) continue;
      const t = sheet.totals;
      rows.push({
        employeeNo: who.employeeNo,
        fullName: who.fullName,
        site: site.site,
        daysWorked: t.daysWorked,
        workedMinutes: t.workedMinutes,
        breakMinutes: t.breakMinutes,
        regularMinutes: t.regularMinutes,
        dailyOvertimeMinutes: t.dailyOvertimeMinutes,
        weeklyOvertimeMinutes: t.weeklyOvertimeMinutes,
        overtimeMinutes: t.overtimeMinutes,
        totalMinutes: t.roundedMinutes,
        flags: Object.fromEntries(DAY_FLAGS.map((f) => [f, t.flagDays[f]])) as Record<DayFlag, number>,
        unappliedCorrections: viewer.unapplied(sheet.employeeId).length,
      });
    }
  }
  return rows.sort((a, b) => a.employeeNo.localeCompare(b.employeeNo) || a.site.localeCompare(b.site));
}

/** One person's day under the site's rules, for the daily timesheet export. */
export interface DailyRow {
  employeeNo: string;
  fullName: string;
  site: string;
  day: string;
  /** The first IN and last OUT that count, on the site's wall clock (`YYYY-MM-DD HH:MM`). */
  firstIn: string | null;
  lastOut: string | null;
  workedMinutes: number;
  breakMinutes: number;
  regularMinutes: number;
  overtimeMinutes: number;
  paidMinutes: number;
  flags: DayFlag[];
}

/**
 * Every person's every day with something on it, under each site's rules and approved corrections: the same load as
 * the payroll export, one row per day instead of one per person.
 */
export async function dailyTimesheets(
  client: pg.ClientBase,
  range: { from: string; to: string; site?: string; now?: Date },
): Promise<DailyRow[]> {
  const period = checkedPeriod(range.from, range.to);
  const sites = range.site === undefined ? await readSites(client) : [await readSite(client, range.site)];
  const rows: DailyRow[] = [];
  for (const site of sites) {
    const st = await loadSiteTimesheets(client, { site, period, ...(range.now ? { now: range.now } : {}) });
    for (const sheet of st.sheets.employees) {
      const who = st.employees.get(sheet.employeeId);
      if (!who) continue;
      for (const d of sheet.days) {
        if (d.punches.length === 0 && d.flags.length === 0) continue;
        const firstIn = d.punches.find((p) => p.direction === 'in');
        const lastOut = d.punches.findLast((p) => p.direction === 'out');
        rows.push({
          employeeNo: who.employeeNo,
          fullName: who.fullName,
          site: site.site,
          day: d.day,
          firstIn: firstIn ? localTime(firstIn.at, site.timeZone) : null,
          lastOut: lastOut ? localTime(lastOut.at, site.timeZone) : null,
          workedMinutes: d.workedMinutes,
          breakMinutes: d.breakMinutes,
          regularMinutes: d.regularMinutes,
          overtimeMinutes: d.overtimeMinutes,
          paidMinutes: d.roundedMinutes,
          flags: d.flags,
        });
      }
    }
  }
  return rows.sort((a, b) => a.employeeNo.localeCompare(b.employeeNo) || a.day.localeCompare(b.day) || a.site.localeCompare(b.site));
}
