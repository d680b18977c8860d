import type pg from 'pg';
import type { KioskDatabase } from './kiosk-db.js';

/**
 * Sends audit snapshots whose punch central already has (central's foreign key needs the punch first), then deletes
 * them here: the kiosk keeps no image longer than it must. A crash between the insert and the local delete sends
 * one again, which central refuses as a duplicate and this treats as done. Returns how many were sent.
 */
export async function uploadSnapshots(db: KioskDatabase, client: pg.ClientBase, batch = 20): Promise<number> {
  let sent = 0;
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
      } catch (e) {
        // Already there (sent before a crash): fine. ON CONFLICT is not an option: it needs SELECT on the table,
        // and a kiosk must never be able to read snapshots.
        if (!(typeof e === 'object' && e !== null && 'code' in e && e.code === '23505')) throw e;
      }
    }
    const remove = db.prepare('DELETE FROM punch_snapshots WHERE punch_id = ?');
    db.transaction(() => {
      for (const r of rows) remove.run(r.punch_id);
    })();
    sent += rows.length;
  }
}
