import { FACE_MODEL_ID } from '../../shared/face-model.js';
import { createLogger } from '../../shared/logger.js';
import { readLastPunches, readRosterDelta, type CentralSession } from './central/index.js';
import { systemClock, type KioskClock } from './kiosk-clock.js';
import type { KioskDatabase } from './store/kiosk-db.js';
import { lastPunchesSince, storeCentralLastPunches } from './store/central-last-punches.js';
import { RosterCache } from './store/roster-cache.js';
import type { VectorIndex, VectorRow } from './vector-index/index.js';

const log = createLogger('kiosk.sync');

/**
 * Roster sync: central's roster (the sites this kiosk serves) → the kiosk database → the vector index.
 *
 * All-or-nothing: everything a sync learns is read in ONE repeatable-read transaction on central (the gateway's
 * central/roster-read.ts) and written in ONE SQLite transaction together with the new watermark (the store's
 * store/roster-cache.ts). A process killed at any point leaves the previous roster whole. The vector index is derived
 * (see vector-index/index.ts): the same SQLite transaction queues its work in index_pending, applied after the
 * commit and again at the next open if the process died in between.
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
  /** Stamps last_sync_at (default: the machine's clock). */
  clock?: KioskClock;
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

export class RosterSync {
  private readonly modelId: string;
  readonly cache: RosterCache;

  constructor(
    db: KioskDatabase,
    private readonly index: VectorIndex,
    private readonly options: RosterSyncOptions,
  ) {
    this.modelId = options.modelId ?? FACE_MODEL_ID;
    this.cache = new RosterCache(db);
  }

  /**
   * One sync over `session` (the roster connection: the primary, or a read replica). Reads, then commits, then
   * brings the vector index up to date. Throws on a network or central error, having changed nothing locally.
   */
  async sync(session: CentralSession): Promise<SyncResult> {
    const delta = await readRosterDelta(session, this.cache.view(this.modelId), {
      kioskId: this.options.kioskId,
      modelId: this.modelId,
      ...(this.options.pageSize !== undefined ? { pageSize: this.options.pageSize } : {}),
      ...(this.options.maxIncrementalChanges !== undefined ? { maxIncrementalChanges: this.options.maxIncrementalChanges } : {}),
      ...(this.options.snapshotBatch !== undefined ? { snapshotBatch: this.options.snapshotBatch } : {}),
    });
    const applied = this.cache.apply(delta, this.modelId, (this.options.clock ?? systemClock).now());
    this.applyPendingIndexWork();
    const counts = this.counts();
    log.info('roster synced', { kind: delta.kind, changes: delta.changesRead, employees: counts.employees, templates: counts.templates });
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
    return this.cache.counts();
  }

  /** Why the next sync must be a snapshot, or null when the feed can be followed from the stored watermark. */
  snapshotReason(): string | null {
    return this.cache.snapshotReason(this.modelId);
  }

  /**
   * Brings the vector index up to the templates table: a full rebuild when one is flagged, else the queued
   * changes. Idempotent; run after every sync commit and whenever the kiosk database is opened.
   */
  applyPendingIndexWork(): { rebuilt: boolean; applied: number } {
    const work = this.cache.pendingIndexWork();
    if (work.rebuild) {
      this.index.rebuild(this.allRows());
      this.cache.indexWorkDone({ rebuilt: true });
      return { rebuilt: true, applied: 0 };
    }
    if (work.pending.length === 0) return { rebuilt: false, applied: 0 };
    const adds: VectorRow[] = [];
    const removes: number[] = [];
    for (const p of work.pending) {
      const blob = p.op === 'upsert' ? this.cache.templateBlob(p.template_id) : undefined;
      if (blob) adds.push({ templateId: p.template_id, descriptor: blobToDescriptor(blob) });
      else removes.push(p.template_id); // deleted, or upserted then deleted before the index caught up
    }
    // A changed template is removed and added again; removal first so that an add never meets a stale row.
    if (removes.length > 0) this.index.remove(removes);
    if (adds.length > 0) this.index.add(adds);
    this.cache.indexWorkDone({ rebuilt: false, applied: work.pending });
    return { rebuilt: false, applied: work.pending.length };
  }

  private *allRows(): Iterable<VectorRow> {
    for (const row of this.cache.allTemplates()) yield { templateId: row.id, descriptor: blobToDescriptor(row.embedding) };
  }
}

/** A 512-byte little-endian float32 blob as a descriptor (copied: the blob's buffer may be reused). */
export function blobToDescriptor(blob: Buffer): Float32Array {
  const out = new Float32Array(blob.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = blob.readFloatLE(i * 4);
  return out;
}

/**
 * Copies the latest central punch of each employee this kiosk serves, after corrections, into the kiosk
 * (store/central-last-punches.ts), so that someone who clocked in at another door is clocked out here and a
 * supervisor's fix changes what the kiosk does next. Returns how many last punches changed.
 */
export async function syncCentralLastPunches(
  db: KioskDatabase,
  session: CentralSession,
  kioskId: number,
  clock: KioskClock = systemClock,
): Promise<number> {
  return storeCentralLastPunches(db, await readLastPunches(session, kioskId, lastPunchesSince(db)), clock.now());
}
