import type pg from 'pg';
import type { KioskDatabase } from './kiosk-db.js';
import { getMeta, setMeta } from './kiosk-meta.js';
import { ClockfaceError } from '../../shared/errors.js';
import { explainSqlError, sqlState } from '../central/sql-errors.js';

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

/** SQLSTATE of a function that does not exist: a central not yet migrated to 0080. */
const UNDEFINED_FUNCTION = '42883';

/** What the kiosk tells central about itself at each heartbeat. */
export interface HeartbeatReport {
  appVersion: string;
  /** Punches waiting in the outbox, and of those, refused by central at their last attempt. */
  pending: number;
  refused: number;
}

/**
 * Tells central this kiosk is alive, which version it runs and what waits in its outbox (kiosk_heartbeat: a kiosk has
 * no right to update its row itself), then reports its clock offset, and returns that offset from central's clock
 * (ms, positive = kiosk ahead), measured at the middle of the heartbeat's round trip. Punches carry the kiosk clock
 * (punched_at) and central's (received_at); this offset is what the screen shows when the kiosk clock drifts.
 *
 * A heartbeat central does not accept (this login is not that kiosk, or it was revoked) throws
 * KIOSK_NOT_REGISTERED: it is never counted as contact.
 */
export async function sendHeartbeat(
  client: pg.ClientBase,
  kioskId: number,
  report: HeartbeatReport,
  /** The clock the kiosk stamps punches with (injectable in tests): the offset is that clock's, not the OS's. */
  kioskNow: () => Date = () => new Date(),
): Promise<number> {
  const sent = kioskNow().getTime();
  let server: number;
  try {
    const { rows } = await client.query<{ now: Date }>('SELECT kiosk_heartbeat($1, $2, $3, $4) AS now', [
      kioskId,
      report.appVersion,
      report.pending,
      report.refused,
    ]);
    const now = rows[0]?.now;
    if (!now) throw new ClockfaceError('KIOSK_NOT_REGISTERED', `central answered no time to kiosk ${kioskId}'s heartbeat`);
    server = now.getTime();
  } catch (e) {
    if (sqlState(e) !== UNDEFINED_FUNCTION) throw explainSqlError(e);
    server = await legacyHeartbeat(client, kioskId, report.appVersion);
  }
  const received = kioskNow().getTime();
  // `|| 0`: a clock a fraction of a millisecond behind would otherwise report -0.
  const offsetMs = Math.round((sent + received) / 2 - server) || 0;
  // Kept on central too, so that IT sees every kiosk's drift (`clockface kiosk list`).
  await client.query('SELECT kiosk_report_clock_offset($1, $2)', [kioskId, offsetMs]).catch((e: unknown) => {
    if (sqlState(e) !== UNDEFINED_FUNCTION) throw explainSqlError(e);
  });
  return offsetMs;
}

/** A central before migration 0080 (kiosks still updated their own row). Zero rows is not contact there either. */
async function legacyHeartbeat(client: pg.ClientBase, kioskId: number, appVersion: string): Promise<number> {
  const { rows } = await client.query<{ now: Date }>(
    'UPDATE kiosks SET last_seen_at = now(), app_version = $2 WHERE id = $1 RETURNING clock_timestamp() AS now',
    [kioskId, appVersion],
  );
  const now = rows[0]?.now;
  if (!now) throw new ClockfaceError('KIOSK_NOT_REGISTERED', `central has no kiosk ${kioskId} for this login, or it was revoked`);
  return now.getTime();
}
