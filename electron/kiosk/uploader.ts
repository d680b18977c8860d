import type pg from 'pg';
import { createLogger } from '../../shared/logger.js';
import type { KioskDatabase } from './kiosk-db.js';
import { pendingCount } from './punch-store.js';

const log = createLogger('kiosk.uploader');

export interface UploaderOptions {
  /** Central's kiosks.id of this kiosk (row-level security checks it on a real server). */
  kioskId: number;
  batchSize?: number;
  /** Back-off after a failed attempt: base × 2^attempts, capped, with jitter so that 50 kiosks do not retry in step. */
  backoffBaseMs?: number;
  backoffCapMs?: number;
  random?: () => number;
  now?: () => Date;
}

export interface UploadStatus {
  online: boolean;
  pending: number;
  /** Of the pending punches, those central itself refused at their last attempt (see refusedCount). */
  refused: number;
  lastUploadAt: Date | null;
  lastError: string | null;
  uploaded: number;
}

interface DueRow {
  id: string;
  employee_id: number;
  direction: 'in' | 'out';
  punched_at: string;
  method: 'face' | 'pin';
  match_distance: number | null;
  liveness: string;
  attempts: number;
}

/**
 * Sends the outbox to central in batches: one idempotent INSERT … ON CONFLICT (id) DO NOTHING per batch, and only
 * after central has committed are the outbox rows removed. A crash between the two sends the batch again, which
 * the conflict clause absorbs: never lost, never doubled.
 */
export class Uploader {
  private readonly status: Omit<UploadStatus, 'pending' | 'refused'> = { online: false, lastUploadAt: null, lastError: null, uploaded: 0 };

  constructor(
    private readonly db: KioskDatabase,
    private readonly options: UploaderOptions,
  ) {}

  getStatus(): UploadStatus {
    return { ...this.status, pending: pendingCount(this.db), refused: refusedCount(this.db) };
  }

  /** Records the outcome of another contact with central (a heartbeat), so that `online` reflects the latest. */
  noteContact(online: boolean, error: string | null = null): void {
    this.status.online = online;
    if (error !== null) this.status.lastError = error;
  }

  private now(): Date {
    return this.options.now?.() ?? new Date();
  }

  private backoffCap(): number {
    return this.options.backoffCapMs ?? 5 * 60_000;
  }

  /**
   * Latest next_attempt_at that is genuine at `now`. No back-off exceeds the cap, so an entry due later than
   * now + cap was scheduled by a clock that ran ahead (set a week forward, then corrected; or a punch made during
   * that week, whose first attempt is its punch time): it is due now. Without this a kiosk whose clock jumped
   * forward and back would hold its punches for a week.
   */
  private dueCondition(now: Date): { sql: string; params: [string, string] } {
    return {
      sql: '(o.next_attempt_at <= ? OR o.next_attempt_at > ?)',
      params: [now.toISOString(), new Date(now.getTime() + this.backoffCap()).toISOString()],
    };
  }

  /** Uploads every due punch, batch after batch. Returns how many central newly stored. Throws nothing. */
  async drain(connect: () => Promise<pg.ClientBase & { end(): Promise<void> }>): Promise<number> {
    const batchSize = this.options.batchSize ?? 500;
    let stored = 0;
    let client: (pg.ClientBase & { end(): Promise<void> }) | null = null;
    try {
      for (;;) {
        const when = this.dueCondition(this.now());
        const due = this.db
          .prepare(
            `SELECT p.id, p.employee_id, p.direction, p.punched_at, p.method, p.match_distance, p.liveness, o.attempts
             FROM outbox o JOIN punches p ON p.id = o.punch_id
             WHERE ${when.sql} ORDER BY p.punched_at LIMIT ?`,
          )
          .all(...when.params, batchSize) as DueRow[];
        if (due.length === 0) break;
        client ??= await connect();
        // No SQLite transaction is open while this network call runs.
        let accepted = due;
        let newlyStored: number;
        try {
          newlyStored = await insertPunches(client, due, this.options.kioskId);
        } catch (e) {
          if (!isRowRefusal(e)) throw e;
          // Central refused the data of some row (an employee deleted there by hand, a value out of range): the
          // whole statement failed. One bad row must not hold back every punch behind it forever, so the batch goes
          // again row by row; a refused row keeps its place in the outbox and is retried later (IT may repair
          // central), the others go through now.
          let refused: Array<{ row: DueRow; error: string }> = [];
          newlyStored = 0;
          for (const row of due) {
            try {
              newlyStored += await insertPunches(client, [row], this.options.kioskId);
            } catch (rowError) {
              if (!isRowRefusal(rowError)) throw rowError;
              refused.push({ row, error: (rowError as Error).message });
            }
          }
          // A punch central already holds (sent before a crash, refused now because the roster changed since) is
          // delivered, not refused: central checks the new row before it looks for the conflict.
          const held = await punchesCentralHolds(client, refused.map((r) => r.row.id));
          refused = refused.filter((r) => !held.has(r.row.id));
          accepted = due.filter((d) => !refused.some((r) => r.row.id === d.id));
          this.postponeRows(refused);
          for (const r of refused) log.warn('central refused a punch; kept for retry', { punchId: r.row.id, error: r.error });
        }
        const result = { rowCount: newlyStored };
        const remove = this.db.prepare('DELETE FROM outbox WHERE punch_id = ?');
        this.db.transaction(() => {
          for (const d of accepted) remove.run(d.id);
        })();
        stored += result.rowCount;
        this.status.uploaded += accepted.length;
        this.status.lastUploadAt = this.now();
        this.status.online = true;
        this.status.lastError = null;
      }
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      this.status.online = false;
      this.status.lastError = message;
      this.postpone(message);
      log.warn('upload failed; punches kept for retry', { error: message });
    } finally {
      await client?.end().catch(() => undefined);
    }
    return stored;
  }

