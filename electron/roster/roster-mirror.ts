import type pg from 'pg';
import { ClockfaceError } from '../../shared/errors.js';
import { setActive } from './employee-admin.js';

/**
 * Mirror mode of the roster import: the file is HR's whole list for the sites it names, so the active employees of
 * those sites whom it does not name have left and are deactivated (never erased: punches and templates stay, and
 * `employee activate` undoes it). A truncated export would look like mass departure, so each site may lose at most a
 * share of its active employees unless IT overrides; over that, nothing at all is written.
 */

/** Default cap: a site may lose at most this share (%) of its active employees in one mirror import. */
export const DEFAULT_MIRROR_MAX_SHARE = 10;

export interface MirrorOptions {
  /** The cap, in % of each site's active employees (0 to 100). */
  maxSharePercent: number;
  /** Deactivate even over the cap (IT has checked the file is complete). */
  allowMassDeactivation: boolean;
}

export interface MirrorSite {
  site: string;
  /** Active employees of the site on central before the import. */
  active: number;
  deactivate: number;
  /** deactivate / active in %, one decimal. */
  sharePercent: number;
  overCap: boolean;
}

export interface MirrorDeactivation {
  employeeNo: string;
  fullName: string;
  site: string;
}

export interface MirrorSummary {
  maxSharePercent: number;
  allowMassDeactivation: boolean;
  /** Each of the file's sites that central has, by code. */
  sites: MirrorSite[];
  /** Who is (or, on a dry run or a refusal, would be) deactivated, by site and number. */
  deactivations: MirrorDeactivation[];
  /** Over the cap without the override: the apply writes nothing; a dry run says so here. */
  refused: boolean;
  /** How many were deactivated (0 on a dry run). */
  deactivated: number;
}

/**
 * What mirror mode would do: for each site the file names, its active employees whose numbers the file lacks.
 * `present` holds every number the file names, its failed rows included: a row refused for a bad photo or a typo in
 * the PIN still says the person works there, and must not cost them their job at the kiosk.
 */
export async function planMirror(
  client: pg.ClientBase,
  sites: ReadonlySet<string>,
  present: ReadonlySet<string>,
  options: MirrorOptions,
): Promise<MirrorSummary> {
  const { rows } = await client.query<{ employee_no: string; full_name: string; site: string }>(
    'SELECT employee_no, full_name, site FROM employees WHERE active AND site = ANY($1::text[]) ORDER BY site, employee_no',
    [[...sites]],
  );
  const bySite = new Map<string, { active: number; leaving: MirrorDeactivation[] }>();
  for (const r of rows) {
    const entry = bySite.get(r.site) ?? { active: 0, leaving: [] };
    entry.active++;
    if (!present.has(r.employee_no)) entry.leaving.push({ employeeNo: r.employee_no, fullName: r.full_name, site: r.site });
    bySite.set(r.site, entry);
  }
  const summarySites: MirrorSite[] = [...bySite.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([site, { active, leaving }]) => ({
      site,
      active,
      deactivate: leaving.length,
      sharePercent: Math.round((leaving.length / active) * 1000) / 10,
      // Compared in whole numbers of people: 10 % of 10 lets exactly one go.
      overCap: leaving.length * 100 > active * options.maxSharePercent,
    }));
  const overCap = summarySites.some((s) => s.overCap);
  return {
    maxSharePercent: options.maxSharePercent,
    allowMassDeactivation: options.allowMassDeactivation,
    sites: summarySites,
    deactivations: [...bySite.values()].flatMap((s) => s.leaving),
    refused: overCap && !options.allowMassDeactivation,
    deactivated: 0,
  };
}

/** The one line a refused mirror import fails with: each site over the cap, its count and share, and the override. */
export function mirrorRefusal(plan: MirrorSummary): ClockfaceError {
  const over = plan.sites
    .filter((s) => s.overCap)
    .map((s) => `${s.deactivate} of the ${s.active} active employees of site ${s.site} (${s.sharePercent} %)`)
    .join(', ');
  return new ClockfaceError(
    'MASS_DEACTIVATION_REFUSED',
    `mirror mode would deactivate ${over}, over the ${plan.maxSharePercent} % cap; nothing was written`,
    { hint: 'If the file is complete, run it again with --allow-mass-deactivation (or raise --mirror-max-share)' },
  );
}

/**
 * Deactivates the plan's people in one transaction, through the same `setActive` as `clockface employee deactivate`
 * (central's trigger writes an `employee.deactivated` audit row for each, under the login that ran the import).
 */
export async function applyMirror(client: pg.ClientBase, plan: MirrorSummary): Promise<number> {
  if (plan.deactivations.length === 0) return 0;
  await client.query('BEGIN');
  try {
    for (const d of plan.deactivations) await setActive(client, d.employeeNo, false);
    await client.query('COMMIT');
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  }
  return plan.deactivations.length;
}
