import type pg from 'pg';
import { ClockfaceError } from '../../shared/errors.js';
import { FACE_MODEL_ID } from '../../shared/face-model.js';
import { createLogger } from '../../shared/logger.js';
import { readRosterChanges, snapshotWatermark } from '../central/roster-feed.js';
import type { KioskDatabase } from './kiosk-db.js';
import { getMeta, setMeta } from './kiosk-meta.js';
import { fromVectorSend } from './vector-bytes.js';
import type { VectorIndex, VectorRow } from './vector-index/index.js';

const log = createLogger('kiosk.sync');

/**
 * Roster sync: central's roster (the sites this kiosk serves) → the kiosk database → the vector index.
 *
 * All-or-nothing: everything a sync learns is read in ONE repeatable-read transaction on central (a consistent
 * state, exactly as of one snapshot) and written in ONE SQLite transaction together with the new watermark. A
 * process killed at any point leaves the previous roster whole. The vector index is derived (see
 * vector-index/index.ts): the same SQLite transaction queues its work in index_pending, applied after the commit
 * and again at the next open if the process died in between.
 *
 * Nothing is applied while awaiting the network: rows are gathered first, then written synchronously, so a punch
 * recorded on the same connection can never end up inside (and be rolled back with) a sync transaction.
 */
export interface RosterSyncOptions {
  /** central kiosks.id */
  kioskId: number;
  /** The model the kiosk computes descriptors with; templates of other models are not synced. */
  modelId?: string;
  /** Feed page size (rows); pages never split a transaction. */
  pageSize?: number;
  /** Beyond this many changes, a snapshot is cheaper than replaying them. */
  maxIncrementalChanges?: number;
  /** Templates per central round trip during a snapshot. */
  snapshotBatch?: number;
}

export interface SyncResult {
  kind: 'snapshot' | 'incremental';
  /** Why a snapshot was taken (first sync, other model, feed pruned, too far behind), or null. */
  snapshotReason: string | null;
  changesRead: number;
  employeesUpserted: number;
  employeesRemoved: number;
  templatesUpserted: number;
  templatesRemoved: number;
  watermark: string;
  employees: number;
  templates: number;
}

interface EmployeeRow {
  id: number;
  employee_no: string;
  full_name: string;
  site: string;
  pin_hash: string | null;
}

interface TemplateRow {
  id: number;
  employee_id: number;
  embedding: Buffer;
}

/** The kiosk's own site as people call it, and its time zone (the screen's clock and "today"). */
type HomeSite = { name: string; timeZone: string } | null;

/** What one sync learned, gathered before anything is written. */
interface RosterDelta {
  kind: SyncResult['kind'];
  sites: string[];
  snapshotReason: string | null;
  changesRead: number;
  watermark: string;
  employees: EmployeeRow[];
  removedEmployeeIds: number[];
  templates: TemplateRow[];
  removedTemplateIds: number[];
  /** Employees whose whole template set is `templates` (others keep templates not mentioned). */
  fullTemplateSets: number[];
}

const EMPLOYEE_COLUMNS = 'e.id::int AS id, e.employee_no, e.full_name, e.site, e.pin_hash';
const TEMPLATE_COLUMNS = 't.id::int AS id, t.employee_id::int AS employee_id, vector_send(t.embedding) AS embedding';

export class RosterSync {
  private readonly modelId: string;

  constructor(
    private readonly db: KioskDatabase,
    private readonly index: VectorIndex,
    private readonly options: RosterSyncOptions,
  ) {
    this.modelId = options.modelId ?? FACE_MODEL_ID;
  }

  /**
   * One sync over `client` (the roster connection: the primary, or a read replica). Reads, then commits, then
   * brings the vector index up to date. Throws on a network or central error, having changed nothing locally.
   */
  async sync(client: pg.ClientBase): Promise<SyncResult> {
    const delta = await this.read(client);
    const applied = this.apply(delta);
    this.applyPendingIndexWork();
    const counts = this.counts();
    log.info('roster synced', {
      kind: delta.kind,
      changes: delta.changesRead,
      employees: counts.employees,
      templates: counts.templates,
    });
    return {
      kind: delta.kind,
      snapshotReason: delta.snapshotReason,
      changesRead: delta.changesRead,
      employeesUpserted: delta.employees.length,
      ...applied,
      watermark: delta.watermark,
      ...counts,
    };
  }

