import type pg from 'pg';
import { DEFAULT_POLL_SECONDS } from '../../shared/kiosk/heartbeat.js';

/**
 * What a kiosk's state means to IT, worst first. `offline`: its heartbeats stopped. `backlog`: punches have waited on
 * it too long (hours nobody at central can see yet). `stale_roster`: it has not synced lately, or misses a roster change
 * central made a while ago (a new hire it cannot recognise, a leaver it still lets in). `ok`: none of those.
 * `revoked`: off the fleet; its row stays for its punches.
 */
export const FLEET_STATUSES = ['offline', 'backlog', 'stale_roster', 'ok', 'revoked'] as const;
export type FleetStatus = (typeof FLEET_STATUSES)[number];

/** When a kiosk's state becomes a problem. The defaults are what `kiosk list` and the console judge by. */
export interface FleetThresholds {
  /** Heartbeats a kiosk may miss, at its own interval, before it counts as offline... */
  missedHeartbeats: number;
  /** ...but never sooner than this: a sync that waits on central can hold one heartbeat back for seconds. */
  offlineAtLeastS: number;
  /** The oldest waiting punch may be this old. */
  backlogAfterS: number;
  /** The last roster sync, and the oldest roster change the kiosk has not read, may be this old. */
  rosterStaleAfterS: number;
}

export const FLEET_THRESHOLDS: FleetThresholds = { missedHeartbeats: 3, offlineAtLeastS: 60, backlogAfterS: 15 * 60, rosterStaleAfterS: 15 * 60 };

/** One kiosk as IT sees it in `clockface kiosk list`. */
export interface KioskListing {
  name: string;
  site: string;
  roleName: string;
  createdAt: Date;
  lastSeenAt: Date | null;
  appVersion: string | null;
  /** As the kiosk measured it at its last heartbeat (ms, positive = ahead). */
  clockOffsetMs: number | null;
  revokedAt: Date | null;
  droppedAt: Date | null;
  /** What the kiosk said at its last heartbeat: punches waiting to upload, and of those, refused by central. */
  pendingPunches: number | null;
  refusedPunches: number | null;
  /** Faces and new employees this kiosk enrolled in the last 24 hours (central's per-kiosk limits count these). */
  facesEnrolled24h: number;
  peopleEnrolled24h: number;
  /** Whether the kiosk's row and its login role agree; the disagreement, in words, when they do not. */
  loginProblem: string | null;
  /**
   * What its last heartbeat said about its health (central 0130 and a kiosk that reports it; null otherwise, and when
   * the last heartbeat came from an older build that no longer reports it). Times are central's.
   */
  heartbeatSeconds: number | null;
  oldestPendingAt: Date | null;
  rosterSyncedAt: Date | null;
  /** The roster feed watermark its cache is at (xid8, decimal). */
  rosterWatermark: string | null;
  /** When central made the oldest roster change this kiosk has not read yet; null when it has them all (or unknown). */
  rosterBehindSince: Date | null;
  templatesCached: number | null;
  vectorEngine: string | null;
  lastUploadError: string | null;
  /** Central's clock when this listing was read: what the statuses were judged at. */
  checkedAt: Date;
  /** Its problems, worst first; ['ok'] when it has none; ['revoked'] when it is off the fleet. */
  status: FleetStatus[];
}

/**
 * The kiosks on central, with what needs IT's attention. A row and a login that disagree (a revocation that did not
 * finish, a role dropped by hand) are flagged, since `revoked` in a list is only true if the login is really off. Each
 * kiosk's status is judged here, and only here, on central's clock (kioskStatus).
 */
