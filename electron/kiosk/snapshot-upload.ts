import type pg from 'pg';
import { createLogger } from '../../shared/logger.js';
import { CLOCKFACE_SQLSTATES, sqlState } from '../central/sql-errors.js';
import type { KioskDatabase } from './kiosk-db.js';
import { isRowRefusal } from './uploader.js';

const log = createLogger('kiosk.snapshots');

const UNIQUE_VIOLATION = '23505';

/**
 * Sends audit snapshots whose punch central already has (central's foreign key needs the punch first), then deletes
 * them here: the kiosk keeps no image longer than it must. Returns how many central stored.
 *
 * - Already there (sent before a crash): done. ON CONFLICT is not an option: it needs SELECT on the table, and a
 *   kiosk must never be able to read snapshots.
 * - Refused by central (the employee was erased, not a JPEG, its punch is not this kiosk's): deleted here too. An
 *   image central will not keep must not wait on the kiosk either, least of all one of an erased person.
 * - A per-kiosk limit, or the connection failing: stops; the rest go at the next upload (thrown to the caller).
 */
export async function uploadSnapshots(db: KioskDatabase, client: pg.ClientBase, batch = 20): Promise<number> {
  let sent = 0;
  const remove = db.prepare('DELETE FROM punch_snapshots WHERE punch_id = ?');
  for (;;) {
    const rows = db
      .prepare(
        `SELECT s.punch_id, s.jpeg FROM punch_snapshots s
         WHERE NOT EXISTS (SELECT 1 FROM outbox o WHERE o.punch_id = s.punch_id) LIMIT ?`,
      )
      .all(batch) as Array<{ punch_id: string; jpeg: Buffer }>;
    if (rows.length === 0) return sent;
    for (const r of rows) {
      try {
        await client.query('INSERT INTO punch_snapshots (punch_id, jpeg) VALUES ($1, $2)', [r.punch_id, r.jpeg]);
        sent++;
      } catch (e) {
        const state = sqlState(e);
        if (state !== UNIQUE_VIOLATION && state !== CLOCKFACE_SQLSTATES.employeeErased && !isRowRefusal(e)) throw e;
        if (state !== UNIQUE_VIOLATION) log.warn('central refused an audit snapshot; deleted here', { punchId: r.punch_id, code: state });
      }
      remove.run(r.punch_id);
    }
  }
}
