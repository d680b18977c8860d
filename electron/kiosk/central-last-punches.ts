import type pg from 'pg';
import type { KioskDatabase } from './kiosk-db.js';
import { getMeta, setMeta } from './kiosk-meta.js';

/**
 * received_at is the inserting transaction's start time, and a slow transaction commits after faster, later ones;
 * re-reading this much before the cursor catches such punches. Re-reading is harmless (the later punch wins).
 */
const CURSOR_OVERLAP_MS = 5 * 60_000;

/**
 * Copies the latest central punch of each employee this kiosk serves into central_last_punches (through the
 * SECURITY DEFINER function kiosk_last_punches: a kiosk cannot read other kiosks' punch rows), so that someone who
 * clocked in at another door is clocked out here. Returns how many employees' last punches changed.
 */
export async function syncCentralLastPunches(db: KioskDatabase, client: pg.ClientBase, kioskId: number): Promise<number> {
  const cursor = getMeta(db, 'last_punch_cursor');
  const since = cursor === null ? new Date(0) : new Date(new Date(cursor).getTime() - CURSOR_OVERLAP_MS);
  const { rows } = await client.query<{ employee_id: number; direction: 'in' | 'out'; punched_at: Date; received_at: Date }>(
    'SELECT employee_id::int AS employee_id, direction, punched_at, received_at FROM kiosk_last_punches($1, $2)',
    [kioskId, since],
  );
  const upsert = db.prepare(
    `INSERT INTO central_last_punches (employee_id, direction, punched_at) VALUES (?, ?, ?)
     ON CONFLICT (employee_id) DO UPDATE SET direction = excluded.direction, punched_at = excluded.punched_at
     WHERE excluded.punched_at > central_last_punches.punched_at`,
  );
  let changed = 0;
  let newest = cursor === null ? 0 : new Date(cursor).getTime();
  db.transaction(() => {
    for (const r of rows) {
      changed += upsert.run(r.employee_id, r.direction, r.punched_at.toISOString()).changes;
      newest = Math.max(newest, r.received_at.getTime());
    }
    setMeta(db, 'last_punch_cursor', new Date(newest).toISOString());
  })();
  return changed;
}

/** SQLSTATE of a column that does not exist (an older central schema). */
const UNDEFINED_COLUMN = '42703';

/**
 * Tells central this kiosk is alive, which version it runs and how far its clock is off (the only columns a kiosk may
 * change), and returns that offset from central's clock (ms, positive = kiosk ahead), measured at the middle of the
 * round trip.
 * Punches carry the kiosk clock (punched_at) and central's (received_at); this offset is what the screen shows
 * when the kiosk clock drifts.
 */
export async function sendHeartbeat(
  client: pg.ClientBase,
  kioskId: number,
  appVersion: string,
  /** The clock the kiosk stamps punches with (injectable in tests): the offset is that clock's, not the OS's. */
  kioskNow: () => Date = () => new Date(),
): Promise<number> {
  const sent = kioskNow().getTime();
  const { rows } = await client.query<{ now: Date }>(
    'UPDATE kiosks SET last_seen_at = now(), app_version = $2 WHERE id = $1 RETURNING clock_timestamp() AS now',
    [kioskId, appVersion],
  );
  const received = kioskNow().getTime();
  const server = rows[0]?.now.getTime() ?? (sent + received) / 2;
  // `|| 0`: a clock a fraction of a millisecond behind would otherwise report -0.
  const offsetMs = Math.round((sent + received) / 2 - server) || 0;
  // Kept on central too, so that IT sees every kiosk's drift (`clockface kiosk list`). A central not yet migrated to
  // 0060 has no such column: the kiosk still shows the offset on its own status screen.
  await client.query('UPDATE kiosks SET clock_offset_ms = $2 WHERE id = $1', [kioskId, offsetMs]).catch((e: unknown) => {
    if ((e as { code?: unknown }).code !== UNDEFINED_COLUMN) throw e;
  });
  return offsetMs;
}
