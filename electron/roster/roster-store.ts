import type pg from 'pg';
import { FACE_MODEL_ID } from '../../shared/face-model.js';
import { toVectorLiteral } from '../central/vector-literal.js';

/**
 * Roster writes and reads on central, for the IT tooling (admin connection). Kiosks never call these: they read
 * through the change feed under row-level security.
 */

export interface EmployeeFields {
  employeeNo: string;
  fullName: string;
  department: string | null;
  site: string;
}

export type UpsertOutcome = 'created' | 'updated' | 'unchanged';

export interface StoredEmployee {
  id: number;
  employeeNo: string;
  fullName: string;
  department: string | null;
  site: string;
  active: boolean;
  pinHash: string | null;
}

/** Creates a site that a roster names for the first time (time zone UTC until IT sets it). */
export async function ensureSite(client: pg.ClientBase, code: string): Promise<boolean> {
  const result = await client.query(
    "INSERT INTO sites (code, name, time_zone) VALUES ($1, $1, 'UTC') ON CONFLICT (code) DO NOTHING",
    [code],
  );
  return (result.rowCount ?? 0) > 0;
}

export async function findEmployees(client: pg.ClientBase, employeeNos: readonly string[]): Promise<Map<string, StoredEmployee>> {
  const { rows } = await client.query<{
    id: string;
    employee_no: string;
    full_name: string;
    department: string | null;
    site: string;
    active: boolean;
    pin_hash: string | null;
  }>(
    `SELECT id::text, employee_no, full_name, department, site, active, pin_hash
     FROM employees WHERE employee_no = ANY($1::text[])`,
    [employeeNos],
  );
  return new Map(
    rows.map((r) => [
      r.employee_no,
      {
        id: Number(r.id),
        employeeNo: r.employee_no,
        fullName: r.full_name,
        department: r.department,
        site: r.site,
        active: r.active,
        pinHash: r.pin_hash,
      },
    ]),
  );
}

/**
 * Inserts or updates an employee by employee number. An update that changes nothing writes nothing (so no feed
 * row, no kiosk work). `pinHash` undefined keeps the stored PIN. The active flag is left alone: deactivation is an
 * explicit act, not the side effect of a roster file.
 */
export async function upsertEmployee(
  client: pg.ClientBase,
  fields: EmployeeFields,
  pinHash: string | undefined,
): Promise<{ id: number; outcome: UpsertOutcome }> {
  const { rows } = await client.query<{ id: string; inserted: boolean }>(
    `INSERT INTO employees AS e (employee_no, full_name, department, site, pin_hash)
     VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (employee_no) DO UPDATE
       SET full_name = EXCLUDED.full_name, department = EXCLUDED.department, site = EXCLUDED.site,
           pin_hash = coalesce($5, e.pin_hash)
       WHERE (e.full_name, e.department, e.site, e.pin_hash)
             IS DISTINCT FROM (EXCLUDED.full_name, EXCLUDED.department, EXCLUDED.site, coalesce($5, e.pin_hash))
     RETURNING id::text, (xmax = 0) AS inserted`,
    [fields.employeeNo, fields.fullName, fields.department, fields.site, pinHash ?? null],
  );
  const row = rows[0];
  if (row) return { id: Number(row.id), outcome: row.inserted ? 'created' : 'updated' };
  const existing = await client.query<{ id: string }>('SELECT id::text FROM employees WHERE employee_no = $1', [
    fields.employeeNo,
  ]);
  return { id: Number(existing.rows[0]?.id), outcome: 'unchanged' };
}

/** Photo hashes already enrolled, per employee number: a re-import skips them without running the face engine. */
export async function enrolledPhotoHashes(
  client: pg.ClientBase,
  employeeNos: readonly string[],
): Promise<Map<string, Set<string>>> {
  const { rows } = await client.query<{ employee_no: string; photo_sha256: string }>(
    `SELECT e.employee_no, t.photo_sha256 FROM face_templates t JOIN employees e ON e.id = t.employee_id
     WHERE e.employee_no = ANY($1::text[]) AND t.photo_sha256 IS NOT NULL`,
    [employeeNos],
  );
  const out = new Map<string, Set<string>>();
  for (const r of rows) {
    const set = out.get(r.employee_no) ?? new Set<string>();
    set.add(r.photo_sha256);
    out.set(r.employee_no, set);
  }
  return out;
}

export interface NewTemplate {
  descriptor: Float32Array;
  quality: number;
  source: 'import' | 'enrol' | 'kiosk';
  photoSha256: string | null;
}

/** Adds a template; the same photo twice for one employee is stored once. Returns whether a row was added. */
export async function addTemplate(client: pg.ClientBase, employeeId: number, t: NewTemplate): Promise<boolean> {
  const result = await client.query(
    `INSERT INTO face_templates (employee_id, model_id, embedding, quality, source, photo_sha256)
     VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (employee_id, photo_sha256) WHERE photo_sha256 IS NOT NULL DO NOTHING`,
    [employeeId, FACE_MODEL_ID, toVectorLiteral(t.descriptor), t.quality, t.source, t.photoSha256],
  );
  return (result.rowCount ?? 0) > 0;
}
