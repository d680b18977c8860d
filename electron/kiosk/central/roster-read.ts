import { ClockfaceError } from '../../../shared/errors.js';
import { createLogger } from '../../../shared/logger.js';
import { readRosterChanges, snapshotWatermark } from '../../central/roster-feed.js';
import type { CentralSession } from './session.js';
import { fromVectorSend } from './vector-bytes.js';

const log = createLogger('kiosk.central.roster');

export interface RosterEmployee {
  id: number;
  employee_no: string;
  full_name: string;
  site: string;
  pin_hash: string | null;
}

export interface RosterTemplate {
  id: number;
  employee_id: number;
  /** 512 bytes, little-endian float32: the kiosk's own storage format (converted from central's vector_send). */
  embedding: Buffer;
}

/** The kiosk's own site as people call it, and its time zone (the screen's clock and "today"). */
export type HomeSite = { name: string; timeZone: string } | null;

/** What one sync learned from central, gathered before anything is written on the kiosk. */
export interface RosterDelta {
  kind: 'snapshot' | 'incremental';
  sites: string[];
  /** Why a snapshot was taken (first sync, other model, feed pruned, too far behind), or null. */
  snapshotReason: string | null;
  changesRead: number;
  watermark: string;
  employees: RosterEmployee[];
  removedEmployeeIds: number[];
  templates: RosterTemplate[];
  removedTemplateIds: number[];
  /** Employees whose whole template set is `templates` (others keep templates not mentioned). */
  fullTemplateSets: number[];
  home: HomeSite;
}

/** What the read needs to know of the kiosk's cache (the store answers; the read never touches SQLite itself). */
export interface RosterCacheView {
  /** The watermark the cache is at, or null before the first sync. */
  watermark(): string | null;
  /** Why the cache needs a snapshot whatever central says (first sync, other model), or null. */
  snapshotReason(): string | null;
  /** The sites the cache was built for, sorted, or null. */
  servedSites(): string[] | null;
  holdsEmployee(id: number): boolean;
}

export interface RosterReadOptions {
  kioskId: number;
  modelId: string;
  /** Feed page size (rows); pages never split a transaction. */
  pageSize?: number;
  /** Beyond this many changes, a snapshot is cheaper than replaying them. */
  maxIncrementalChanges?: number;
  /** Templates per central round trip during a snapshot. */
  snapshotBatch?: number;
}

const EMPLOYEE_COLUMNS = 'e.id::int AS id, e.employee_no, e.full_name, e.site, e.pin_hash';
const TEMPLATE_COLUMNS = 't.id::int AS id, t.employee_id::int AS employee_id, vector_send(t.embedding) AS embedding';

/** The transaction id up to which central has started transactions now: "caught up" means the feed passed it. */
export async function rosterTarget(session: CentralSession): Promise<bigint> {
  const { rows } = await session.query<{ x: string }>('SELECT pg_snapshot_xmax(pg_current_snapshot())::text AS x');
  return BigInt(rows[0]?.x ?? '0');
}

/**
 * Everything one sync learns, read in ONE repeatable-read transaction on central (a consistent state, exactly as of
 * one snapshot): the served sites, the home site, then either the change feed since the cache's watermark resolved to
 * rows, or the whole roster. Throws on a network or central error.
 */
export async function readRosterDelta(session: CentralSession, cache: RosterCacheView, options: RosterReadOptions): Promise<RosterDelta> {
  await session.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  try {
    // The snapshot starts with the first statement: the watermark and every row below belong to it.
    const snapshotMark = await snapshotWatermark(session);
    const sites = await servedSites(session, options.kioskId);
    const home = await homeSite(session, options.kioskId);
    let reason = cache.snapshotReason();
    // A site added to this kiosk brings people whose changes the feed delivered long ago (or never, to us).
    if (reason === null && JSON.stringify(cache.servedSites()) !== JSON.stringify(sites)) reason = 'the sites this kiosk serves changed';
    let delta: Omit<RosterDelta, 'home'> | null = null;
    if (reason === null) {
      const incremental = await readIncremental(session, sites, cache, options);
      if (typeof incremental === 'string') reason = incremental;
      else delta = incremental;
    }
    delta ??= await readSnapshot(session, sites, snapshotMark, reason ?? 'requested', options);
    await session.query('COMMIT');
    return { ...delta, home };
  } catch (e) {
    await session.query('ROLLBACK').catch(() => undefined);
    throw e;
  }
}

