import type { ErrorCode } from '../../shared/errors.js';
import { createLogger } from '../../shared/logger.js';
import { centralErrorCode, isRowRefusal } from '../central/sql-errors.js';
import {
  insertPunches,
  withCycle,
  type CycleSession,
  punchesCentralHolds,
  sendSnapshot,
  type CentralSession,
  type OpenCentralSession,
  type PunchUpload,
} from './central/index.js';
import { systemClock, type KioskClock } from './kiosk-clock.js';
import type { KioskDatabase } from './store/kiosk-db.js';
import { PunchOutbox, type OutboxOptions } from './store/outbox.js';
import { SnapshotQueue, type QueuedSnapshot } from './store/snapshot-queue.js';
import { drainQueue, type BatchOutcome, type CentralFailure, type Refusal } from './upload-queue.js';

const log = createLogger('kiosk.uploader');

export interface UploaderOptions extends OutboxOptions {
  /** Central's kiosks.id of this kiosk (row-level security checks it on a real server). */
  kioskId: number;
  batchSize?: number;
  clock?: KioskClock;
}

/**
 * The kiosk's link to central as the screen and IT see it. `connected` says whether central could be reached the
 * last time the kiosk tried (the offline badge); what failed is kept apart: `uploadError` for punches, heartbeats and
 * snapshots, `downloadError` for the roster. A refusal of one item (a punch of someone deactivated, a snapshot of
 * someone erased) is that item's problem: it changes neither.
 */
export interface UploadStatus {
  connected: boolean;
  pending: number;
  /** Of the pending punches, those central itself refused at their last attempt. */
  refused: number;
  snapshotsPending: number;
  lastUploadAt: Date | null;
  uploadError: CentralFailure | null;
  downloadError: CentralFailure | null;
  uploaded: number;
}

/**
 * Codes that mean no working session with central could be had: the kiosk is offline. Anything else central said
 * (a limit, a refused statement) came over a working link.
 */
const LINK_DOWN: ReadonlySet<ErrorCode> = new Set([
  'CENTRAL_UNREACHABLE',
  'CENTRAL_TLS_FAILED',
  'CENTRAL_AUTH_FAILED',
  'CENTRAL_BUSY',
  'KIOSK_NOT_REGISTERED',
]);

/** A failure as the kiosk records it: code, message for IT, time on the kiosk clock. */
export function centralFailure(e: unknown, at: Date): CentralFailure {
  return { code: centralErrorCode(e), message: e instanceof Error ? e.message : String(e), at: at.toISOString() };
}

/**
 * Sends the kiosk's two queues to central (store/outbox.ts, store/snapshot-queue.ts) through drainQueue, and keeps
 * the status of the link. Punches: one idempotent INSERT … ON CONFLICT (id) DO NOTHING per batch, and only after
 * central has committed are the outbox rows removed; a crash between the two sends the batch again, which the
 * conflict clause absorbs: never lost, never doubled.
 */
export class Uploader {
  readonly punches: PunchOutbox;
  readonly snapshots: SnapshotQueue;
  private readonly clock: KioskClock;
  private readonly status: Omit<UploadStatus, 'pending' | 'refused' | 'snapshotsPending'> = {
    connected: false,
    lastUploadAt: null,
    uploadError: null,
    downloadError: null,
    uploaded: 0,
  };

  constructor(
    db: KioskDatabase,
    private readonly options: UploaderOptions,
  ) {
    this.punches = new PunchOutbox(db, options);
    this.snapshots = new SnapshotQueue(db);
    this.clock = options.clock ?? systemClock;
  }

  getStatus(): UploadStatus {
    return { ...this.status, pending: this.punches.pending(), refused: this.punches.refused(), snapshotsPending: this.snapshots.pending() };
  }

  /**
   * Another contact with central worked (a heartbeat): connected. A link failure recorded before is over; an error
   * central itself gave (a per-kiosk limit) stands until the punches go.
   */
  noteContact(): void {
    this.status.connected = true;
    if (this.status.uploadError && LINK_DOWN.has(this.status.uploadError.code)) this.status.uploadError = null;
  }

  /**
   * Something sent to central failed as a whole (a heartbeat, a drain): recorded; offline when the link is down,
   * connected when central itself answered (a limit, a refused statement: it was reached).
   */
  noteUploadFailure(e: unknown): CentralFailure {
    const failure = centralFailure(e, this.clock.now());
    this.status.uploadError = failure;
    this.status.connected = !LINK_DOWN.has(failure.code);
    return failure;
  }

  /**
   * The upload failure worth telling central about at a heartbeat: one central itself gave (a per-kiosk limit) stands
   * until the punches go; a link failure is over the moment central is reached, so saying it then would mislead IT.
   */
  standingUploadError(): ErrorCode | null {
    const error = this.status.uploadError;
    return error && !LINK_DOWN.has(error.code) ? error.code : null;
  }

