import type pg from 'pg';
import { ClockfaceError } from '../../shared/errors.js';
import { explainSqlError, sqlState } from '../central/sql-errors.js';

export interface EmployeeDetails {
  employeeNo: string;
  fullName: string;
  department: string | null;
  site: string;
  active: boolean;
  /** null when this login may not know (a supervisor reads no PIN hashes and no templates). */
  pinSet: boolean | null;
  templates: number | null;
  punches: number;
  lastPunchAt: Date | null;
  erasedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/** Employees by site and status; `search` matches the number or the name (case-insensitive), at most `limit`. */
export async function listEmployees(
  client: pg.ClientBase,
  filter: { site?: string; includeInactive: boolean; search?: string; limit?: number },
): Promise<EmployeeDetails[]> {
  const like = filter.search ? `%${filter.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%` : null;
  return queryDetails(
    client,
    `WHERE ($1::text IS NULL OR e.site = $1) AND ($2 OR e.active)
       AND ($3::text IS NULL OR e.employee_no ILIKE $3 OR e.full_name ILIKE $3)`,
    [filter.site ?? null, filter.includeInactive, like],
    filter.limit,
  );
}

export async function showEmployee(client: pg.ClientBase, employeeNo: string): Promise<EmployeeDetails> {
  const [found] = await queryDetails(client, 'WHERE e.employee_no = $1', [employeeNo]);
  if (!found) throw new ClockfaceError('EMPLOYEE_NOT_FOUND', `no employee ${employeeNo}`);
  return found;
}

async function queryDetails(client: pg.ClientBase, where: string, params: unknown[], limit?: number): Promise<EmployeeDetails[]> {
  // A supervisor (the console) reads employees but no PIN hashes and no face templates: ask only what this login may.
  const { rows: can } = await client.query<{ pin: boolean; templates: boolean }>(
    "SELECT has_column_privilege('employees', 'pin_hash', 'SELECT') AS pin, has_table_privilege('face_templates', 'SELECT') AS templates",
  );
  const pinColumn = can[0]?.pin ? 'e.pin_hash IS NOT NULL' : 'NULL::boolean';
  const templatesColumn = can[0]?.templates ? '(SELECT count(*)::int FROM face_templates t WHERE t.employee_id = e.id)' : 'NULL::int';
  const { rows } = await client.query<{
    employee_no: string;
    full_name: string;
    department: string | null;
    site: string;
    active: boolean;
    pin_set: boolean | null;
    templates: number | null;
    punches: number;
    last_punch_at: Date | null;
    erased_at: Date | null;
    created_at: Date;
    updated_at: Date;
  }>(
    `SELECT e.employee_no, e.full_name, e.department, e.site, e.active, ${pinColumn} AS pin_set,
            ${templatesColumn} AS templates,
            (SELECT count(*)::int FROM punches p WHERE p.employee_id = e.id) AS punches,
            (SELECT max(p.punched_at) FROM punches p WHERE p.employee_id = e.id) AS last_punch_at,
            e.erased_at, e.created_at, e.updated_at
     FROM employees e ${where} ORDER BY e.employee_no${limit === undefined ? '' : ` LIMIT ${Math.max(1, Math.trunc(limit))}`}`,
    params,
  );
  return rows.map((r) => ({
    employeeNo: r.employee_no,
    fullName: r.full_name,
    department: r.department,
    site: r.site,
    active: r.active,
    pinSet: r.pin_set,
    templates: r.templates,
    punches: r.punches,
    lastPunchAt: r.last_punch_at,
    erasedAt: r.erased_at,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  }));
}

/** Deactivation keeps everything but stops recognition: kiosks drop the person's vectors at their next sync. */
export async function setActive(client: pg.ClientBase, employeeNo: string, active: boolean): Promise<void> {
  const result = await client.query('UPDATE employees SET active = $2 WHERE employee_no = $1', [employeeNo, active]);
  if (result.rowCount === 0) throw new ClockfaceError('EMPLOYEE_NOT_FOUND', `no employee ${employeeNo}`);
}

export interface ErasureResult {
  templatesDeleted: number;
  snapshotsDeleted: number;
  pinCleared: boolean;
}

/** How long erasure waits for the employee's row before ending kiosk sessions stalled on it (and trying once more). */
const ERASE_LOCK_TIMEOUT = '10s';

/**
 * The right to erasure: the person's face templates, PIN hash and audit snapshots go, in one transaction; the
 * change feed carries a tombstone per template so every kiosk cache drops them at its next sync. The employee row
 * and the punch rows stay: they are payroll records, not biometric data.
 *
 * The employee's row is locked first (FOR UPDATE), which waits for any enrolment or audit snapshot of that person
 * still in flight: those either land before the erasure (and are deleted by it) or see erased_at and are refused
 * (central's triggers, migration 0080). A kiosk session left idle in a transaction holding such a lock would make
 * this wait; after ERASE_LOCK_TIMEOUT, central ends stalled kiosk sessions and the erasure runs again once.
 */
export async function eraseEmployee(client: pg.ClientBase, employeeNo: string): Promise<ErasureResult> {
  try {
    return await eraseOnce(client, employeeNo);
  } catch (e) {
    if (sqlState(e) !== '55P03') throw explainSqlError(e);
    await client.query("SELECT end_stalled_kiosk_sessions('5 seconds')");
    try {
      return await eraseOnce(client, employeeNo);
    } catch (again) {
      throw explainSqlError(again);
    }
  }
}

async function eraseOnce(client: pg.ClientBase, employeeNo: string): Promise<ErasureResult> {
  await client.query('BEGIN');
  try {
    await client.query(`SET LOCAL lock_timeout = '${ERASE_LOCK_TIMEOUT}'`);
    const found = await client.query<{ id: string; pin_set: boolean }>(
      'SELECT id::text, pin_hash IS NOT NULL AS pin_set FROM employees WHERE employee_no = $1 FOR UPDATE',
      [employeeNo],
    );
    const employee = found.rows[0];
    if (!employee) throw new ClockfaceError('EMPLOYEE_NOT_FOUND', `no employee ${employeeNo}`);
    const templates = await client.query('DELETE FROM face_templates WHERE employee_id = $1', [employee.id]);
    const snapshots = await client.query(
      'DELETE FROM punch_snapshots WHERE punch_id IN (SELECT id FROM punches WHERE employee_id = $1)',
      [employee.id],
    );
    await client.query(
      'UPDATE employees SET pin_hash = NULL, consent_at = NULL, erased_at = now() WHERE id = $1',
      [employee.id],
    );
    await client.query('COMMIT');
    return {
      templatesDeleted: templates.rowCount ?? 0,
      snapshotsDeleted: snapshots.rowCount ?? 0,
      pinCleared: employee.pin_set,
    };
  } catch (e) {
    await client.query('ROLLBACK');
    throw e;
  }
}
