import type { ErrorCode } from '../../shared/errors.js';

/**
 * One failure talking to central, as the kiosk keeps it: the code (what the screen and `kiosk status` branch on),
 * central's or the socket's message (for IT and the log, never the screen), and when.
 */
export interface CentralFailure {
  code: ErrorCode;
  message: string;
  at: string;
}

/** A refused item and why: central answered, and said no to this one. */
export interface Refusal<Item> {
  item: Item;
  code: ErrorCode;
  message: string;
}

/**
 * What the kiosk sends to central, queued in its SQLite until central holds it: punches (store/outbox.ts) and audit
 * snapshots (store/snapshot-queue.ts) have this one shape, and drainQueue moves either.
 */
export interface UploadQueue<Item> {
  readonly name: 'punches' | 'snapshots';
  /** What identifies an item (its punch id). */
  key(item: Item): string;
  /** Up to `limit` items due at `now`, oldest first. */
  take(now: Date, limit: number): Item[];
  /** Central holds these (stored now, or before a crash): they leave the queue. */
  complete(items: readonly Item[]): void;
  /** Central refused these; each queue decides what that means (a punch waits for IT, a snapshot is deleted). */
  refuse(refusals: ReadonlyArray<Refusal<Item>>, now: Date): void;
  /** The whole batch failed (the link, a limit): what was due waits, each queue with its own back-off. */
  postpone(failure: CentralFailure, now: Date): void;
  /** Items waiting. */
  pending(): number;
}

/** What central did with one batch. */
export interface BatchOutcome<Item> {
  delivered: Item[];
  refused: Array<Refusal<Item>>;
  /** Of the delivered, how many central stored now (the rest it held already). */
  newlyStored: number;
}

/**
 * Sends a queue batch after batch until nothing is due: `send` delivers one batch (throwing when the whole batch
 * failed), and only after central answered does the queue forget what it holds. A crash between the two sends the
 * batch again, which central absorbs: never lost, never doubled. On a throw the due items are postponed and the
 * error is rethrown for the caller's status. Returns how many items central newly stored.
 */
export async function drainQueue<Item>(
  queue: UploadQueue<Item>,
  send: (batch: Item[]) => Promise<BatchOutcome<Item>>,
  options: { now: () => Date; batchSize: number; failure: (e: unknown) => CentralFailure },
): Promise<{ delivered: number; newlyStored: number }> {
  let delivered = 0;
  let newlyStored = 0;
  let refusedBefore = new Set<string>();
  for (;;) {
    const batch = queue.take(options.now(), options.batchSize);
    // Nothing due, or only what central just refused and the queue keeps due: the rest waits for the next upload.
    if (batch.length === 0 || batch.every((item) => refusedBefore.has(queue.key(item)))) return { delivered, newlyStored };
    let outcome: BatchOutcome<Item>;
    try {
      outcome = await send(batch);
    } catch (e) {
      queue.postpone(options.failure(e), options.now());
      throw e;
    }
    queue.complete(outcome.delivered);
    if (outcome.refused.length > 0) queue.refuse(outcome.refused, options.now());
    refusedBefore = new Set(outcome.refused.map((r) => queue.key(r.item)));
    delivered += outcome.delivered.length;
    newlyStored += outcome.newlyStored;
  }
}
