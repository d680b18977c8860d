import type { CentralSession } from './session.js';

/** A punch as it travels to central: the kiosk's own row, its id the idempotency key. */
export interface PunchUpload {
  id: string;
  employee_id: number;
  direction: 'in' | 'out';
  punched_at: string;
  method: 'face' | 'pin';
  match_distance: number | null;
  liveness: string;
}

/**
 * One INSERT for the rows; a punch central already holds (same id) is left as it is, so a batch sent again after a
 * crash is absorbed. Returns how many were new.
 */
export async function insertPunches(session: CentralSession, rows: readonly PunchUpload[], kioskId: number): Promise<number> {
  const result = await session.query(
    `INSERT INTO punches (id, employee_id, kiosk_id, direction, punched_at, method, match_distance, liveness)
     SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::bigint[], $4::text[], $5::timestamptz[], $6::text[],
                          $7::real[], $8::text[])
     ON CONFLICT (id) DO NOTHING`,
    [
      rows.map((d) => d.id),
      rows.map((d) => d.employee_id),
      rows.map(() => kioskId),
      rows.map((d) => d.direction),
      rows.map((d) => d.punched_at),
      rows.map((d) => d.method),
      rows.map((d) => d.match_distance),
      rows.map((d) => d.liveness),
    ],
  );
  return result.rowCount ?? 0;
}

/** The punches among `ids` that central already has (a kiosk reads its own punches there). */
export async function punchesCentralHolds(session: CentralSession, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const { rows } = await session.query<{ id: string }>('SELECT id::text FROM punches WHERE id = ANY($1::uuid[])', [ids]);
  return new Set(rows.map((r) => r.id));
}