  /** A roster sync failed (the roster may come from a replica: `connected` is the primary's, and stays). */
  noteDownload(error: unknown | null): void {
    this.status.downloadError = error === null ? null : centralFailure(error, this.clock.now());
  }

  /**
   * Uploads every due punch, batch after batch, on one session opened only when something is due: `sessions`, a
   * cycle's shared session (its owner closes it), or a way to open one (closed here). Returns how many central newly
   * stored. Throws nothing: a failure is in the status.
   */
  async drain(sessions: CycleSession | (() => Promise<OpenCentralSession>)): Promise<number> {
    let sent = false;
    try {
      const { newlyStored } = await withCycle(sessions, (cycle) =>
        drainQueue(
          this.punches,
          (batch) =>
            cycle.use((session) => {
              sent = true;
              return this.sendPunches(session, batch);
            }),
          {
            now: () => this.clock.now(),
            batchSize: this.options.batchSize ?? 500,
            failure: (e) => centralFailure(e, this.clock.now()),
          },
        ),
      );
      if (sent) this.delivered();
      return newlyStored;
    } catch (e) {
      const failure = this.noteUploadFailure(e);
      log.warn('upload failed; punches kept for retry', { code: failure.code, error: failure.message });
      return 0;
    }
  }

  /**
   * Sends the audit snapshots whose punch central holds, one per round trip (each leaves the kiosk as soon as central
   * answers for it). A refused snapshot is deleted and changes nothing else; a limit or a lost link leaves the rest
   * for the next upload and is recorded like any upload failure. Returns how many central stored.
   */
  async sendSnapshots(session: CentralSession): Promise<number> {
    try {
      const { newlyStored } = await drainQueue(this.snapshots, (batch) => this.sendSnapshotBatch(session, batch), {
        now: () => this.clock.now(),
        batchSize: 1,
        failure: (e) => centralFailure(e, this.clock.now()),
      });
      return newlyStored;
    } catch (e) {
      this.noteUploadFailure(e);
      return 0;
    }
  }

  private delivered(): void {
    this.status.lastUploadAt = this.clock.now();
    this.status.connected = true;
    this.status.uploadError = null;
  }

  private async sendPunches(session: CentralSession, batch: PunchUpload[]): Promise<BatchOutcome<PunchUpload>> {
    try {
      const newlyStored = await insertPunches(session, batch, this.options.kioskId);
      this.status.uploaded += batch.length;
      return { delivered: batch, refused: [], newlyStored };
    } catch (e) {
      if (!isRowRefusal(e)) throw e;
    }
    // Central refused the data of some row (an employee deleted there by hand, a value out of range): the whole
    // statement failed. One bad row must not hold back every punch behind it forever, so the batch goes again row by
    // row; a refused row keeps its place in the outbox and is retried later (IT may repair central), the others go
    // through now.
    let refused: Array<Refusal<PunchUpload>> = [];
    let newlyStored = 0;
    for (const row of batch) {
      try {
        newlyStored += await insertPunches(session, [row], this.options.kioskId);
      } catch (e) {
        if (!isRowRefusal(e)) throw e;
        refused.push({ item: row, code: centralErrorCode(e), message: e instanceof Error ? e.message : String(e) });
      }
    }
    // A punch central already holds (sent before a crash, refused now because the roster changed since) is
    // delivered, not refused: central checks the new row before it looks for the conflict.
    const held = await punchesCentralHolds(session, refused.map((r) => r.item.id));
    refused = refused.filter((r) => !held.has(r.item.id));
    for (const r of refused) log.warn('central refused a punch; kept for retry', { punchId: r.item.id, code: r.code, error: r.message });
    const delivered = batch.filter((d) => !refused.some((r) => r.item.id === d.id));
    this.status.uploaded += delivered.length;
    return { delivered, refused, newlyStored };
  }

  private async sendSnapshotBatch(session: CentralSession, batch: QueuedSnapshot[]): Promise<BatchOutcome<QueuedSnapshot>> {
    const outcome: BatchOutcome<QueuedSnapshot> = { delivered: [], refused: [], newlyStored: 0 };
    for (const s of batch) {
      const sent = await sendSnapshot(session, s.punch_id, s.jpeg);
      if (sent.kind === 'refused') outcome.refused.push({ item: s, code: 'CENTRAL_REFUSED', message: `SQLSTATE ${sent.sqlState}` });
      else {
        outcome.delivered.push(s);
        if (sent.kind === 'stored') outcome.newlyStored++;
      }
    }
    return outcome;
  }
}
