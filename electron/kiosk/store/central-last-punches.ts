import type { CentralLastPunch } from '../central/index.js';
import type { KioskDatabase } from './kiosk-db.js';
import { getMeta, setMeta } from './kiosk-meta.js';

/**
 * A punch is received (or a correction decided) at its transaction's clock, and a slow transaction commits after
 * faster, later ones; re-reading this much before the cursor catches them. Re-reading is harmless.
 */
const CURSOR_OVERLAP_MS = 5 * 60_000;

/** From when to ask central for last punches (the gateway's readLastPunches): the cursor, less the overlap. */
export function lastPunchesSince(db: KioskDatabase): Date {
  const cursor = getMeta(db, 'last_punch_cursor');
  return cursor === null ? new Date(0) : new Date(new Date(cursor).getTime() - CURSOR_OVERLAP_MS);
}

/**
 * Keeps the latest central punch of each employee in central_last_punches (someone who clocked in at another door
 * is clocked out here) and moves the cursor, in one transaction. A raw answer counts only when it is later than what
 * the kiosk holds (a re-read or a lagging replica must not step back); an answer from corrections replaces it, and
 * marks this kiosk's own punches that a correction voided or moved as superseded. Returns how many employees' last
 * punches changed.
 */
export function storeCentralLastPunches(db: KioskDatabase, rows: readonly CentralLastPunch[], now: Date): number {
  const cursor = getMeta(db, 'last_punch_cursor');
  const newerWins = db.prepare(
    `INSERT INTO central_last_punches (employee_id, direction, punched_at) VALUES (?, ?, ?)
     ON CONFLICT (employee_id) DO UPDATE SET direction = excluded.direction, punched_at = excluded.punched_at
     WHERE excluded.punched_at > central_last_punches.punched_at`,
  );
  const replace = db.prepare(
    `INSERT INTO central_last_punches (employee_id, direction, punched_at) VALUES (?, ?, ?)
     ON CONFLICT (employee_id) DO UPDATE SET direction = excluded.direction, punched_at = excluded.punched_at
     WHERE excluded.direction IS NOT central_last_punches.direction OR excluded.punched_at IS NOT central_last_punches.punched_at`,
  );
  const forget = db.prepare('DELETE FROM central_last_punches WHERE employee_id = ?');
  const supersede = db.prepare('UPDATE punches SET superseded_at = ? WHERE id = ? AND employee_id = ? AND superseded_at IS NULL');
  let changed = 0;
  let newest = cursor === null ? 0 : new Date(cursor).getTime();
  db.transaction(() => {
    for (const r of rows) {
      let n = 0;
      if (r.direction === null || r.punchedAt === null) n = r.corrected ? forget.run(r.employeeId).changes : 0;
      else n = (r.corrected ? replace : newerWins).run(r.employeeId, r.direction, r.punchedAt.toISOString()).changes;
      for (const id of r.superseded) n += supersede.run(now.toISOString(), id, r.employeeId).changes;
      if (n > 0) changed++;
      newest = Math.max(newest, r.changedAt.getTime());
    }
    setMeta(db, 'last_punch_cursor', new Date(newest).toISOString());
  })();
  return changed;
}