  counts(): { employees: number; templates: number } {
    const row = this.db
      .prepare('SELECT (SELECT count(*) FROM employees) AS employees, (SELECT count(*) FROM templates) AS templates')
      .get() as { employees: number; templates: number };
    return row;
  }

  /** Why the next sync must be a snapshot, or null when the feed can be followed from the stored watermark. */
  snapshotReason(): string | null {
    if (getMeta(this.db, 'roster_watermark') === null) return 'first sync';
    const model = getMeta(this.db, 'roster_model_id');
    if (model !== this.modelId) return `cache built for model ${String(model)}, kiosk uses ${this.modelId}`;
    return null;
  }

  private async read(client: pg.ClientBase): Promise<RosterDelta & { home: HomeSite }> {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    try {
      // The snapshot starts with the first statement: the watermark and every row below belong to it.
      const snapshotMark = await snapshotWatermark(client);
      const sites = await this.servedSites(client);
      const home = await this.homeSite(client);
      let reason = this.snapshotReason();
      // A site added to this kiosk brings people whose changes the feed delivered long ago (or never, to us).
      const storedSites = getMeta(this.db, 'served_sites');
      if (reason === null && storedSites !== JSON.stringify(sites)) reason = 'the sites this kiosk serves changed';
      let delta: RosterDelta | null = null;
      if (reason === null) {
        const incremental = await this.readIncremental(client, sites);
        if (typeof incremental === 'string') reason = incremental;
        else delta = incremental;
      }
      delta ??= await this.readSnapshot(client, sites, snapshotMark, reason ?? 'requested');
      await client.query('COMMIT');
      return { ...delta, home };
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    }
  }

  private async servedSites(client: pg.ClientBase): Promise<string[]> {
    const { rows } = await client.query<{ site: string }>(
      `SELECT site FROM kiosks WHERE id = $1 AND revoked_at IS NULL
       UNION SELECT ks.site FROM kiosk_sites ks JOIN kiosks k ON k.id = ks.kiosk_id
       WHERE ks.kiosk_id = $1 AND k.revoked_at IS NULL`,
      [this.options.kioskId],
    );
    if (rows.length === 0) {
      throw new ClockfaceError('KIOSK_REFUSED', `central does not know kiosk ${this.options.kioskId}, or it was revoked`, {
        hint: 'Register it again with `clockface kiosk add` and run `clockface kiosk init` with the new settings.',
      });
    }
    return rows.map((r) => r.site).sort();
  }

  private async homeSite(client: pg.ClientBase): Promise<HomeSite> {
    const { rows } = await client.query<{ name: string; time_zone: string }>(
      'SELECT s.name, s.time_zone FROM sites s JOIN kiosks k ON k.site = s.code WHERE k.id = $1',
      [this.options.kioskId],
    );
    const row = rows[0];
    return row ? { name: row.name, timeZone: row.time_zone } : null;
  }

  private async readSnapshot(client: pg.ClientBase, sites: string[], watermark: string, reason: string): Promise<RosterDelta> {
    const employees = await client.query<EmployeeRow>(
      `SELECT ${EMPLOYEE_COLUMNS} FROM employees e WHERE e.active AND e.erased_at IS NULL AND e.site = ANY($1) ORDER BY e.id`,
      [sites],
    );
    const templates: TemplateRow[] = [];
    const batch = this.options.snapshotBatch ?? 5_000;
    let after = 0;
    for (;;) {
      const page = await client.query<TemplateRow>(
        `SELECT ${TEMPLATE_COLUMNS} FROM face_templates t JOIN employees e ON e.id = t.employee_id
         WHERE e.active AND e.erased_at IS NULL AND e.site = ANY($1) AND t.model_id = $2 AND t.id > $3 ORDER BY t.id LIMIT $4`,
        [sites, this.modelId, after, batch],
      );
      templates.push(...page.rows);
      const last = page.rows.at(-1);
      if (!last || page.rows.length < batch) break;
      after = last.id;
    }
    return {
      kind: 'snapshot',
      sites,
      snapshotReason: reason,
      changesRead: 0,
      watermark,
      employees: employees.rows,
      removedEmployeeIds: [],
      templates,
      removedTemplateIds: [],
      fullTemplateSets: [],
    };
  }