async function servedSites(session: CentralSession, kioskId: number): Promise<string[]> {
  const { rows } = await session.query<{ site: string }>(
    `SELECT site FROM kiosks WHERE id = $1 AND revoked_at IS NULL
     UNION SELECT ks.site FROM kiosk_sites ks JOIN kiosks k ON k.id = ks.kiosk_id
     WHERE ks.kiosk_id = $1 AND k.revoked_at IS NULL`,
    [kioskId],
  );
  if (rows.length === 0) {
    throw new ClockfaceError('KIOSK_REFUSED', `central does not know kiosk ${kioskId}, or it was revoked`, {
      hint: 'Register it again with `clockface kiosk add` and run `clockface kiosk init` with the new settings.',
    });
  }
  return rows.map((r) => r.site).sort();
}

async function homeSite(session: CentralSession, kioskId: number): Promise<HomeSite> {
  const { rows } = await session.query<{ name: string; time_zone: string }>(
    'SELECT s.name, s.time_zone FROM sites s JOIN kiosks k ON k.site = s.code WHERE k.id = $1',
    [kioskId],
  );
  const row = rows[0];
  return row ? { name: row.name, timeZone: row.time_zone } : null;
}

async function employeesWhere(session: CentralSession, where: string, params: unknown[]): Promise<RosterEmployee[]> {
  return (await session.query<RosterEmployee>(`SELECT ${EMPLOYEE_COLUMNS} FROM employees e WHERE ${where}`, params)).rows;
}

async function templatesWhere(session: CentralSession, from: string, params: unknown[]): Promise<RosterTemplate[]> {
  const { rows } = await session.query<RosterTemplate>(`SELECT ${TEMPLATE_COLUMNS} FROM ${from}`, params);
  return rows.map((t) => ({ id: t.id, employee_id: t.employee_id, embedding: fromVectorSend(t.embedding) }));
}

async function readSnapshot(
  session: CentralSession,
  sites: string[],
  watermark: string,
  reason: string,
  options: RosterReadOptions,
): Promise<Omit<RosterDelta, 'home'>> {
  const employees = await employeesWhere(session, 'e.active AND e.erased_at IS NULL AND e.site = ANY($1) ORDER BY e.id', [sites]);
  const templates: RosterTemplate[] = [];
  const batch = options.snapshotBatch ?? 5_000;
  let after = 0;
  for (;;) {
    const page = await templatesWhere(
      session,
      `face_templates t JOIN employees e ON e.id = t.employee_id
       WHERE e.active AND e.erased_at IS NULL AND e.site = ANY($1) AND t.model_id = $2 AND t.id > $3 ORDER BY t.id LIMIT $4`,
      [sites, options.modelId, after, batch],
    );
    templates.push(...page);
    const last = page.at(-1);
    if (!last || page.length < batch) break;
    after = last.id;
  }
  return {
    kind: 'snapshot',
    sites,
    snapshotReason: reason,
    changesRead: 0,
    watermark,
    employees,
    removedEmployeeIds: [],
    templates,
    removedTemplateIds: [],
    fullTemplateSets: [],
  };
}

