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
  /** The rest of its health (central 0130 on); a central before that takes the three above only. */
  health?: HeartbeatHealth;
}

/**
 * What IT's fleet view judges a kiosk by (electron/central/kiosk-fleet.ts). Ages, not times: they are measured on the
 * kiosk's own clock and central subtracts them from its own, so a kiosk clock that is off does not move them.
 */
export interface HeartbeatHealth {
  /** How often the kiosk means to call (its poll interval): "offline" is judged against this. */
  intervalSeconds: number;
  /** Seconds since the oldest waiting punch was made; null when nothing waits. */
  oldestPendingAgeS: number | null;
  /** The roster feed watermark the cache is at (an xid8, as a decimal string), and seconds since the last sync. */
  rosterWatermark: string | null;
  rosterSyncAgeS: number | null;
  templates: number;
  vectorEngine: string;
  /** The code of an upload failure that still stands (a limit central set), or null. */
  lastUploadError: string | null;
}

/** An offset that moved less than this since the kiosk last told central is not told again (see ClockOffsetReports). */
export const CLOCK_REPORT_STEP_MS = 1_000;
/** The longest a kiosk goes without telling central its offset, however still its clock. */
export const CLOCK_REPORT_REFRESH_MS = 60 * 60_000;

/**
 * Which measured clock offsets are worth telling central. Each report is a statement of its own (and behind a pooler a
 * transaction, a server session reset and a row version of its own), once per heartbeat per kiosk: the fleet bench's
 * second-largest statement at 1,000 kiosks. IT reads the offset in whole seconds, and under 2 s as "in step"
 * (shared/kiosk/clock-offset.ts), while the round trip moves the measurement by milliseconds at every heartbeat. So a
 * kiosk tells a central the first offset it measures there, then one that moved by a second or more, and at least
 * once an hour (a central restored from a backup is put right within the hour). A failed report is tried again at
 * the next heartbeat.
 */
export class ClockOffsetReports {
  private last: { central: string; offsetMs: number; atMs: number } | null = null;

  /** `central` names the central and the kiosk there (a kiosk re-pointed elsewhere reports afresh); `nowMs` is monotonic. */
  due(central: string, offsetMs: number, nowMs: number): boolean {
    const last = this.last;
    return (
      last === null ||
      last.central !== central ||
      Math.abs(offsetMs - last.offsetMs) >= CLOCK_REPORT_STEP_MS ||
      nowMs - last.atMs >= CLOCK_REPORT_REFRESH_MS
    );
  }

  reported(central: string, offsetMs: number, nowMs: number): void {
    this.last = { central, offsetMs, atMs: nowMs };
  }
}

/**
 * Tells central this kiosk is alive, which version it runs and what waits in its outbox (kiosk_heartbeat: a kiosk has
 * no right to update its row itself), then reports its clock offset, and returns that offset from central's clock
 * (ms, positive = kiosk ahead), measured at the middle of the heartbeat's round trip. Punches carry the kiosk clock
 * (punched_at) and central's (received_at); this offset is what the screen shows when the kiosk clock drifts.
 * With `reports`, the offset is told only when it is news to central (ClockOffsetReports); without, every time.
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
  reports?: { to: ClockOffsetReports; central: string },
): Promise<number> {
  const sent = kioskNow().getTime();
  const server = await heartbeatAtCentral(session, kioskId, report);
  const received = kioskNow().getTime();
  // `|| 0`: a clock a fraction of a millisecond behind would otherwise report -0.
  const offsetMs = Math.round((sent + received) / 2 - server) || 0;
  const central = reports?.central ?? '';
  const at = performance.now();
  if (reports && !reports.to.due(central, offsetMs, at)) return offsetMs;
  // Kept on central too, so that IT sees every kiosk's drift (`clockface kiosk list`).
  await session.query('SELECT kiosk_report_clock_offset($1, $2)', [kioskId, offsetMs]).catch((e: unknown) => {
    if (sqlState(e) !== UNDEFINED_FUNCTION) throw explainSqlError(e);
  });
  reports?.to.reported(central, offsetMs, at);
  return offsetMs;
}

/**
 * The newest heartbeat central knows, falling back one version at a time on "no such function": with the health facts
 * (0130), without them (0080), or the legacy UPDATE (before 0070). Returns central's clock at the heartbeat.
 */
async function heartbeatAtCentral(session: CentralSession, kioskId: number, report: HeartbeatReport): Promise<number> {
  const h = report.health;
  if (h) {
    const withHealth = await centralTime(
      session,
      kioskId,
      'SELECT kiosk_heartbeat($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) AS now',
      [kioskId, report.appVersion, report.pending, report.refused, Math.round(h.intervalSeconds), age(h.oldestPendingAgeS),
        h.rosterWatermark, age(h.rosterSyncAgeS), h.templates, h.vectorEngine, h.lastUploadError],
    );
    if (withHealth !== null) return withHealth;
  }
  const plain = await centralTime(session, kioskId, 'SELECT kiosk_heartbeat($1, $2, $3, $4) AS now', [
    kioskId,
    report.appVersion,
    report.pending,
    report.refused,
  ]);
  return plain ?? legacyHeartbeat(session, kioskId, report.appVersion);
}

/** Ten years, central's bound on ages (0130): a kiosk clock set to 1970 and back must not silence its heartbeat. */
const MAX_AGE_S = 315_576_000;
const age = (seconds: number | null): number | null => (seconds === null ? null : Math.min(MAX_AGE_S, Math.max(0, Math.round(seconds))));

/** Central's clock from one heartbeat statement; null when central has no such function (an older central). */
async function centralTime(session: CentralSession, kioskId: number, text: string, params: unknown[]): Promise<number | null> {
  try {
    const { rows } = await session.query<{ now: Date }>(text, params);
    const now = rows[0]?.now;
    if (!now) throw new ClockfaceError('KIOSK_NOT_REGISTERED', `central answered no time to kiosk ${kioskId}'s heartbeat`);
    return now.getTime();
  } catch (e) {
    if (sqlState(e) === UNDEFINED_FUNCTION) return null;
    throw explainSqlError(e);
  }
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
