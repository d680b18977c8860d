import { explainSqlError, sqlState } from '../../central/sql-errors.js';
import type { CentralSession } from './session.js';

/** SQLSTATE of a function that does not exist: a central not yet migrated to 0110. */
const UNDEFINED_FUNCTION = '42883';

/** The latest punch of one employee as central counts it, and when that last changed (the cursor the kiosk keeps). */
export interface CentralLastPunch {
  employeeId: number;
  /** Null: after corrections no punch of theirs counts any more. */
  direction: 'in' | 'out' | null;
  punchedAt: Date | null;
  changedAt: Date;
  /** The answer comes from corrections: it replaces what the kiosk held, even when older. */
  corrected: boolean;
  /** This kiosk's own punches that a correction voided or moved: they stop counting here. */
  superseded: string[];
}

/**
 * The latest punch of each employee this kiosk serves, as central counts it: the raw latest punch of those with a punch
 * received since `since` (kiosk_last_punches, 0030; a kiosk cannot read other kiosks' punch rows), then, for those
 * with a correction decided since, the latest after the corrections (kiosk_effective_last_punches, 0110): someone who
 * clocked in at another door is clocked out here, and a supervisor's fix counts at once. Corrected rows come last, so
 * that they win. A central before 0110 gives the raw rows only.
 */
export async function readLastPunches(session: CentralSession, kioskId: number, since: Date): Promise<CentralLastPunch[]> {
  const raw = await session.query<{ employee_id: number; direction: 'in' | 'out'; punched_at: Date; received_at: Date }>(
    'SELECT employee_id::int AS employee_id, direction, punched_at, received_at FROM kiosk_last_punches($1, $2)',
    [kioskId, since],
  );
  const rows: CentralLastPunch[] = raw.rows.map((r) => ({
    employeeId: r.employee_id,
    direction: r.direction,
    punchedAt: r.punched_at,
    changedAt: r.received_at,
    corrected: false,
    superseded: [],
  }));
  try {
    const corrected = await session.query<{
      employee_id: number;
      direction: 'in' | 'out' | null;
      punched_at: Date | null;
      changed_at: Date;
      superseded: string[];
    }>(
      `SELECT employee_id::int AS employee_id, direction, punched_at, changed_at, superseded::text[] AS superseded
       FROM kiosk_effective_last_punches($1, $2)`,
      [kioskId, since],
    );
    for (const r of corrected.rows) {
      rows.push({ employeeId: r.employee_id, direction: r.direction, punchedAt: r.punched_at, changedAt: r.changed_at, corrected: true, superseded: r.superseded });
    }
  } catch (e) {
    if (sqlState(e) !== UNDEFINED_FUNCTION) throw explainSqlError(e);
  }
  return rows;
}
