import type pg from 'pg';

/**
 * The kiosk's reader of central's roster change feed (see the long comment on roster_changes in
 * resources/sql/central/0010_init.sql for why the watermark is a transaction id, not a sequence number).
 *
 * Watermarks are xid8 values carried as decimal strings: they are 64-bit and must not pass through a JS number.
 */
export interface RosterChange {
  seq: string;
  txid: string;
  entity: 'employee' | 'template';
  op: 'upsert' | 'delete';
  employeeId: number;
  templateId: number | null;
  site: string;
}

export interface RosterFeedPage {
  changes: RosterChange[];
  /** Pass this as `since` next time. Only advance a stored watermark once the page's changes are applied. */
  nextWatermark: string;
  /** The feed no longer holds every change since `since` (pruned): take a fresh snapshot instead. */
  snapshotNeeded: boolean;
}

/** The watermark to start from: read in the same transaction as a snapshot of the roster. */
export const INITIAL_WATERMARK = '0';

interface FeedRow {
  seq: string | null;
  txid: string | null;
  entity: RosterChange['entity'] | null;
  op: RosterChange['op'] | null;
  employee_id: string | null;
  template_id: string | null;
  site: string | null;
  next_watermark: string | null;
  snapshot_needed: boolean | null;
}

/** Reads the changes committed since `since`, at most about `maxRows` (a page never splits a transaction). */
export async function readRosterChanges(
  client: pg.ClientBase,
  since: string,
  maxRows = 10_000,
): Promise<RosterFeedPage> {
  const { rows } = await client.query<FeedRow>(
    `SELECT seq::text, txid::text, entity, op, employee_id::text, template_id::text, site,
            next_watermark::text, snapshot_needed
     FROM roster_changes_since($1::xid8, $2)`,
    [since, maxRows],
  );
  const changes: RosterChange[] = [];
  let nextWatermark: string | null = null;
  let snapshotNeeded = false;
  for (const row of rows) {
    if (row.next_watermark !== null) {
      nextWatermark = row.next_watermark;
      snapshotNeeded = row.snapshot_needed === true;
      continue;
    }
    if (row.seq === null || row.txid === null || row.entity === null || row.op === null || row.site === null) {
      throw new Error('malformed roster change row');
    }
    changes.push({
      seq: row.seq,
      txid: row.txid,
      entity: row.entity,
      op: row.op,
      employeeId: Number(row.employee_id),
      templateId: row.template_id === null ? null : Number(row.template_id),
      site: row.site,
    });
  }
  if (nextWatermark === null) throw new Error('roster_changes_since returned no watermark');
  // A reader can be ahead of the server it asks: a watermark taken on the primary, then read from a lagging
  // replica (or after rosterUrl was changed). The server then offers its own, older horizon; taking it would move
  // the watermark back and deliver again changes already applied. No change at or past `since` was skipped (the
  // query returns none below `since`), so keeping `since` is exact. Found by test/faults/properties-watermark.test.ts.
  if (!snapshotNeeded && BigInt(nextWatermark) < BigInt(since)) nextWatermark = since;
  return { changes, nextWatermark, snapshotNeeded };
}

/**
 * The watermark that goes with a roster snapshot read in the same (REPEATABLE READ) transaction: every change of a
 * transaction older than it is in the snapshot. Later changes may be in the snapshot too and are then delivered
 * again; applying them is idempotent.
 */
export async function snapshotWatermark(client: pg.ClientBase): Promise<string> {
  const { rows } = await client.query<{ w: string }>('SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS w');
  const w = rows[0]?.w;
  if (w === undefined) throw new Error('no snapshot watermark');
  return w;
}