  /** The changes since the stored watermark, resolved to rows; or why a snapshot is needed instead. */
  private async readIncremental(client: pg.ClientBase, sites: string[]): Promise<RosterDelta | string> {
    let watermark = getMeta(this.db, 'roster_watermark') ?? '0';
    const changedEmployees = new Set<number>();
    const changedTemplates = new Map<number, number>(); // template id → employee id
    let changesRead = 0;
    const limit = this.options.maxIncrementalChanges ?? 50_000;
    // Inside one repeatable-read transaction the feed's upper bound is fixed, so this loop ends.
    for (;;) {
      const page = await readRosterChanges(client, watermark, this.options.pageSize ?? 10_000);
      if (page.snapshotNeeded) return 'the change feed was pruned past this kiosk';
      for (const c of page.changes) {
        if (c.entity === 'employee') changedEmployees.add(c.employeeId);
        else if (c.templateId !== null) changedTemplates.set(c.templateId, c.employeeId);
      }
      changesRead += page.changes.length;
      if (changesRead > limit) return `more than ${limit} changes behind`;
      const advanced = page.nextWatermark !== watermark;
      watermark = page.nextWatermark;
      if (page.changes.length === 0 || !advanced) break;
    }

    // Employees that changed: present and active at a served site → upsert with all their templates; else remove.
    const employeeIds = [...changedEmployees];
    const employees = employeeIds.length
      ? (
          await client.query<EmployeeRow>(
            `SELECT ${EMPLOYEE_COLUMNS} FROM employees e WHERE e.id = ANY($1) AND e.active AND e.erased_at IS NULL AND e.site = ANY($2)`,
            [employeeIds, sites],
          )
        ).rows
      : [];
    const kept = new Set(employees.map((e) => e.id));
    const removedEmployeeIds = employeeIds.filter((id) => !kept.has(id));

    // Templates that changed, for employees not already reloaded in full.
    const loneTemplateIds = [...changedTemplates.entries()].filter(([, emp]) => !changedEmployees.has(emp)).map(([id]) => id);
    const loneTemplates = loneTemplateIds.length
      ? (
          await client.query<TemplateRow>(
            `SELECT ${TEMPLATE_COLUMNS} FROM face_templates t JOIN employees e ON e.id = t.employee_id
             WHERE t.id = ANY($1) AND e.active AND e.erased_at IS NULL AND e.site = ANY($2) AND t.model_id = $3`,
            [loneTemplateIds, sites, this.modelId],
          )
        ).rows
      : [];
    const foundTemplates = new Set(loneTemplates.map((t) => t.id));
    const removedTemplateIds = loneTemplateIds.filter((id) => !foundTemplates.has(id));

    // A template of an employee this kiosk does not hold (a change it should have seen and did not, or a cache
    // repaired by hand): fetch that employee in full rather than store a template nobody owns.
    const known = this.db.prepare('SELECT 1 FROM employees WHERE id = ?');
    const orphanOwners = [...new Set(loneTemplates.map((t) => t.employee_id))].filter((id) => !kept.has(id) && !known.get(id));
    if (orphanOwners.length > 0) {
      log.warn('roster change for an employee not in the cache; fetching the employee', { count: orphanOwners.length });
      const owners = await client.query<EmployeeRow>(
        `SELECT ${EMPLOYEE_COLUMNS} FROM employees e WHERE e.id = ANY($1) AND e.active AND e.erased_at IS NULL AND e.site = ANY($2)`,
        [orphanOwners, sites],
      );
      for (const o of owners.rows) {
        employees.push(o);
        kept.add(o.id);
      }
    }
    const fullSets = [...kept];
    const fullTemplates = fullSets.length
      ? (
          await client.query<TemplateRow>(
            `SELECT ${TEMPLATE_COLUMNS} FROM face_templates t WHERE t.employee_id = ANY($1) AND t.model_id = $2`,
            [fullSets, this.modelId],
          )
        ).rows
      : [];
    const fullIds = new Set(fullTemplates.map((t) => t.id));
    return {
      kind: 'incremental',
      sites,
      snapshotReason: null,
      changesRead,
      watermark,
      employees,
      removedEmployeeIds,
      // Lone templates of owners neither held nor fetchable (inactive, another site) are not stored.
      templates: [...fullTemplates, ...loneTemplates.filter((t) => !fullIds.has(t.id) && known.get(t.employee_id) !== undefined)],
      removedTemplateIds,
      fullTemplateSets: fullSets,
    };
  }

