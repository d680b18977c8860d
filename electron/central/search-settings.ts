import type pg from 'pg';

/**
 * hnsw.ef_search for every 1:N search on central (the `search` command, the duplicate-face guard at enrolment, the
 * kiosk's central fallback). pgvector's default (40) is tuned for recall of *some* near neighbours; identifying a
 * person needs the right one, and on face-like data (tight clusters per person, all people roughly equidistant)
 * the graph search at 40 misses it often: `npm run bench -- central` measured identification accuracy 0.925 at 40
 * vs 0.967 at 80 on 100k templates. The figure for this value is the "(as shipped)" row of that bench.
 */
export const CENTRAL_EF_SEARCH = 200;

/**
 * Applies the search settings to this session. `iterative_scan = strict_order` (pgvector ≥ 0.8) keeps the scan
 * going when a WHERE clause (active, this kiosk's sites, "anyone but this person") filters out the first
 * ef_search candidates; without it a filtered search can return fewer rows than asked for, or none, even though a
 * match exists: the duplicate guard would then miss a duplicate. Session-level (not SET LOCAL) so that it holds
 * for callers outside a transaction block; every central search connection is ours, so nothing else inherits it.
 */
export async function applySearchSettings(client: pg.ClientBase): Promise<void> {
  await client.query(`SET hnsw.ef_search = ${CENTRAL_EF_SEARCH}; SET hnsw.iterative_scan = strict_order`);
}