/** The feed since the cache's watermark: which employees and templates changed (ids only), or why to snapshot. */
async function readChangedIds(
  session: CentralSession,
  from: string,
  limit: number,
  pageSize: number,
): Promise<{ employees: Set<number>; templates: Map<number, number>; changesRead: number; watermark: string } | string> {
  let watermark = from;
  const employees = new Set<number>();
  const templates = new Map<number, number>(); // template id → employee id
  let changesRead = 0;
  // Inside one repeatable-read transaction the feed's upper bound is fixed, so this loop ends.
  for (;;) {
    const page = await readRosterChanges(session, watermark, pageSize);
    if (page.snapshotNeeded) return 'the change feed was pruned past this kiosk';
    for (const c of page.changes) {
      if (c.entity === 'employee') employees.add(c.employeeId);
      else if (c.templateId !== null) templates.set(c.templateId, c.employeeId);
    }
    changesRead += page.changes.length;
    if (changesRead > limit) return `more than ${limit} changes behind`;
    const advanced = page.nextWatermark !== watermark;
    watermark = page.nextWatermark;
    if (page.changes.length === 0 || !advanced) break;
  }
  return { employees, templates, changesRead, watermark };
}

/** The changes since the stored watermark, resolved to rows; or why a snapshot is needed instead. */
async function readIncremental(
  session: CentralSession,
  sites: string[],
  cache: RosterCacheView,
  options: RosterReadOptions,
): Promise<Omit<RosterDelta, 'home'> | string> {
  const changed = await readChangedIds(session, cache.watermark() ?? '0', options.maxIncrementalChanges ?? 50_000, options.pageSize ?? 10_000);
  if (typeof changed === 'string') return changed;
  const ACTIVE_HERE = 'e.active AND e.erased_at IS NULL AND e.site = ANY($2)';

  // Employees that changed: present and active at a served site → upsert with all their templates; else remove.
  const employeeIds = [...changed.employees];
  const employees = employeeIds.length ? await employeesWhere(session, `e.id = ANY($1) AND ${ACTIVE_HERE}`, [employeeIds, sites]) : [];
  const kept = new Set(employees.map((e) => e.id));
  const removedEmployeeIds = employeeIds.filter((id) => !kept.has(id));

  // Templates that changed, for employees not already reloaded in full.
  const loneTemplateIds = [...changed.templates.entries()].filter(([, emp]) => !changed.employees.has(emp)).map(([id]) => id);
  const loneTemplates = loneTemplateIds.length
    ? await templatesWhere(
        session,
        `face_templates t JOIN employees e ON e.id = t.employee_id WHERE t.id = ANY($1) AND ${ACTIVE_HERE} AND t.model_id = $3`,
        [loneTemplateIds, sites, options.modelId],
      )
    : [];
  const foundTemplates = new Set(loneTemplates.map((t) => t.id));
  const removedTemplateIds = loneTemplateIds.filter((id) => !foundTemplates.has(id));

  // A template of an employee this kiosk does not hold (a change it should have seen and did not, or a cache
  // repaired by hand): fetch that employee in full rather than store a template nobody owns.
  const orphanOwners = [...new Set(loneTemplates.map((t) => t.employee_id))].filter((id) => !kept.has(id) && !cache.holdsEmployee(id));
  if (orphanOwners.length > 0) {
    log.warn('roster change for an employee not in the cache; fetching the employee', { count: orphanOwners.length });
    for (const o of await employeesWhere(session, `e.id = ANY($1) AND ${ACTIVE_HERE}`, [orphanOwners, sites])) {
      employees.push(o);
      kept.add(o.id);
    }
  }
  const fullSets = [...kept];
  const fullTemplates = fullSets.length
    ? await templatesWhere(session, 'face_templates t WHERE t.employee_id = ANY($1) AND t.model_id = $2', [fullSets, options.modelId])
    : [];
  const fullIds = new Set(fullTemplates.map((t) => t.id));
  return {
    kind: 'incremental',
    sites,
    snapshotReason: null,
    changesRead: changed.changesRead,
    watermark: changed.watermark,
    employees,
    removedEmployeeIds,
    // Lone templates of owners neither held nor fetchable (inactive, another site) are not stored.
    templates: [...fullTemplates, ...loneTemplates.filter((t) => !fullIds.has(t.id) && cache.holdsEmployee(t.employee_id))],
    removedTemplateIds,
    fullTemplateSets: fullSets,
  };
}
