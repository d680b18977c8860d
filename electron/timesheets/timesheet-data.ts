import type pg from 'pg';
import { ClockfaceError } from '../../shared/errors.js';
import {
  buildTimesheets,
  isTimesheetPeriod,
  punchReadWindow,
  TimesheetInputError,
  TimesheetRulesError,
  type CorrectionStatus,
  type EmployeeSchedule,
  type PunchCorrection,
  type PunchDirection,
  type PunchMethod,
  type RawPunch,
  type TimesheetPeriod,
  type TimesheetRules,
  type Timesheets,
  type WeekSchedule,
} from '../../shared/timesheet/index.js';
import { query } from './central-call.js';
import { effectiveRules, siteSchedule, storedSchedule, type SiteRow } from './site-settings.js';

/** An employee as a timesheet names them. */
export interface EmployeeRef {
  id: number;
  employeeNo: string;
  fullName: string;
  site: string;
  active: boolean;
}

/** A correction as central keeps it (punch_correction_status), with its decision. */
export interface CorrectionRecord {
  id: number;
  kind: 'add' | 'move' | 'void';
  employeeId: number;
  /** add: the punch it adds; move, void: the punch it changes. */
  punchId: string;
  direction: PunchDirection | null;
  at: Date | null;
  reason: string;
  requestedBy: string;
  requestedAt: Date;
  status: CorrectionStatus;
  decidedBy: string | null;
  decidedAt: Date | null;
  decisionReason: string | null;
}

/** A raw punch with the name of the kiosk that made it (null: a kiosk the login may not see, or none). */
export interface LoadedPunch extends RawPunch {
  kioskName: string | null;
}

/** One site's timesheets for a period, with what is needed to show them: the engine's output and its inputs. */
export interface SiteTimesheets {
  site: SiteRow;
  rules: TimesheetRules;
  period: TimesheetPeriod;
  /** The instants punches were read between (the engine's `punchReadWindow`). */
  window: { from: Date; to: Date };
  employees: ReadonlyMap<number, EmployeeRef>;
  /** Each employee's schedule as applied (their own, else the site's, else none). */
  schedules: ReadonlyMap<number, WeekSchedule | null>;
  punches: ReadonlyMap<string, LoadedPunch>;
  /** The corrections given to the engine, by the id the engine knows them by (see `engineCorrection`). */
  corrections: ReadonlyMap<string, CorrectionRecord>;
  sheets: Timesheets;
}

