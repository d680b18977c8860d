import type pg from 'pg';
import { FACE_MODEL_ID } from '../../shared/face-model.js';
import { applySearchSettings } from './search-settings.js';
import { toVectorLiteral } from './vector-literal.js';

/** Whom a central 1:N search considers. */
export interface PeopleSearchScope {
  /** Only the employees of the sites this kiosk serves (the kiosk's central fallback). Default: every site. */
  kioskId?: number;
  /** Leave this employee out: the duplicate-face guard asks "anyone else?". */
  excludeEmployeeNo?: string;
  /**
   * Deactivated employees too. The kiosk's rule counts active people only (a deactivated person is not clocked in);
   * the duplicate-face guard counts everyone (a face enrolled again under a new number is still a duplicate).
   */
  includeInactive?: boolean;
}

/** One person found by a 1:N search: their nearest template's distance. */
export interface NearPerson {
  employeeId: number;
  employeeNo: string;
  fullName: string;
  active: boolean;
  distance: number;
}

/**
 * The SQL of central's 1:N search over everyone (`clockface search`, the import's duplicate-face guard; the kiosk's
 * fallback, over its own sites, is SITE_PEOPLE_SEARCH_SQL below): the k nearest PEOPLE, each by their nearest
 * template, found one person at a time. ($5, a kiosk's sites, still works here; nearestPeople sends those searches
 * to the exact form.)
 *
 * Why one person at a time: the match rule (shared/kiosk/match-policy.ts) needs the nearest person and the nearest
 * OTHER person (the margin). A search for the nearest N templates, grouped by person afterwards, returns only one
 * person when someone has more than N templates nearer than a look-alike colleague, and the margin rule then passes a
 * match it should have called ambiguous. Here each step is an hnsw index scan (ORDER BY distance LIMIT 1) that leaves
 * out the people already found; with `hnsw.iterative_scan` on (applySearchSettings) the scan walks past however many
 * templates those people have. k steps, one statement, one snapshot.
 *
 * $1 descriptor, $2 model, $3 include inactive, $4 employee number to leave out, $5 kiosk id, $6 k.
 */
export const PEOPLE_SEARCH_SQL = `
  WITH RECURSIVE found (rank, seen, employee_id, distance) AS (
    SELECT 1, ARRAY[x.employee_id], x.employee_id, x.distance
    FROM (
      SELECT t.employee_id, (t.embedding <-> $1::vector)::float8 AS distance
      FROM face_templates t JOIN employees e ON e.id = t.employee_id
      WHERE t.model_id = $2 AND ($3::boolean OR e.active) AND ($4::text IS NULL OR e.employee_no <> $4)
        AND ($5::bigint IS NULL OR e.site IN (SELECT k.site FROM kiosks k WHERE k.id = $5
                                              UNION SELECT ks.site FROM kiosk_sites ks WHERE ks.kiosk_id = $5))
      ORDER BY t.embedding <-> $1::vector
      LIMIT 1
    ) x
    UNION ALL
    SELECT f.rank + 1, f.seen || x.employee_id, x.employee_id, x.distance
    FROM found f
    CROSS JOIN LATERAL (
      SELECT t.employee_id, (t.embedding <-> $1::vector)::float8 AS distance
      FROM face_templates t JOIN employees e ON e.id = t.employee_id
      WHERE t.model_id = $2 AND ($3::boolean OR e.active) AND ($4::text IS NULL OR e.employee_no <> $4)
        AND ($5::bigint IS NULL OR e.site IN (SELECT k.site FROM kiosks k WHERE k.id = $5
                                              UNION SELECT ks.site FROM kiosk_sites ks WHERE ks.kiosk_id = $5))
        AND t.employee_id <> ALL (f.seen)
      ORDER BY t.embedding <-> $1::vector
      LIMIT 1
    ) x
    WHERE f.rank < $6
  )
  SELECT f.employee_id::int AS employee_id, e.employee_no, e.full_name, e.active, f.distance
  FROM found f JOIN employees e ON e.id = f.employee_id
  ORDER BY f.rank`;

/**
 * The kiosk's central fallback: the same answer as PEOPLE_SEARCH_SQL (the k nearest people of the kiosk's sites, each
 * by their nearest template), computed exactly, without the hnsw index. The index serves every site at once: asked
 * for one site's people it walks past everyone else's templates, and identifies worse and slower than simply measuring
 * the site's own (`npm run bench -- central`, "one site of 100", 2 clients on 2 cores: 1M templates, 10k per site,
 * exact 142 queries/s, every one right, against the index filtered to the site 115 q/s, 0.923 identified; 100k, 1k
 * per site: 919 against 201 q/s, 0.99). The cost grows
 * with the site, not with central: per person of the kiosk's sites, their templates by face_templates_employee.
 * The LATERAL keeps that plan whatever the statistics say (a hash join over all of face_templates would read the
 * whole table). Parameters as PEOPLE_SEARCH_SQL's; $5 (the kiosk) must be set.
 */
export const SITE_PEOPLE_SEARCH_SQL = `
  SELECT e.id::int AS employee_id, e.employee_no, e.full_name, e.active, m.distance
  FROM employees e
  CROSS JOIN LATERAL (
    SELECT min(t.embedding <-> $1::vector)::float8 AS distance
    FROM face_templates t
    WHERE t.employee_id = e.id AND t.model_id = $2
  ) m
  WHERE m.distance IS NOT NULL AND ($3::boolean OR e.active) AND ($4::text IS NULL OR e.employee_no <> $4)
    AND e.site IN (SELECT k.site FROM kiosks k WHERE k.id = $5::bigint
                   UNION SELECT ks.site FROM kiosk_sites ks WHERE ks.kiosk_id = $5::bigint)
  ORDER BY m.distance, e.id
  LIMIT $6`;

/** Which search answers `scope`: a kiosk's sites exactly, everyone through the hnsw index. */
export function peopleSearchSql(scope: PeopleSearchScope): string {
  return scope.kioskId === undefined ? PEOPLE_SEARCH_SQL : SITE_PEOPLE_SEARCH_SQL;
}

/** The parameters of PEOPLE_SEARCH_SQL and SITE_PEOPLE_SEARCH_SQL. */
export function peopleSearchParams(descriptor: ArrayLike<number>, k: number, scope: PeopleSearchScope = {}): unknown[] {
  return [
    toVectorLiteral(descriptor),
    FACE_MODEL_ID,
    scope.includeInactive ?? false,
    scope.excludeEmployeeNo ?? null,
    scope.kioskId ?? null,
    k,
  ];
}

/**
 * The k nearest people to a descriptor on central (PEOPLE_SEARCH_SQL, or SITE_PEOPLE_SEARCH_SQL for a kiosk's
 * sites), nearest first. `settings`: see
 * applySearchSettings ('transaction' needs the caller's open transaction).
 */
export async function nearestPeople(
  client: pg.ClientBase,
  descriptor: ArrayLike<number>,
  k: number,
  scope: PeopleSearchScope = {},
  settings: 'session' | 'transaction' = 'session',
): Promise<NearPerson[]> {
  const sql = peopleSearchSql(scope);
  if (sql === PEOPLE_SEARCH_SQL) await applySearchSettings(client, settings);
  const { rows } = await client.query<{ employee_id: number; employee_no: string; full_name: string; active: boolean; distance: number }>(
    sql,
    peopleSearchParams(descriptor, k, scope),
  );
  return rows.map((r) => ({
    employeeId: r.employee_id,
    employeeNo: r.employee_no,
    fullName: r.full_name,
    active: r.active,
    distance: r.distance,
  }));
}
