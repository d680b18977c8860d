import type pg from 'pg';
import { applySearchSettings } from '../central/search-settings.js';

/** Two different employees with a face template closer than the threshold: one person enrolled twice, or an impostor. */
export interface DuplicateFacePair {
  employeeNo: string;
  fullName: string;
  site: string;
  /** The kiosk whose enrolment added the template that was checked, or null for IT's own imports. */
  enrolledAtKiosk: string | null;
  otherEmployeeNo: string;
  otherFullName: string;
  otherSite: string;
  distance: number;
}

export interface DuplicateFaceReport {
  threshold: number;
  templatesChecked: number;
  pairs: DuplicateFacePair[];
}

/**
 * IT's check for faces enrolled under more than one employee, across every site.
 *
 * Why it exists: a kiosk's enrolment compares a new face only with the sites that kiosk serves (kiosk_enrol, migration
 * 0080), so that a kiosk learns nothing about other sites' faces; IT's own import compares with everyone. So the
 * templates a kiosk added are the ones that can duplicate someone elsewhere, and by default only they are checked
 * (`all` checks every template). Each pair of employees is reported once, at its closest distance.
 */
export async function findDuplicateFaces(
  client: pg.ClientBase,
  options: { all: boolean; threshold?: number },
): Promise<DuplicateFaceReport> {
  const threshold =
    options.threshold ??
    // real → numeric keeps the value as written (0.55), not its float expansion.
    Number((await client.query<{ t: number }>('SELECT duplicate_face_threshold::numeric::float8 AS t FROM central_settings')).rows[0]?.t);
  await applySearchSettings(client);
  const { rows } = await client.query<{
    template_id: string;
    employee_no: string;
    full_name: string;
    site: string;
    kiosk: string | null;
    other_no: string;
    other_name: string;
    other_site: string;
    distance: number;
  }>(
    // The inner query is the index scan (nearest template of anyone else); the filter on distance comes after it.
    `SELECT p.id::text AS template_id, a.employee_no, a.full_name, a.site, k.name AS kiosk,
            b.employee_no AS other_no, b.full_name AS other_name, b.site AS other_site, n.distance
     FROM face_templates p
     JOIN employees a ON a.id = p.employee_id
     LEFT JOIN kiosks k ON k.id = p.enrolled_by_kiosk
     CROSS JOIN LATERAL (
       SELECT u.employee_id, (u.embedding <-> p.embedding)::float8 AS distance
       FROM face_templates u
       WHERE u.employee_id <> p.employee_id AND u.model_id = p.model_id
       ORDER BY u.embedding <-> p.embedding LIMIT 1
     ) n
     JOIN employees b ON b.id = n.employee_id
     WHERE ($1 OR p.enrolled_by_kiosk IS NOT NULL) AND n.distance <= $2
     ORDER BY n.distance, p.enrolled_by_kiosk IS NULL`,
    [options.all, threshold],
  );
  const checked = await client.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM face_templates WHERE $1 OR enrolled_by_kiosk IS NOT NULL',
    [options.all],
  );
  // Each pair once, from the side a kiosk enrolled when there is one (rows come closest first, kiosk side first).
  const seen = new Set<string>();
  const pairs: DuplicateFacePair[] = [];
  for (const r of rows) {
    const key = [r.employee_no, r.other_no].sort().join('\u0000');
    if (seen.has(key)) continue;
    seen.add(key);
    pairs.push({
      employeeNo: r.employee_no,
      fullName: r.full_name,
      site: r.site,
      enrolledAtKiosk: r.kiosk,
      otherEmployeeNo: r.other_no,
      otherFullName: r.other_name,
      otherSite: r.other_site,
      distance: r.distance,
    });
  }
  return { threshold, templatesChecked: checked.rows[0]?.n ?? 0, pairs };
}
