import { CLOCKFACE_SQLSTATES, isRowRefusal, sqlState } from '../../central/sql-errors.js';
import type { CentralSession } from './session.js';

const UNIQUE_VIOLATION = '23505';

/**
 * What central did with one audit snapshot. `stored` and `already` (sent before a crash) both mean delivered;
 * `refused` (the employee was erased, not a JPEG, its punch is not this kiosk's) means central will never keep it.
 * A per-kiosk limit or a lost connection is thrown: the snapshot waits for the next upload.
 */
export type SnapshotOutcome = { kind: 'stored' } | { kind: 'already' } | { kind: 'refused'; sqlState: string };

/**
 * One snapshot INSERT. ON CONFLICT is not an option: it needs SELECT on the table, and a kiosk must never be able
 * to read snapshots; a unique violation says "already there" instead.
 */
export async function sendSnapshot(session: CentralSession, punchId: string, jpeg: Buffer): Promise<SnapshotOutcome> {
  try {
    await session.query('INSERT INTO punch_snapshots (punch_id, jpeg) VALUES ($1, $2)', [punchId, jpeg]);
    return { kind: 'stored' };
  } catch (e) {
    const state = sqlState(e);
    if (state === UNIQUE_VIOLATION) return { kind: 'already' };
    if (state === CLOCKFACE_SQLSTATES.employeeErased || isRowRefusal(e)) return { kind: 'refused', sqlState: state ?? '' };
    throw e;
  }
}
