import type { CentralSession } from './session.js';

/** The latest central punch of one employee, and when central received it (the cursor the kiosk keeps). */
export interface CentralLastPunch {
  employeeId: number;
  direction: 'in' | 'out';
  punchedAt: Date;
  receivedAt: Date;
}

/**
 * The latest central punch of each employee this kiosk serves, of those received since `since`, through the
 * SECURITY DEFINER function kiosk_last_punches (a kiosk cannot read other kiosks' punch rows): someone who clocked in
 * at another door is clocked out here.
 */
export async function readLastPunches(session: CentralSession, kioskId: number, since: Date): Promise<CentralLastPunch[]> {
  const { rows } = await session.query<{ employee_id: number; direction: 'in' | 'out'; punched_at: Date; received_at: Date }>(
    'SELECT employee_id::int AS employee_id, direction, punched_at, received_at FROM kiosk_last_punches($1, $2)',
    [kioskId, since],
  );
  return rows.map((r) => ({ employeeId: r.employee_id, direction: r.direction, punchedAt: r.punched_at, receivedAt: r.received_at }));
}