  /**
   * Writes one delta in one SQLite transaction: roster rows, template vectors, index work queue, watermark.
   * Returns what it removed (employees that were cached; templates that were cached, cascades included).
   */
  private apply(delta: RosterDelta & { home: HomeSite }): { employeesRemoved: number; templatesUpserted: number; templatesRemoved: number } {
    let employeesRemoved = 0;
    let templatesRemoved = 0;
    const db = this.db;
    const upsertEmployee = db.prepare(
      `INSERT INTO employees (id, employee_no, full_name, site, active, pin_hash) VALUES (?, ?, ?, ?, 1, ?)
       ON CONFLICT (id) DO UPDATE SET employee_no = excluded.employee_no, full_name = excluded.full_name,
         site = excluded.site, active = 1, pin_hash = excluded.pin_hash`,
    );
    const upsertTemplate = db.prepare(
      `INSERT INTO templates (id, employee_id, model_id, embedding) VALUES (?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET employee_id = excluded.employee_id, model_id = excluded.model_id,
         embedding = excluded.embedding`,
    );
    const queue = db.prepare(
      'INSERT INTO index_pending (template_id, op) VALUES (?, ?) ON CONFLICT (template_id) DO UPDATE SET op = excluded.op',
    );
    const templatesOf = db.prepare('SELECT id FROM templates WHERE employee_id = ?').pluck();
    const deleteTemplate = db.prepare('DELETE FROM templates WHERE id = ?');
    const deleteEmployee = db.prepare('DELETE FROM employees WHERE id = ?');
    // Audit images of someone the roster no longer gives this kiosk (erased, deactivated, moved away) go with them:
    // a kiosk offline during an erasure must not upload, or keep, images of that person.
    const deleteSnapshotsOf = db.prepare('DELETE FROM punch_snapshots WHERE punch_id IN (SELECT id FROM punches WHERE employee_id = ?)');

    db.transaction(() => {
      if (delta.kind === 'snapshot') {
        const newTemplates = new Set(delta.templates.map((t) => t.id));
        const newEmployees = new Set(delta.employees.map((e) => e.id));
        for (const id of db.prepare('SELECT id FROM templates').pluck().all() as number[]) if (!newTemplates.has(id)) templatesRemoved++;
        for (const id of db.prepare('SELECT id FROM employees').pluck().all() as number[]) if (!newEmployees.has(id)) employeesRemoved++;
        db.prepare('DELETE FROM templates').run();
        db.prepare('DELETE FROM employees').run();
        db.prepare(
          `DELETE FROM punch_snapshots WHERE punch_id IN
             (SELECT p.id FROM punches p WHERE p.employee_id NOT IN (SELECT value FROM json_each(?)))`,
        ).run(JSON.stringify([...newEmployees]));
        db.prepare('DELETE FROM index_pending').run();
        setMeta(db, 'index_rebuild', '1');
        // A snapshot also refreshes every central last punch.
        setMeta(db, 'last_punch_cursor', null);
      }
      const queueWork = delta.kind === 'incremental';
      for (const id of delta.removedEmployeeIds) {
        for (const t of templatesOf.all(id) as number[]) {
          queue.run(t, 'delete');
          templatesRemoved++;
        }
        employeesRemoved += deleteEmployee.run(id).changes; // templates go by ON DELETE CASCADE
        deleteSnapshotsOf.run(id);
      }
      for (const e of delta.employees) upsertEmployee.run(e.id, e.employee_no, e.full_name, e.site, e.pin_hash);
      const incoming = new Set(delta.templates.map((t) => t.id));
      for (const employeeId of delta.fullTemplateSets) {
        for (const t of templatesOf.all(employeeId) as number[]) {
          if (incoming.has(t)) continue;
          templatesRemoved += deleteTemplate.run(t).changes;
          queue.run(t, 'delete');
        }
      }
      for (const id of delta.removedTemplateIds) {
        templatesRemoved += deleteTemplate.run(id).changes;
        queue.run(id, 'delete');
      }
      for (const t of delta.templates) {
        upsertTemplate.run(t.id, t.employee_id, this.modelId, fromVectorSend(t.embedding));
        if (queueWork) queue.run(t.id, 'upsert');
      }
      setMeta(db, 'roster_watermark', delta.watermark);
      setMeta(db, 'roster_model_id', this.modelId);
      setMeta(db, 'served_sites', JSON.stringify(delta.sites));
      if (delta.home) {
        setMeta(db, 'site_name', delta.home.name);
        setMeta(db, 'site_time_zone', delta.home.timeZone);
      }
      setMeta(db, 'last_sync_at', new Date().toISOString());
    })();
    return { employeesRemoved, templatesUpserted: delta.templates.length, templatesRemoved };
  }