/** Which of a site's people: all of them, or some (by id). */
export interface TimesheetScope {
  site: SiteRow;
  period: TimesheetPeriod;
  employeeIds?: readonly number[];
  /** Rules instead of the site's own (`clockface report` without --payroll: the default rules). */
  rules?: TimesheetRules;
  /** Whether schedules apply (late, left early, absent); `clockface report` without --payroll ignores them. */
  schedules?: boolean;
  now?: Date;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Checks a period given on the command line. */
export function checkedPeriod(from: string, to: string): TimesheetPeriod {
  const period = { from, to };
  if (!DATE.test(from) || !DATE.test(to) || !isTimesheetPeriod(period)) {
    throw new ClockfaceError('INVALID_ARGUMENT', 'dates are YYYY-MM-DD, with --from not after --to');
  }
  return period;
}

/**
 * The correction as the engine takes it. An add's id is the punch it adds (so that a later move or void of that
 * punch, which names it by that id, finds it); a move's or void's is central's correction id.
 */
export function engineCorrection(c: CorrectionRecord): PunchCorrection {
  const id = c.kind === 'add' ? c.punchId : String(c.id);
  if (c.kind === 'add') {
    return { id, kind: 'add', employeeId: c.employeeId, direction: c.direction ?? 'in', at: c.at ?? new Date(Number.NaN), reason: c.reason, status: c.status };
  }
  if (c.kind === 'move') return { id, kind: 'move', punchId: c.punchId, at: c.at ?? new Date(Number.NaN), reason: c.reason, status: c.status };
  return { id, kind: 'void', punchId: c.punchId, reason: c.reason, status: c.status };
}

/** The engine's id of a correction (see `engineCorrection`). */
export function engineCorrectionId(c: CorrectionRecord): string {
  return c.kind === 'add' ? c.punchId : String(c.id);
}

/**
 * The one way every timesheet output is made (`clockface timesheet`, `report --payroll`, and `report`, which
 * passes the default rules): a site's rules and schedules, the raw punches of its people over the engine's read
 * window, every correction that touches them whatever its status, through `buildTimesheets`.
 *
 * Which punches and corrections: the raw punches in the window, and the punches an add or a move puts in it (a
 * punch moved in from outside the window is read too); then every correction naming any of those punches, in the
 * order central created them. Reading more than the window never changes a day of the period (period.ts).
 */
export async function loadSiteTimesheets(client: pg.ClientBase, scope: TimesheetScope): Promise<SiteTimesheets> {
  const { site, period } = scope;
  const rules = scope.rules ?? effectiveRules(site);
  const window = engineCall(() => punchReadWindow(period, rules, site.timeZone));
  const ids = scope.employeeIds ? scope.employeeIds.map(String) : null;

  const employees = new Map(
    (
      await query<{ id: string; employee_no: string; full_name: string; site: string; active: boolean }>(
        client,
        `SELECT e.id::text, e.employee_no, e.full_name, e.site, e.active FROM employees e
         WHERE e.site = $1 AND ($2::bigint[] IS NULL OR e.id = ANY ($2::bigint[]))`,
        [site.site, ids],
      )
    ).map((r) => [Number(r.id), { id: Number(r.id), employeeNo: r.employee_no, fullName: r.full_name, site: r.site, active: r.active }] as const),
  );
  // The punches in play: raw punches in the window, and punches a move puts in it (an add's punch exists only as its
  // correction). Two branches that cannot overlap, UNION ALL, no ORDER BY: the engine sorts (pair-punches.ts), and
  // de-duplicating or sorting a month of a large site's punches on central cost seconds (work_mem spills to disk).
  // Times travel as whole epoch milliseconds (what a JS Date holds): parsing 400,000 timestamptz strings cost seconds.
  const inScope = `SELECT e.id FROM employees e WHERE e.site = $1 AND ($2::bigint[] IS NULL OR e.id = ANY ($2::bigint[]))`;
  const movedIn = `SELECT c.punch_id FROM punch_corrections c
                   WHERE c.employee_id IN (${inScope}) AND c.kind IN ('add', 'move') AND c.at BETWEEN $3 AND $4`;
  const params = [site.site, ids, window.from, window.to];
  const punchColumns = `p.id::text, p.employee_id::text, p.direction, floor(extract(epoch FROM p.punched_at) * 1000)::float8 AS at_ms,
                        p.method, p.match_distance, p.kiosk_id::text, k.name AS kiosk_name`;
  const punchRows = await query<{
    id: string;
    employee_id: string;
    direction: PunchDirection;
    at_ms: number;
    method: PunchMethod;
    match_distance: number | null;
    kiosk_id: string | null;
    kiosk_name: string | null;
  }>(
    client,
    `SELECT ${punchColumns} FROM punches p LEFT JOIN kiosks k ON k.id = p.kiosk_id
     WHERE p.employee_id IN (${inScope}) AND p.punched_at BETWEEN $3 AND $4
     UNION ALL
     SELECT ${punchColumns} FROM punches p LEFT JOIN kiosks k ON k.id = p.kiosk_id
     WHERE p.id IN (${movedIn}) AND NOT (p.employee_id IN (${inScope}) AND p.punched_at BETWEEN $3 AND $4)`,
    params,
  );
  // Every correction naming a punch in play (raw in the window, or put in it by an add or a move): a handful per
  // site, each found through the punch's primary key.
  const correctionRows = await query<{
    id: string;
    kind: 'add' | 'move' | 'void';
    employee_id: string;
    punch_id: string;
    direction: PunchDirection | null;
    at: Date | null;
    reason: string;
    requested_by: string;
    requested_at: Date;
    status: CorrectionStatus;
    decided_by: string | null;
    decided_at: Date | null;
    decision_reason: string | null;
  }>(
    client,
    `SELECT c.id::text, c.kind, c.employee_id::text, c.punch_id::text, c.direction, c.at, c.reason, c.requested_by,
            c.requested_at, c.status, c.decided_by, c.decided_at, c.decision_reason
     FROM punch_correction_status c
     WHERE EXISTS (SELECT 1 FROM punches p WHERE p.id = c.punch_id AND p.employee_id IN (${inScope}) AND p.punched_at BETWEEN $3 AND $4)
        OR c.punch_id IN (${movedIn})
     ORDER BY c.id`,
    params,
  );

  const punches = new Map<string, LoadedPunch>();
  for (const r of punchRows) {
    punches.set(r.id, {
      id: r.id,
      employeeId: Number(r.employee_id),
      direction: r.direction,
      at: new Date(r.at_ms),
      method: r.method,
      matchDistance: r.match_distance,
      kioskId: r.kiosk_id === null ? null : Number(r.kiosk_id),
      kioskName: r.kiosk_name,
    });
  }
  const corrections = new Map<string, CorrectionRecord>();
  for (const r of correctionRows) {
    const record: CorrectionRecord = {
      id: Number(r.id),
      kind: r.kind,
      employeeId: Number(r.employee_id),
      punchId: r.punch_id,
      direction: r.direction,
      at: r.at,
      reason: r.reason,
      requestedBy: r.requested_by,
      requestedAt: r.requested_at,
      status: r.status,
      decidedBy: r.decided_by,
      decidedAt: r.decided_at,
      decisionReason: r.decision_reason,
    };
    corrections.set(engineCorrectionId(record), record);
  }

  // Schedules: everyone active, and anyone else with a punch or a correction (so that late and left early show).
  const schedules = new Map<number, WeekSchedule | null>();
  if (scope.schedules !== false) {
    const ofSite = siteSchedule(site);
    const own = new Map<number, unknown>(
      (
        await query<{ employee_id: string; schedule: unknown }>(
          client,
          `SELECT s.employee_id::text, s.schedule FROM employee_schedules s JOIN employees e ON e.id = s.employee_id
           WHERE e.site = $1 AND ($2::bigint[] IS NULL OR e.id = ANY ($2::bigint[]))`,
          [site.site, ids],
        )
      ).map((r) => [Number(r.employee_id), r.schedule]),
    );
    const concerned = new Set<number>([...punches.values()].map((p) => p.employeeId));
    for (const c of corrections.values()) concerned.add(c.employeeId);
    for (const employee of employees.values()) {
      // (Whoever was asked for by id is always reported: a timesheet of someone deactivated is still a timesheet.)
      if (!employee.active && !concerned.has(employee.id) && !scope.employeeIds) continue;
      const mine = own.has(employee.id)
        ? storedSchedule(own.get(employee.id), `employee ${employee.employeeNo}'s schedule`, `clockface schedule set --employee ${employee.employeeNo} FILE.json`)
        : null;
      schedules.set(employee.id, mine ?? ofSite);
    }
  }
  const request = {
    timeZone: site.timeZone,
    period,
    now: scope.now ?? new Date(),
    rules,
    punches: [...punches.values()].map(({ kioskName: _, ...raw }) => raw),
    corrections: [...corrections.values()].map(engineCorrection),
    employees: [...schedules].map(([employeeId, schedule]): EmployeeSchedule => ({ employeeId, schedule })),
  };
  const sheets = engineCall(() => buildTimesheets(request));
  return { site, rules, period, window, employees, schedules, punches, corrections, sheets };
}

/** The engine's refusals as one clear line (an unknown zone in the sites table, bad stored rules). */
function engineCall<T>(run: () => T): T {
  try {
    return run();
  } catch (e) {
    if (e instanceof TimesheetRulesError) throw new ClockfaceError('INVALID_ARGUMENT', e.message);
    if (e instanceof TimesheetInputError) throw new ClockfaceError('INVALID_ARGUMENT', e.message);
    throw e;
  }
}

/** An employee by number, with their site; EMPLOYEE_NOT_FOUND when there is none the login may see. */
export async function findEmployee(client: pg.ClientBase, employeeNo: string): Promise<EmployeeRef & { timeZone: string }> {
  const [row] = await query<{ id: string; employee_no: string; full_name: string; site: string; active: boolean; time_zone: string }>(
    client,
    `SELECT e.id::text, e.employee_no, e.full_name, e.site, e.active, s.time_zone
     FROM employees e JOIN sites s ON s.code = e.site WHERE e.employee_no = $1`,
    [employeeNo],
  );
  if (!row) {
    throw new ClockfaceError('EMPLOYEE_NOT_FOUND', `no employee ${employeeNo}`, {
      hint: 'A supervisor sees only the employees of the sites it oversees.',
    });
  }
  return { id: Number(row.id), employeeNo: row.employee_no, fullName: row.full_name, site: row.site, active: row.active, timeZone: row.time_zone };
}
