import { readFileSync, statSync } from 'node:fs';
import type pg from 'pg';
import { ClockfaceError } from '../../shared/errors.js';
import {
  DEFAULT_RULES,
  parseTimesheetRules,
  parseWeekSchedule,
  TimesheetInputError,
  TimesheetRulesError,
  timesheetRulesSchema,
  type TimesheetRules,
  type WeekSchedule,
} from '../../shared/timesheet/index.js';
import { query } from './central-call.js';

/** A site as the timesheet reads it: its zone, what central stores of its rules and schedule. */
export interface SiteRow {
  site: string;
  timeZone: string;
  /** site_rules.rules as stored, or null without a row (the default rules apply). */
  storedRules: unknown;
  /** The two-person rule (site_rules.second_approval; off without a row). */
  secondApproval: boolean;
  rulesUpdatedAt: Date | null;
  rulesUpdatedBy: string | null;
  /** site_schedules.schedule as stored, or null. */
  storedSchedule: unknown;
}

/** The sites (one, or every site the login may read), with their stored rules and schedules, by code. */
export async function readSites(client: pg.ClientBase, site?: string): Promise<SiteRow[]> {
  // Only code and time_zone of sites: a supervisor may read no other column.
  const rows = await query<{
    code: string;
    time_zone: string;
    rules: unknown;
    second_approval: boolean | null;
    updated_at: Date | null;
    updated_by: string | null;
    schedule: unknown;
  }>(
    client,
    `SELECT s.code, s.time_zone, r.rules, r.second_approval, r.updated_at, r.updated_by, sc.schedule
     FROM sites s LEFT JOIN site_rules r ON r.site = s.code LEFT JOIN site_schedules sc ON sc.site = s.code
     WHERE ($1::text IS NULL OR s.code = $1)
     ORDER BY s.code`,
    [site ?? null],
  );
  return rows.map((r) => ({
    site: r.code,
    timeZone: r.time_zone,
    storedRules: r.rules ?? null,
    secondApproval: r.second_approval ?? false,
    rulesUpdatedAt: r.updated_at,
    rulesUpdatedBy: r.updated_by,
    storedSchedule: r.schedule ?? null,
  }));
}

/** One site; SITE_NOT_FOUND when there is none (or the login may not see it). */
export async function readSite(client: pg.ClientBase, site: string): Promise<SiteRow> {
  const [row] = await readSites(client, site);
  if (!row) throw new ClockfaceError('SITE_NOT_FOUND', `no site "${site}"`);
  return row;
}

/**
 * The rules a site's timesheets are computed under: what central stores, or the default rules without a row. A
 * stored object the engine refuses (written by hand, or by an older build) is an error naming the site and each bad
 * field, never silently the defaults.
 */
export function effectiveRules(site: SiteRow): TimesheetRules {
  if (site.storedRules === null) return { ...DEFAULT_RULES, rounding: { ...DEFAULT_RULES.rounding } };
  try {
    // What central stores is laid over the defaults, as `rules set` lays a file over them: `rules set` always
    // stores every field, but a row written otherwise (`site_rules_set('a', '{}', true)` to turn on the two-person
    // rule alone) means the defaults for what it leaves out. A bad value or an unknown field is still an error.
    return parseTimesheetRules(overDefaults(site.storedRules));
  } catch (e) {
    if (!(e instanceof TimesheetRulesError)) throw e;
    throw new ClockfaceError('INVALID_ARGUMENT', `site ${site.site}'s stored rules are invalid: ${e.problems.join('; ')}`, {
      hint: `Set them again with \`clockface rules set --site ${site.site} FILE.json\`.`,
    });
  }
}

/** A rules object laid over the defaults (anything but an object is left for the parser to refuse). */
function overDefaults(value: unknown): unknown {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? { ...DEFAULT_RULES, ...value } : value;
}

/** A schedule central stores, checked; `who` names it in the error (`site hq's schedule`). */
export function storedSchedule(value: unknown, who: string, fix: string): WeekSchedule | null {
  if (value === null || value === undefined) return null;
  try {
    return parseWeekSchedule(value, who);
  } catch (e) {
    if (!(e instanceof TimesheetInputError)) throw e;
    throw new ClockfaceError('INVALID_ARGUMENT', `stored ${e.message}`, { hint: `Set it again with \`${fix}\`.` });
  }
}

/** The site's own schedule (null: none). */
export function siteSchedule(site: SiteRow): WeekSchedule | null {
  return storedSchedule(site.storedSchedule, `site ${site.site}'s schedule`, `clockface schedule set --site ${site.site} FILE.json`);
}

/** A rules or schedule file is small; anything larger is not one. */
const MAX_SETTINGS_FILE_BYTES = 1_000_000;

