import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { CENTRAL_EF_SEARCH } from '../../electron/central/search-settings.js';
import { fromVectorLiteral, toVectorLiteral } from '../../electron/central/vector-literal.js';
import { nearestPeople, PEOPLE_SEARCH_SQL, SITE_PEOPLE_SEARCH_SQL, peopleSearchParams, peopleSearchSql } from '../../electron/central/face-search.js';
import { applySearchSettings } from '../../electron/central/search-settings.js';
import { centralFactories, startMigrated, type TestCentral } from '../support/centrals.js';
import { addSite } from '../support/roster-fixtures.js';

const EMPLOYEES = 500;
const TEMPLATES_PER_EMPLOYEE = 4;

/** A bare k-nearest query on the index (the product's search, PEOPLE_SEARCH_SQL, is built from such scans). */
const KNN = 'SELECT id, employee_id, embedding <-> $1 AS distance FROM face_templates ORDER BY embedding <-> $1 LIMIT 5';

describe.each(centralFactories())('1:N face search on $label', (factory) => {
  let central: TestCentral;
  let client: pg.Client;

  beforeAll(async () => {
    central = await startMigrated(factory);
    client = await central.connect();
    await addSite(client, 'hq');
    await client.query(
      `INSERT INTO employees (employee_no, full_name, site)
       SELECT 'P' || g, 'Person ' || g, 'hq' FROM generate_series(1, $1::int) g`,
      [EMPLOYEES],
    );
    // The subquery mentions the outer row so that every template gets its own random vector.
    await client.query(
      `INSERT INTO face_templates (employee_id, model_id, embedding, source)
       SELECT e.id, 'faceapi-resnet128@1',
              (SELECT array_agg(random() * 0.4 - 0.2) FROM generate_series(1, 128) WHERE e.id + r > 0)::vector,
              'import'
       FROM employees e, generate_series(1, $1::int) r`,
      [TEMPLATES_PER_EMPLOYEE],
    );
    await client.query('ANALYZE face_templates');
  });
  afterAll(async () => {
    await client.end();
    await central.close();
  });

  it('has the seeded templates', async () => {
    const { rows } = await client.query('SELECT count(*)::int AS n FROM face_templates');
    expect(rows[0]).toEqual({ n: EMPLOYEES * TEMPLATES_PER_EMPLOYEE });
  });

  it('plans the k-nearest query on the hnsw index, with the planner left to choose', async () => {
    const probe = await client.query<{ embedding: string }>('SELECT embedding::text FROM face_templates LIMIT 1');
    const { rows } = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${KNN}`, [probe.rows[0]?.embedding]);
    const plan = rows.map((r) => r['QUERY PLAN']).join('\n');
    expect(plan).toMatch(/Index Scan using face_templates_embedding_hnsw on face_templates/);
    expect(plan).not.toMatch(/Seq Scan/);
  });

  it("plans the product's people search (every 1:N search on central) on the hnsw index, one scan per person found", async () => {
    const probe = await client.query<{ embedding: string }>('SELECT embedding::text FROM face_templates LIMIT 1');
    const descriptor = fromVectorLiteral(probe.rows[0]?.embedding ?? '');
    await applySearchSettings(client);
    // At 2,000 templates an exact scan of the joined, filtered query is cheaper and the planner says so; at production
    // sizes it takes the index. Turning sequential scans off shows the plan that the index makes possible.
    await client.query('SET enable_seqscan = off');
    try {
      for (const scope of [{}, { excludeEmployeeNo: 'P1', includeInactive: true }]) {
        const { rows } = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${PEOPLE_SEARCH_SQL}`, peopleSearchParams(descriptor, 3, scope));
        const plan = rows.map((r) => r['QUERY PLAN']).join('\n');
        // The first person and each further one: two index scans in the plan (the CTE's base and recursive terms).
        expect(plan.match(/Index Scan using face_templates_embedding_hnsw on face_templates/g), plan).toHaveLength(2);
        expect(plan, plan).not.toMatch(/Seq Scan on face_templates/);
      }
    } finally {
      await client.query('RESET enable_seqscan');
    }
  });

  it("plans a kiosk's fallback (its sites' people) without the hnsw index: each person's templates by employee", async () => {
    const probe = await client.query<{ embedding: string }>('SELECT embedding::text FROM face_templates LIMIT 1');
    const descriptor = fromVectorLiteral(probe.rows[0]?.embedding ?? '');
    const { rows } = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${SITE_PEOPLE_SEARCH_SQL}`, peopleSearchParams(descriptor, 2, { kioskId: 1 }));
    const plan = rows.map((r) => r['QUERY PLAN']).join('\n');
    expect(peopleSearchSql({ kioskId: 1 })).toBe(SITE_PEOPLE_SEARCH_SQL);
    expect(peopleSearchSql({ excludeEmployeeNo: 'P1' })).toBe(PEOPLE_SEARCH_SQL);
    expect(plan, plan).not.toMatch(/face_templates_embedding_hnsw/);
    expect(plan, plan).toMatch(/Index Scan using face_templates_employee on face_templates|Bitmap Index Scan on face_templates_employee/);
    expect(plan, plan).not.toMatch(/Seq Scan on face_templates/);
  });

  it("a kiosk's fallback finds exactly the nearest two people of its sites, by their nearest templates", async () => {
    await addSite(client, 'annex');
    const { rows: kiosks } = await client.query<{ id: number }>(
      "INSERT INTO kiosks (name, site, role_name) VALUES ('fallback-door', 'hq', 'fallback_door_role') RETURNING id::int",
    );
    const kioskId = kiosks[0]?.id ?? 0;
    // Someone at another site nearer than anyone at hq: the kiosk's search must not see them.
    const probe = await client.query<{ embedding: string }>('SELECT embedding::text FROM face_templates ORDER BY id LIMIT 1');
    const query = fromVectorLiteral(probe.rows[0]?.embedding ?? '').map((x, i) => (i === 0 ? x + 0.05 : x));
    const { rows: away } = await client.query<{ id: number }>(
      "INSERT INTO employees (employee_no, full_name, site) VALUES ('AWAY', 'At The Annex', 'annex') RETURNING id::int",
    );
    await client.query("INSERT INTO face_templates (employee_id, model_id, embedding, source) VALUES ($1, 'faceapi-resnet128@1', $2, 'import')", [
      away[0]?.id,
      toVectorLiteral(query),
    ]);
    const { rows: truth } = await client.query<{ employee_no: string; d: number }>(
      `SELECT e.employee_no, min(t.embedding <-> $1::vector)::float8 AS d
       FROM face_templates t JOIN employees e ON e.id = t.employee_id WHERE e.site = 'hq' AND e.active
       GROUP BY e.employee_no ORDER BY d LIMIT 2`,
      [toVectorLiteral(query)],
    );
    const found = await nearestPeople(client, Float32Array.from(query), 2, { kioskId });
    expect(found.map((p) => p.employeeNo)).toEqual(truth.map((t) => t.employee_no));
    found.forEach((person, i) => expect(person.distance).toBeCloseTo(truth[i]?.d ?? -1, 6));
    expect(found.map((p) => p.employeeNo)).not.toContain('AWAY');
    // Everyone's search (no kiosk) does see the nearer person at the annex.
    expect((await nearestPeople(client, Float32Array.from(query), 1, {}))[0]?.employeeNo).toBe('AWAY');
    await client.query("DELETE FROM employees WHERE employee_no = 'AWAY'");
    await client.query('DELETE FROM kiosks WHERE id = $1', [kioskId]);
  });

  it('finds a stored template as its own nearest neighbour through the index', async () => {
    const { rows: sample } = await client.query<{ id: string; embedding: string }>(
      'SELECT id::text, embedding::text FROM face_templates ORDER BY id LIMIT 20',
    );
    for (const row of sample) {
      const query = toVectorLiteral(fromVectorLiteral(row.embedding));
      const { rows } = await client.query<{ id: string; distance: number }>(KNN, [query]);
      expect(rows[0]?.id).toBe(String(row.id));
      expect(rows[0]?.distance).toBeCloseTo(0, 5);
      expect(rows).toHaveLength(5);
    }
  });

  it('a filtered search still finds someone else behind more than ef_search templates of the person it leaves out', async () => {
    // The duplicate guard asks "anyone but this person?". An hnsw scan hands back ef_search candidates and the
    // WHERE clause filters them afterwards: if the person being enrolled owns every one of them, a plain scan finds
    // nobody and the guard waves a duplicate through. The search settings' iterative scan keeps going.
    const crowd = CENTRAL_EF_SEARCH + 100;
    const { rows: ids } = await client.query<{ id: number }>(
      `INSERT INTO employees (employee_no, full_name, site) VALUES ('CROWD', 'Many Templates', 'hq'), ('OTHER', 'Someone Else', 'hq')
       RETURNING id::int`,
    );
    const centre = Array.from({ length: 128 }, (_, i) => (i % 2 === 0 ? 0.3 : -0.3));
    await client.query(
      `INSERT INTO face_templates (employee_id, model_id, embedding, source)
       SELECT $1, 'faceapi-resnet128@1',
              (SELECT array_agg(c + (random() - 0.5) * 0.004) FROM unnest($2::real[]) c WHERE r > 0)::vector, 'import'
       FROM generate_series(1, $3::int) r`,
      [ids[0]?.id, centre, crowd],
    );
    const other = centre.map((c, i) => (i === 0 ? c + 0.08 : c));
    await client.query(
      `INSERT INTO face_templates (employee_id, model_id, embedding, source) VALUES ($1, 'faceapi-resnet128@1', $2, 'import')`,
      [ids[1]?.id, toVectorLiteral(other)],
    );
    await client.query('ANALYZE face_templates');
    // At 2,300 templates the planner rightly prefers an exact scan for the joined, filtered query; at production
    // sizes it takes the index. Turning sequential scans off gives this small table the large table's plan.
    await client.query('SET enable_seqscan = off');
    try {
      const guard = { excludeEmployeeNo: 'CROWD', includeInactive: true };
      const found = await nearestPeople(client, Float32Array.from(centre), 1, guard);
      expect(found.map((n) => n.employeeNo)).toEqual(['OTHER']);
      expect(found[0]?.distance).toBeCloseTo(0.08, 2);
      // And without the iterative scan the same query misses OTHER: the setting is what finds it, not luck.
      await client.query('SET hnsw.iterative_scan = off');
      const { rows } = await client.query<{ employee_no: string }>(PEOPLE_SEARCH_SQL, peopleSearchParams(Float32Array.from(centre), 1, guard));
      expect(rows.map((r) => r.employee_no)).not.toContain('OTHER');
      // Nor does it need the exclusion: the nearest two people are CROWD and then OTHER, however many templates CROWD has.
      await applySearchSettings(client);
      const two = await nearestPeople(client, Float32Array.from(centre), 2, {});
      expect(two.map((n) => n.employeeNo)).toEqual(['CROWD', 'OTHER']);
    } finally {
      await client.query('RESET enable_seqscan');
      await applySearchSettings(client);
    }
  });
});
