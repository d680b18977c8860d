import { ClockfaceError } from '../../../shared/errors.js';
import { explainSqlError, sqlState } from '../../central/sql-errors.js';
import type { CentralSession } from './session.js';

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
  session: CentralSession,
  kioskId: number,
  report: HeartbeatReport,
  /** The clock the kiosk stamps punches with (KioskClock.now): the offset is that clock's, not the OS's. */
  kioskNow: () => Date,
): Promise<number> {
  const sent = kioskNow().getTime();
  let server: number;
  try {
    const { rows } = await session.query<{ now: Date }>('SELECT kiosk_heartbeat($1, $2, $3, $4) AS now', [
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
    server = await legacyHeartbeat(session, kioskId, report.appVersion);
  }
  const received = kioskNow().getTime();
  // `|| 0`: a clock a fraction of a millisecond behind would otherwise report -0.
  const offsetMs = Math.round((sent + received) / 2 - server) || 0;
  // Kept on central too, so that IT sees every kiosk's drift (`clockface kiosk list`).
  await session.query('SELECT kiosk_report_clock_offset($1, $2)', [kioskId, offsetMs]).catch((e: unknown) => {
    if (sqlState(e) !== UNDEFINED_FUNCTION) throw explainSqlError(e);
  });
  return offsetMs;
}

/**
 * A central before migration 0070 (kiosks still updated their own row; 0070 took that right away and 0080 brought
 * kiosk_heartbeat, so a central at exactly 0070 refuses both). Zero rows is not contact there either.
 */
async function legacyHeartbeat(session: CentralSession, kioskId: number, appVersion: string): Promise<number> {
  const { rows } = await session.query<{ now: Date }>(
    'UPDATE kiosks SET last_seen_at = now(), app_version = $2 WHERE id = $1 RETURNING clock_timestamp() AS now',
    [kioskId, appVersion],
  );
  const now = rows[0]?.now;
  if (!now) throw new ClockfaceError('KIOSK_NOT_REGISTERED', `central has no kiosk ${kioskId} for this login, or it was revoked`);
  return now.getTime();
}