/** A JSON settings file: one object, read whole, every problem one clear line. */
export function readJsonObjectFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    const stat = statSync(path);
    if (!stat.isFile()) throw new ClockfaceError('INVALID_ARGUMENT', `${path} is not a regular file`);
    if (stat.size > MAX_SETTINGS_FILE_BYTES) throw new ClockfaceError('INVALID_ARGUMENT', `${path} is over 1 MB: not a settings file`);
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if (e instanceof ClockfaceError) throw e;
    throw new ClockfaceError('INVALID_ARGUMENT', `cannot read ${path}: ${(e as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (e) {
    throw new ClockfaceError('INVALID_ARGUMENT', `${path} is not JSON: ${(e as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ClockfaceError('INVALID_ARGUMENT', `${path} must hold one JSON object`);
  }
  return value as Record<string, unknown>;
}

/** A site's rules as `rules show` prints them. */
export interface SiteRulesView {
  site: string;
  timeZone: string;
  /** The rules in force: the stored ones, or the defaults. */
  rules: TimesheetRules;
  /** Whether the site has rules of its own (false: the defaults). */
  stored: boolean;
  /** The two-person rule: a correction needs a second login's approval. */
  secondApproval: boolean;
  updatedAt: string | null;
  updatedBy: string | null;
}

export function rulesView(site: SiteRow): SiteRulesView {
  return {
    site: site.site,
    timeZone: site.timeZone,
    rules: effectiveRules(site),
    stored: site.storedRules !== null,
    secondApproval: site.secondApproval,
    updatedAt: site.rulesUpdatedAt ? site.rulesUpdatedAt.toISOString() : null,
    updatedBy: site.rulesUpdatedBy,
  };
}

export async function showSiteRules(client: pg.ClientBase, site: string): Promise<SiteRulesView> {
  return rulesView(await readSite(client, site));
}

/**
 * Sets a site's rules from a file's object. The file names only the rules it changes: they are laid over the site's
 * current rules (`replace`: over the defaults, so that the file is the whole truth). `secondApproval`, when given,
 * turns the two-person rule on or off; when absent it stays as it is, even with `replace` (turning it off must be
 * said). Everything is checked before anything is written; central stores the complete rules.
 */
export async function setSiteRules(
  client: pg.ClientBase,
  site: string,
  file: { path: string; value: Record<string, unknown> },
  options: { replace?: boolean } = {},
): Promise<SiteRulesView> {
  const { secondApproval, ...given } = file.value;
  if (secondApproval !== undefined && typeof secondApproval !== 'boolean') {
    throw new ClockfaceError('INVALID_ARGUMENT', `invalid rules in ${file.path}: secondApproval must be true or false`);
  }
  const current = await readSite(client, site);
  const base: unknown = options.replace || current.storedRules === null ? DEFAULT_RULES : overDefaults(current.storedRules);
  const merged = { ...(typeof base === 'object' && base !== null ? base : {}), ...given };
  let rules: TimesheetRules;
  try {
    rules = parseTimesheetRules(merged);
  } catch (e) {
    if (!(e instanceof TimesheetRulesError)) throw e;
    // When the stored rules are bad themselves, a field the file did not give may be the culprit: say so.
    const storedBad = !options.replace && current.storedRules !== null && !timesheetRulesSchema.safeParse(overDefaults(current.storedRules)).success;
    throw new ClockfaceError('INVALID_ARGUMENT', `invalid rules in ${file.path}: ${e.problems.join('; ')}`, {
      ...(storedBad ? { hint: `Site ${site}'s stored rules are invalid too: give every field, or use --replace.` } : {}),
    });
  }
  await query(client, 'SELECT site_rules_set($1, $2::jsonb, $3)', [site, JSON.stringify(rules), secondApproval ?? current.secondApproval]);
  return showSiteRules(client, site);
}

/** Whose schedule: a site's (its employees' default) or one employee's (instead of the site's). */
export type ScheduleOwner = { site: string } | { employeeNo: string };

/** A schedule as `schedule show` prints it. */
export interface ScheduleView {
  site: string | null;
  employeeNo: string | null;
  /** The owner's own schedule (null: none). */
  schedule: WeekSchedule | null;
  /** For an employee: the schedule that applies (their own, else their site's, else none). */
  effective: WeekSchedule | null;
  /** Where the effective schedule comes from. */
  source: 'employee' | 'site' | 'none';
}

/**
 * Sets (or, with null, clears) a schedule after checking it with the engine's schema: each bad weekday or field is
 * named and nothing is written.
 */
export async function setSchedule(
  client: pg.ClientBase,
  owner: ScheduleOwner,
  file: { path: string; value: Record<string, unknown> } | null,
): Promise<ScheduleView> {
  let schedule: WeekSchedule | null = null;
  if (file) {
    try {
      schedule = parseWeekSchedule(file.value, `invalid schedule in ${file.path}`);
    } catch (e) {
      if (!(e instanceof TimesheetInputError)) throw e;
      throw new ClockfaceError('INVALID_ARGUMENT', e.message);
    }
  }
  const json = schedule === null ? null : JSON.stringify(schedule);
  if ('site' in owner) await query(client, 'SELECT site_schedule_set($1, $2::jsonb)', [owner.site, json]);
  else await query(client, 'SELECT employee_schedule_set($1, $2::jsonb)', [owner.employeeNo, json]);
  return showSchedule(client, owner);
}

export async function showSchedule(client: pg.ClientBase, owner: ScheduleOwner): Promise<ScheduleView> {
  if ('site' in owner) {
    const site = await readSite(client, owner.site);
    const schedule = siteSchedule(site);
    return { site: site.site, employeeNo: null, schedule, effective: schedule, source: schedule ? 'site' : 'none' };
  }
  const [row] = await query<{ site: string; schedule: unknown }>(
    client,
    `SELECT e.site, s.schedule FROM employees e LEFT JOIN employee_schedules s ON s.employee_id = e.id WHERE e.employee_no = $1`,
    [owner.employeeNo],
  );
  if (!row) throw new ClockfaceError('EMPLOYEE_NOT_FOUND', `no employee ${owner.employeeNo}`);
  const own = storedSchedule(
    row.schedule ?? null,
    `employee ${owner.employeeNo}'s schedule`,
    `clockface schedule set --employee ${owner.employeeNo} FILE.json`,
  );
  const ofSite = siteSchedule(await readSite(client, row.site));
  return {
    site: row.site,
    employeeNo: owner.employeeNo,
    schedule: own,
    effective: own ?? ofSite,
    source: own ? 'employee' : ofSite ? 'site' : 'none',
  };
}
