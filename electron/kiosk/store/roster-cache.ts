import type { RosterCacheView, RosterDelta } from '../central/index.js';
import type { KioskDatabase } from './kiosk-db.js';
import { getMeta, setMeta } from './kiosk-meta.js';

export interface CachedEmployee {
  id: number;
  employee_no: string;
  full_name: string;
  pin_hash: string | null;
}

/** What applying one delta removed (employees that were cached; templates that were cached, cascades included). */
export interface AppliedDelta {
  employeesRemoved: number;
  templatesUpserted: number;
  templatesRemoved: number;
}

/**
 * The kiosk's copy of the roster in SQLite (employees, templates, the index work queue and the sync state in
 * kiosk_meta): what a sync writes and what matching and the PIN pad read.
 */
export class RosterCache {
  /** Prepared once: ownerOf runs for every hit of every camera frame. */
  private readonly owner;

  constructor(private readonly db: KioskDatabase) {
    this.owner = db.prepare('SELECT employee_id FROM templates WHERE id = ?').pluck();
  }

  counts(): { employees: number; templates: number } {
    return this.db
      .prepare('SELECT (SELECT count(*) FROM employees) AS employees, (SELECT count(*) FROM templates) AS templates')
      .get() as { employees: number; templates: number };
  }

  /** The employee a template belongs to; undefined for a template a sync removed before the index caught up. */
  ownerOf(templateId: number): number | undefined {
    return this.owner.get(templateId) as number | undefined;
  }

  employee(id: number): CachedEmployee | undefined {
    return this.db.prepare('SELECT id, employee_no, full_name, pin_hash FROM employees WHERE id = ?').get(id) as CachedEmployee | undefined;
  }

  /**
   * The employee a typed number names: exactly as the roster spells it, or else the one number that differs only in
   * case ("raj-1" for "RAJ-1": people do not type capitals on a kiosk). Two roster numbers differing only in case
   * leave a case-folded entry naming nobody.
   */
  employeeByNumber(typed: string): CachedEmployee | undefined {
    const columns = 'SELECT id, employee_no, full_name, pin_hash FROM employees';
    const exact = this.db.prepare(`${columns} WHERE employee_no = ?`).get(typed) as CachedEmployee | undefined;
    if (exact) return exact;
    const folded = this.db.prepare(`${columns} WHERE employee_no = ? COLLATE NOCASE LIMIT 2`).all(typed) as CachedEmployee[];
    return folded.length === 1 ? folded[0] : undefined;
  }

  /** Where the cache stands, for the roster head watch behind a transaction pooler (central/watch.ts). */
  position(): { watermark: string | null; sites: string[] | null } {
    const sites = getMeta(this.db, 'served_sites');
    return { watermark: getMeta(this.db, 'roster_watermark'), sites: sites === null ? null : (JSON.parse(sites) as string[]) };
  }

  /** What the gateway's roster read needs to know of this cache. */
  view(modelId: string): RosterCacheView {
    const db = this.db;
    const holds = db.prepare('SELECT 1 FROM employees WHERE id = ?');
    return {
      watermark: () => getMeta(db, 'roster_watermark'),
      snapshotReason: () => this.snapshotReason(modelId),
      servedSites: () => this.position().sites,
      holdsEmployee: (id) => holds.get(id) !== undefined,
    };
  }

  /** Why the next sync must be a snapshot, or null when the feed can be followed from the stored watermark. */
  snapshotReason(modelId: string): string | null {
    if (getMeta(this.db, 'roster_watermark') === null) return 'first sync';
    const model = getMeta(this.db, 'roster_model_id');
    if (model !== modelId) return `cache built for model ${String(model)}, kiosk uses ${modelId}`;
    return null;
  }

  /**
   * Writes one delta in one SQLite transaction: roster rows, template vectors, index work queue, watermark, the home
   * site's name and zone, and `syncedAt`. A process killed at any point leaves the previous roster whole.
   */
  apply(delta: RosterDelta, modelId: string, syncedAt: Date): AppliedDelta {
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
        upsertTemplate.run(t.id, t.employee_id, modelId, t.embedding);
        if (queueWork) queue.run(t.id, 'upsert');
      }
      setMeta(db, 'roster_watermark', delta.watermark);
      setMeta(db, 'roster_model_id', modelId);
      setMeta(db, 'served_sites', JSON.stringify(delta.sites));
      if (delta.home) {
        setMeta(db, 'site_name', delta.home.name);
        setMeta(db, 'site_time_zone', delta.home.timeZone);
      }
      setMeta(db, 'last_sync_at', syncedAt.toISOString());
    })();
    return { employeesRemoved, templatesUpserted: delta.templates.length, templatesRemoved };
  }

  /** Asks for the vector index to be rebuilt from the templates table (another engine, a crash mid-rebuild). */
  requestIndexRebuild(): void {
    setMeta(this.db, 'index_rebuild', '1');
  }

  /** The index work a sync queued: a full rebuild, or the template ids to add (with their vectors) and remove. */
  pendingIndexWork(): { rebuild: true } | { rebuild: false; pending: Array<{ template_id: number; op: 'upsert' | 'delete' }> } {
    if (getMeta(this.db, 'index_rebuild') === '1') return { rebuild: true };
    const pending = this.db.prepare('SELECT template_id, op FROM index_pending ORDER BY template_id').all() as Array<{
      template_id: number;
      op: 'upsert' | 'delete';
    }>;
    return { rebuild: false, pending };
  }

  /** A template's stored vector (512 bytes), or undefined when it is gone. */
  templateBlob(id: number): Buffer | undefined {
    return this.db.prepare('SELECT embedding FROM templates WHERE id = ?').pluck().get(id) as Buffer | undefined;
  }

  /** Every template, in id order, for a rebuild. */
  allTemplates(): Iterable<{ id: number; embedding: Buffer }> {
    return this.db.prepare('SELECT id, embedding FROM templates ORDER BY id').iterate() as Iterable<{ id: number; embedding: Buffer }>;
  }

  /** The index caught up: clear the rebuild flag and the queue (after a rebuild), or the entries applied. */
  indexWorkDone(done: { rebuilt: true } | { rebuilt: false; applied: ReadonlyArray<{ template_id: number; op: 'upsert' | 'delete' }> }): void {
    const db = this.db;
    if (done.rebuilt) {
      db.transaction(() => {
        setMeta(db, 'index_rebuild', null);
        db.prepare('DELETE FROM index_pending').run();
      })();
      return;
    }
    const remove = db.prepare('DELETE FROM index_pending WHERE template_id = ? AND op = ?');
    db.transaction(() => {
      for (const p of done.applied) remove.run(p.template_id, p.op);
    })();
  }
}