  /** Rows central refused: retried after the longest back-off, each with central's reason kept for IT to see. */
  private postponeRows(refused: ReadonlyArray<{ row: DueRow; error: string }>): void {
    const update = this.db.prepare(
      'UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ?, refused_at = ? WHERE punch_id = ?',
    );
    const now = this.now();
    const at = new Date(now.getTime() + this.backoffCap()).toISOString();
    this.db.transaction(() => {
      for (const r of refused) update.run(at, r.error.slice(0, 500), now.toISOString(), r.row.id);
    })();
  }

  /** Moves every due entry's next attempt out by its back-off. */
  private postpone(error: string): void {
    const base = this.options.backoffBaseMs ?? 1_000;
    const cap = this.backoffCap();
    const random = this.options.random ?? Math.random;
    const now = this.now();
    const when = this.dueCondition(now);
    const due = this.db
      .prepare(`SELECT o.punch_id, o.attempts FROM outbox o WHERE ${when.sql}`)
      .all(...when.params) as Array<{ punch_id: string; attempts: number }>;
    const update = this.db.prepare('UPDATE outbox SET attempts = ?, next_attempt_at = ?, last_error = ? WHERE punch_id = ?');
    this.db.transaction(() => {
      for (const row of due) {
        const attempts = row.attempts + 1;
        const delay = Math.min(cap, base * 2 ** Math.min(attempts, 30)) * (0.5 + random() / 2);
        update.run(attempts, new Date(now.getTime() + delay).toISOString(), error.slice(0, 500), row.punch_id);
      }
    })();
  }
}

/** One INSERT for the rows; a punch central already holds (same id) is left as it is. Returns how many were new. */
async function insertPunches(client: pg.ClientBase, rows: readonly DueRow[], kioskId: number): Promise<number> {
  const result = await client.query(
    `INSERT INTO punches (id, employee_id, kiosk_id, direction, punched_at, method, match_distance, liveness)
     SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::bigint[], $4::text[], $5::timestamptz[], $6::text[],
                          $7::real[], $8::text[])
     ON CONFLICT (id) DO NOTHING`,
    [
      rows.map((d) => d.id),
      rows.map((d) => d.employee_id),
      rows.map(() => kioskId),
      rows.map((d) => d.direction),
      rows.map((d) => d.punched_at),
      rows.map((d) => d.method),
      rows.map((d) => d.match_distance),
      rows.map((d) => d.liveness),
    ],
  );
  return result.rowCount ?? 0;
}

/** The punches among `ids` that central already has (a kiosk reads its own punches there). */
async function punchesCentralHolds(client: pg.ClientBase, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const { rows } = await client.query<{ id: string }>('SELECT id::text FROM punches WHERE id = ANY($1::uuid[])', [ids]);
  return new Set(rows.map((r) => r.id));
}

/** Punches waiting in the outbox that central refused at their last attempt. */
export function refusedCount(db: KioskDatabase): number {
  return (db.prepare('SELECT count(*) AS n FROM outbox WHERE refused_at IS NOT NULL').get() as { n: number }).n;
}

/**
 * Central refused a row's data or the row itself, as opposed to the connection failing (which affects every row):
 * SQLSTATE class 22 (data exception, e.g. a time outside the window central accepts), 23 (integrity constraint, e.g.
 * an employee deleted there by hand), or 42501 (row-level security: an employee this kiosk may no longer punch,
 * deactivated, erased or moved to a site it does not serve). Tried row by row, so that one such punch cannot hold
 * back the others. A per-kiosk limit (CFL01) is not a refusal: the batch waits and goes later.
 */
export function isRowRefusal(e: unknown): boolean {
  const code = typeof e === 'object' && e !== null && 'code' in e ? String(e.code) : '';
  return /^2[23][0-9A-Z]{3}$/.test(code) || code === '42501';
}