export async function listKiosks(client: pg.ClientBase, thresholds: FleetThresholds = FLEET_THRESHOLDS): Promise<KioskListing[]> {
  const { rows } = await client.query<{
    name: string;
    site: string;
    role_name: string;
    created_at: Date;
    last_seen_at: Date | null;
    app_version: string | null;
    clock_offset_ms: number | null;
    revoked_at: Date | null;
    dropped_at: Date | null;
    pending_punches: number | null;
    refused_punches: number | null;
    faces: number;
    people: number;
    role_exists: boolean;
    can_login: boolean | null;
    health_current: boolean;
    heartbeat_seconds: number | null;
    oldest_pending_at: Date | null;
    roster_synced_at: Date | null;
    roster_watermark: string | null;
    roster_behind_since: Date | null;
    templates_cached: number | null;
    vector_engine: string | null;
    last_upload_error: string | null;
    checked_at: Date;
  }>(
    `SELECT k.name, k.site, k.role_name, k.created_at, k.last_seen_at, k.app_version,
            k.clock_offset_ms::float8 AS clock_offset_ms, k.revoked_at, k.dropped_at, k.pending_punches, k.refused_punches,
            (SELECT count(*)::int FROM face_templates t WHERE t.enrolled_by_kiosk = k.id AND t.created_at > now() - interval '1 day') AS faces,
            (SELECT count(*)::int FROM employees e WHERE e.enrolled_by_kiosk = k.id AND e.created_at > now() - interval '1 day') AS people,
            r.oid IS NOT NULL AS role_exists, r.rolcanlogin AS can_login,
            -- The health facts belong to the latest heartbeat only if that heartbeat reported them (0130's function
            -- sets both times in one statement; the older function moves last_seen_at alone).
            coalesce(k.health_reported_at >= k.last_seen_at, false) AS health_current,
            k.heartbeat_seconds, k.oldest_pending_at, k.roster_synced_at, k.roster_watermark::text AS roster_watermark,
            -- The first feed row at or past the kiosk's watermark, in feed order: the oldest change it has not read.
            (SELECT c.changed_at FROM roster_changes c WHERE c.txid >= k.roster_watermark ORDER BY c.txid, c.seq LIMIT 1)
              AS roster_behind_since,
            k.templates_cached, k.vector_engine, k.last_upload_error, now() AS checked_at
     FROM kiosks k LEFT JOIN pg_roles r ON r.rolname = k.role_name
     ORDER BY k.name`,
  );
  return rows.map((row) => {
    // Facts an older build's heartbeat did not refresh are not shown as current.
    const k = row.health_current ? row : { ...row, ...NO_HEALTH };
    const listing: Omit<KioskListing, 'status'> = {
      name: k.name,
      site: k.site,
      roleName: k.role_name,
      createdAt: k.created_at,
      lastSeenAt: k.last_seen_at,
      appVersion: k.app_version,
      clockOffsetMs: k.clock_offset_ms,
      revokedAt: k.revoked_at,
      droppedAt: k.dropped_at,
      pendingPunches: k.pending_punches,
      refusedPunches: k.refused_punches,
      facesEnrolled24h: k.faces,
      peopleEnrolled24h: k.people,
      loginProblem: loginProblem(k),
      heartbeatSeconds: k.heartbeat_seconds,
      oldestPendingAt: k.oldest_pending_at,
      rosterSyncedAt: k.roster_synced_at,
      rosterWatermark: k.roster_watermark,
      rosterBehindSince: k.roster_behind_since,
      templatesCached: k.templates_cached,
      vectorEngine: k.vector_engine,
      lastUploadError: k.last_upload_error,
      checkedAt: k.checked_at,
    };
    return { ...listing, status: kioskStatus(listing, thresholds) };
  });
}

const NO_HEALTH = {
  heartbeat_seconds: null,
  oldest_pending_at: null,
  roster_synced_at: null,
  roster_watermark: null,
  roster_behind_since: null,
  templates_cached: null,
  vector_engine: null,
  last_upload_error: null,
} as const;

/**
 * A kiosk's problems, worst first, judged at `checkedAt` (central's clock). What a kiosk has not reported is not held
 * against it, except silence: a kiosk never seen is offline.
 */
export function kioskStatus(k: Omit<KioskListing, 'status'>, thresholds: FleetThresholds = FLEET_THRESHOLDS): FleetStatus[] {
  if (k.revokedAt !== null || k.droppedAt !== null) return ['revoked'];
  const now = k.checkedAt.getTime();
  const olderThan = (at: Date | null, seconds: number) => at !== null && now - at.getTime() > seconds * 1000;
  const problems: FleetStatus[] = [];
  const offlineAfterS = Math.max(thresholds.offlineAtLeastS, thresholds.missedHeartbeats * (k.heartbeatSeconds ?? DEFAULT_POLL_SECONDS));
  if (k.lastSeenAt === null || olderThan(k.lastSeenAt, offlineAfterS)) problems.push('offline');
  // The count is as of the last heartbeat; the age keeps growing on central's clock while the kiosk is silent.
  if ((k.pendingPunches ?? 0) > 0 && olderThan(k.oldestPendingAt, thresholds.backlogAfterS)) problems.push('backlog');
  // A kiosk reporting its health with no sync yet has no roster at all.
  const reports = k.heartbeatSeconds !== null;
  const neverSynced = reports && k.rosterSyncedAt === null;
  if (neverSynced || olderThan(k.rosterSyncedAt, thresholds.rosterStaleAfterS) || olderThan(k.rosterBehindSince, thresholds.rosterStaleAfterS)) {
    problems.push('stale_roster');
  }
  return problems.length > 0 ? problems : ['ok'];
}

/** For lists that put problems first: by the worst status, then by name. */
export function byAttention(a: KioskListing, b: KioskListing): number {
  const rank = (k: KioskListing) => FLEET_STATUSES.indexOf(k.status[0] ?? 'ok');
  return rank(a) - rank(b) || a.name.localeCompare(b.name);
}

function loginProblem(k: { name: string; revoked_at: Date | null; dropped_at: Date | null; role_exists: boolean; can_login: boolean | null }): string | null {
  if (k.dropped_at !== null) {
    return k.role_exists ? `dropped, but its login role still exists: run \`clockface kiosk drop ${k.name}\` again` : null;
  }
  if (k.revoked_at !== null) {
    return k.can_login === true ? `marked revoked, but its login still works: run \`clockface kiosk revoke ${k.name}\` again` : null;
  }
  if (!k.role_exists) return `its login role is missing on central: register the kiosk again (\`clockface kiosk add\`)`;
  if (k.can_login === false) return `its login is disabled on central but it is not marked revoked: run \`clockface kiosk revoke ${k.name}\``;
  return null;
}