  /**
   * Brings the vector index up to the templates table: a full rebuild when one is flagged, else the queued
   * changes. Idempotent; run after every sync commit and whenever the kiosk database is opened.
   */
  applyPendingIndexWork(): { rebuilt: boolean; applied: number } {
    const db = this.db;
    if (getMeta(db, 'index_rebuild') === '1') {
      this.index.rebuild(this.templateRows('SELECT id, embedding FROM templates ORDER BY id'));
      db.transaction(() => {
        setMeta(db, 'index_rebuild', null);
        db.prepare('DELETE FROM index_pending').run();
      })();
      return { rebuilt: true, applied: 0 };
    }
    const pending = db.prepare('SELECT template_id, op FROM index_pending ORDER BY template_id').all() as Array<{
      template_id: number;
      op: 'upsert' | 'delete';
    }>;
    if (pending.length === 0) return { rebuilt: false, applied: 0 };
    const getVector = db.prepare('SELECT embedding FROM templates WHERE id = ?').pluck();
    const adds: VectorRow[] = [];
    const removes: number[] = [];
    for (const p of pending) {
      const blob = p.op === 'upsert' ? (getVector.get(p.template_id) as Buffer | undefined) : undefined;
      if (blob) adds.push({ templateId: p.template_id, descriptor: blobToDescriptor(blob) });
      else removes.push(p.template_id); // deleted, or upserted then deleted before the index caught up
    }
    // A changed template is removed and added again; removal first so that an add never meets a stale row.
    if (removes.length > 0) this.index.remove(removes);
    if (adds.length > 0) this.index.add(adds);
    const done = db.prepare('DELETE FROM index_pending WHERE template_id = ? AND op = ?');
    db.transaction(() => {
      for (const p of pending) done.run(p.template_id, p.op);
    })();
    return { rebuilt: false, applied: pending.length };
  }

  private *templateRows(sql: string): Iterable<VectorRow> {
    for (const row of this.db.prepare(sql).iterate() as Iterable<{ id: number; embedding: Buffer }>) {
      yield { templateId: row.id, descriptor: blobToDescriptor(row.embedding) };
    }
  }
}

/** A 512-byte little-endian float32 blob as a descriptor (copied: the blob's buffer may be reused). */
export function blobToDescriptor(blob: Buffer): Float32Array {
  const out = new Float32Array(blob.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = blob.readFloatLE(i * 4);
  return out;
}
