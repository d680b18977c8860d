import type pg from 'pg';

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
}

/**
 * The kiosks on central, with what needs IT's attention. A row and a login that disagree (a revocation that did not
 * finish, a role dropped by hand) are flagged, since `revoked` in a list is only true if the login is really off.
 */
export async function listKiosks(client: pg.ClientBase): Promise<KioskListing[]> {
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
  }>(
    `SELECT k.name, k.site, k.role_name, k.created_at, k.last_seen_at, k.app_version,
            k.clock_offset_ms::float8 AS clock_offset_ms, k.revoked_at, k.dropped_at, k.pending_punches, k.refused_punches,
            (SELECT count(*)::int FROM face_templates t WHERE t.enrolled_by_kiosk = k.id AND t.created_at > now() - interval '1 day') AS faces,
            (SELECT count(*)::int FROM employees e WHERE e.enrolled_by_kiosk = k.id AND e.created_at > now() - interval '1 day') AS people,
            r.oid IS NOT NULL AS role_exists, r.rolcanlogin AS can_login
     FROM kiosks k LEFT JOIN pg_roles r ON r.rolname = k.role_name
     ORDER BY k.name`,
  );
  return rows.map((k) => ({
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
  }));
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
