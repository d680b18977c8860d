import type { CentralLastPunch } from '../central/index.js';
import type { KioskDatabase } from './kiosk-db.js';
import { getMeta, setMeta } from './kiosk-meta.js';

/**
 * received_at is the inserting transaction's start time, and a slow transaction commits after faster, later ones;
 * re-reading this much before the cursor catches such punches. Re-reading is harmless (the later punch wins).
 */
const CURSOR_OVERLAP_MS = 5 * 60_000;

/** From when to ask central for last punches (the gateway's readLastPunches): the cursor, less the overlap. */
export function lastPunchesSince(db: KioskDatabase): Date {
  const cursor = getMeta(db, 'last_punch_cursor');
  return cursor === null ? new Date(0) : new Date(new Date(cursor).getTime() - CURSOR_OVERLAP_MS);
}

/**
 * Keeps the latest central punch of each employee in central_last_punches (someone who clocked in at another door
 * is clocked out here) and moves the cursor, in one transaction. Returns how many employees' last punches changed.
 */
export function storeCentralLastPunches(db: KioskDatabase, rows: readonly CentralLastPunch[]): number {
  const cursor = getMeta(db, 'last_punch_cursor');
  const upsert = db.prepare(
    `INSERT INTO central_last_punches (employee_id, direction, punched_at) VALUES (?, ?, ?)
     ON CONFLICT (employee_id) DO UPDATE SET direction = excluded.direction, punched_at = excluded.punched_at
     WHERE excluded.punched_at > central_last_punches.punched_at`,
  );
  let changed = 0;
  let newest = cursor === null ? 0 : new Date(cursor).getTime();
  db.transaction(() => {
    for (const r of rows) {
      changed += upsert.run(r.employeeId, r.direction, r.punchedAt.toISOString()).changes;
      newest = Math.max(newest, r.receivedAt.getTime());
    }
    setMeta(db, 'last_punch_cursor', new Date(newest).toISOString());
  })();
  return changed;
}
