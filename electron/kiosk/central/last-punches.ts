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
 * The latest punch of each employee this kiosk serves, of those with a punch received or a correction decided since
 * `since`, after approved corrections (kiosk_effective_last_punches, central 0110; a kiosk cannot read other kiosks'
 * punch rows): someone who clocked in at another door is clocked out here, and a supervisor's fix counts at once.
 * A central before 0110 answers with raw punches only (kiosk_last_punches, 0030).
 */
export async function readLastPunches(session: CentralSession, kioskId: number, since: Date): Promise<CentralLastPunch[]> {
  try {
    const { rows } = await session.query<{
      employee_id: number;
      direction: 'in' | 'out' | null;
      punched_at: Date | null;
      changed_at: Date;
      corrected: boolean;
      superseded: string[];
    }>(
      `SELECT employee_id::int AS employee_id, direction, punched_at, changed_at, corrected, superseded::text[] AS superseded
       FROM kiosk_effective_last_punches($1, $2)`,
      [kioskId, since],
    );
    return rows.map((r) => ({
      employeeId: r.employee_id,
      direction: r.direction,
      punchedAt: r.punched_at,
      changedAt: r.changed_at,
      corrected: r.corrected,
      superseded: r.superseded,
    }));
  } catch (e) {
    if (sqlState(e) !== UNDEFINED_FUNCTION) throw explainSqlError(e);
  }
  const { rows } = await session.query<{ employee_id: number; direction: 'in' | 'out'; punched_at: Date; received_at: Date }>(
    'SELECT employee_id::int AS employee_id, direction, punched_at, received_at FROM kiosk_last_punches($1, $2)',
    [kioskId, since],
  );
  return rows.map((r) => ({
    employeeId: r.employee_id,
    direction: r.direction,
    punchedAt: r.punched_at,
    changedAt: r.received_at,
    corrected: false,
    superseded: [],
  }));
}
