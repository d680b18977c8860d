import { createLogger } from '../../../shared/logger.js';
import type { CentralFailure, Refusal, UploadQueue } from '../upload-queue.js';
import type { KioskDatabase } from './kiosk-db.js';

const log = createLogger('kiosk.snapshots');

export interface QueuedSnapshot {
  punch_id: string;
  jpeg: Buffer;
}

/**
 * Audit snapshots waiting for central (only on kiosks configured to take them). A snapshot is due once its punch has
 * left the outbox (central's foreign key needs the punch first), and leaves the kiosk as soon as central holds it or
 * refuses it: the kiosk keeps no image longer than it must, least of all one of an erased person.
 */
export class SnapshotQueue implements UploadQueue<QueuedSnapshot> {
  readonly name = 'snapshots';

  key(item: QueuedSnapshot): string {
    return item.punch_id;
  }

  constructor(private readonly db: KioskDatabase) {}

  take(_now: Date, limit: number): QueuedSnapshot[] {
    return this.db
      .prepare(
        `SELECT s.punch_id, s.jpeg FROM punch_snapshots s
         WHERE NOT EXISTS (SELECT 1 FROM outbox o WHERE o.punch_id = s.punch_id) LIMIT ?`,
      )
      .all(limit) as QueuedSnapshot[];
  }

  complete(items: readonly QueuedSnapshot[]): void {
    this.remove(items.map((i) => i.punch_id));
  }

  /** An image central will not keep does not wait on the kiosk either. */
  refuse(refusals: ReadonlyArray<Refusal<QueuedSnapshot>>): void {
    for (const r of refusals) log.warn('central refused an audit snapshot; deleted here', { punchId: r.item.punch_id, code: r.code });
    this.remove(refusals.map((r) => r.item.punch_id));
  }

  /** No back-off of its own: snapshots go again at the next upload, after the punches (which do back off). */
  postpone(failure: CentralFailure): void {
    log.warn('audit snapshots not sent; kept for the next upload', { code: failure.code });
  }

  pending(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM punch_snapshots').get() as { n: number }).n;
  }

  /** Keeps a face punch's snapshot; false when that punch already has one. */
  add(punchId: string, jpeg: Buffer): boolean {
    return this.db.prepare('INSERT OR IGNORE INTO punch_snapshots (punch_id, jpeg) VALUES (?, ?)').run(punchId, jpeg).changes > 0;
  }

  private remove(ids: readonly string[]): void {
    const remove = this.db.prepare('DELETE FROM punch_snapshots WHERE punch_id = ?');
    this.db.transaction(() => {
      for (const id of ids) remove.run(id);
    })();
  }
}
