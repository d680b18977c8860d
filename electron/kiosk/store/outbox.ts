import type { PunchUpload } from '../central/index.js';
import type { CentralFailure, Refusal, UploadQueue } from '../upload-queue.js';
import type { KioskDatabase } from './kiosk-db.js';
import { pendingCount } from './punch-store.js';

export interface OutboxOptions {
  /** Back-off after a failed attempt: base × 2^attempts, capped, with jitter so that 50 kiosks do not retry in step. */
  backoffBaseMs?: number;
  backoffCapMs?: number;
  random?: () => number;
}

/**
 * The punches central does not hold yet (outbox rows beside their punches, written in the punch's own transaction:
 * store/punch-store.ts). Each row keeps its attempts, next attempt and last error; a row central refused keeps
 * `refused_at` until it goes through (IT may repair central) — see `refusedCount`.
 */
export class PunchOutbox implements UploadQueue<PunchUpload> {
  readonly name = 'punches';

  key(item: PunchUpload): string {
    return item.id;
  }

  constructor(
    private readonly db: KioskDatabase,
    private readonly options: OutboxOptions = {},
  ) {}

  get backoffCapMs(): number {
    return this.options.backoffCapMs ?? 5 * 60_000;
  }

  /**
   * Latest next_attempt_at that is genuine at `now`. No back-off exceeds the cap, so an entry due later than
   * now + cap was scheduled by a clock that ran ahead (set a week forward, then corrected; or a punch made during
   * that week, whose first attempt is its punch time): it is due now. Without this a kiosk whose clock jumped
   * forward and back would hold its punches for a week.
   */
  private due(now: Date): { sql: string; params: [string, string] } {
    return {
      sql: '(o.next_attempt_at <= ? OR o.next_attempt_at > ?)',
      params: [now.toISOString(), new Date(now.getTime() + this.backoffCapMs).toISOString()],
    };
  }

  take(now: Date, limit: number): PunchUpload[] {
    const when = this.due(now);
    return this.db
      .prepare(
        `SELECT p.id, p.employee_id, p.direction, p.punched_at, p.method, p.match_distance, p.liveness
         FROM outbox o JOIN punches p ON p.id = o.punch_id
         WHERE ${when.sql} ORDER BY p.punched_at LIMIT ?`,
      )
      .all(...when.params, limit) as PunchUpload[];
  }

  complete(items: readonly PunchUpload[]): void {
    const remove = this.db.prepare('DELETE FROM outbox WHERE punch_id = ?');
    this.db.transaction(() => {
      for (const d of items) remove.run(d.id);
    })();
  }

  /** Rows central refused: retried after the longest back-off, each with central's reason kept for IT to see. */
  refuse(refusals: ReadonlyArray<Refusal<PunchUpload>>, now: Date): void {
    const update = this.db.prepare(
      'UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ?, refused_at = ? WHERE punch_id = ?',
    );
    const at = new Date(now.getTime() + this.backoffCapMs).toISOString();
    this.db.transaction(() => {
      for (const r of refusals) update.run(at, r.message.slice(0, 500), now.toISOString(), r.item.id);
    })();
  }

  /** Moves every due entry's next attempt out by its back-off. */
  postpone(failure: CentralFailure, now: Date): void {
    const base = this.options.backoffBaseMs ?? 1_000;
    const cap = this.backoffCapMs;
    const random = this.options.random ?? Math.random;
    const when = this.due(now);
    const due = this.db
      .prepare(`SELECT o.punch_id, o.attempts FROM outbox o WHERE ${when.sql}`)
      .all(...when.params) as Array<{ punch_id: string; attempts: number }>;
    const update = this.db.prepare('UPDATE outbox SET attempts = ?, next_attempt_at = ?, last_error = ? WHERE punch_id = ?');
    this.db.transaction(() => {
      for (const row of due) {
        const attempts = row.attempts + 1;
        const delay = Math.min(cap, base * 2 ** Math.min(attempts, 30)) * (0.5 + random() / 2);
        update.run(attempts, new Date(now.getTime() + delay).toISOString(), failure.message.slice(0, 500), row.punch_id);
      }
    })();
  }

  pending(): number {
    return pendingCount(this.db);
  }

  /** Punches waiting that central refused at their last attempt. */
  refused(): number {
    return refusedCount(this.db);
  }

  /** When the oldest waiting punch was made (ISO), or null. */
  oldestPendingAt(): string | null {
    return (this.db.prepare('SELECT min(p.punched_at) AS t FROM outbox o JOIN punches p ON p.id = o.punch_id').get() as { t: string | null }).t;
  }
}

/** Punches waiting in the outbox that central refused at their last attempt. */
export function refusedCount(db: KioskDatabase): number {
  return (db.prepare('SELECT count(*) AS n FROM outbox WHERE refused_at IS NOT NULL').get() as { n: number }).n;
}
