import type pg from 'pg';

/**
 * hnsw.ef_search for every 1:N search on central (the `search` command, the duplicate-face guard at enrolment, the
 * kiosk's central fallback). pgvector's default (40) is tuned for recall of *some* near neighbours; identifying a
 * person needs the right one, and on face-like data (tight clusters per person, all people roughly equidistant)
 * the graph search at 40 misses it often. Measured on the server (m 16, ef_construction 64), identification accuracy
 * at ef_search 40 / 100 / 200: 0.905 / 0.975 / 1.000 on 100k templates (bench/results.json, quick run of 2026-11-26),
 * 0.667 / 0.843 / 0.933 on 1M (bench/results-full.json, --full run of 2026-11-26). The "(as shipped)" rows there are
 * this value; the 1M shortfall is issue 19's.
 */
export const CENTRAL_EF_SEARCH = 200;

/**
 * Applies the search settings to this session. `iterative_scan = strict_order` (pgvector ≥ 0.8) keeps the scan
 * going when a WHERE clause (active, this kiosk's sites, "anyone but this person") filters out the first
 * ef_search candidates; without it a filtered search can return fewer rows than asked for, or none, even though a
 * match exists: the duplicate guard would then miss a duplicate. Session-level (not SET LOCAL) so that it holds
 * for callers outside a transaction block; every central search connection is ours, so nothing else inherits it.
 */
export async function applySearchSettings(client: pg.ClientBase, scope: 'session' | 'transaction' = 'session'): Promise<void> {
  // 'transaction' (SET LOCAL, inside the caller's transaction): behind a transaction pooler the next statement may run
  // on another server session, and a session-level SET would stay behind on this one for the next client.
  const set = scope === 'transaction' ? 'SET LOCAL' : 'SET';
  await client.query(`${set} hnsw.ef_search = ${CENTRAL_EF_SEARCH}; ${set} hnsw.iterative_scan = strict_order`);
}
