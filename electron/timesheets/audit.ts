import type pg from 'pg';
import { ClockfaceError } from '../../shared/errors.js';
import { query } from './central-call.js';
import { parseTypedInstant } from './instant-input.js';
import { findEmployee } from './timesheet-data.js';

/** One row of central's append-only audit log. */
export interface AuditEntry {
  id: number;
  at: string;
  /** The login that did it (session_user on central). */
  login: string;
  /** correction.requested, correction.approved, rules.changed, employee.erased, kiosk.added, … */
  kind: string;
  site: string | null;
  employeeNo: string | null;
  subject: string | null;
  /** A correction's reason, or a decision's (when it has one). */
  reason: string | null;
  before: unknown;
  after: unknown;
}

const KIND = /^[a-z_]+(\.[a-z_]+)?$/;

/** `--since`: a date (midnight UTC) or an ISO time with its offset. */
function sinceInstant(since: string): Date {
  if (/^\d{4}-\d{2}-\d{2}$/.test(since)) return parseTypedInstant(`${since}T00:00Z`, null, '--since').at;
  return parseTypedInstant(since, null, '--since').at;
}

/**
 * The newest `limit` audit rows (oldest first), by employee, time and kind. A kind without a dot is a family:
 * `correction` is every `correction.*`.
 */
export async function readAudit(
  client: pg.ClientBase,
  filter: { employeeNo?: string; since?: string; kind?: string; site?: string; login?: string; limit?: number },
): Promise<AuditEntry[]> {
  if (filter.kind !== undefined && !KIND.test(filter.kind)) {
    throw new ClockfaceError('INVALID_ARGUMENT', `--kind is an audit kind such as correction.approved or correction, not "${filter.kind}"`);
  }
  const since = filter.since === undefined ? null : sinceInstant(filter.since);
  const limit = filter.limit ?? 1000;
  if (!Number.isInteger(limit) || limit < 1 || limit > 100_000) throw new ClockfaceError('INVALID_ARGUMENT', '--limit is 1 to 100000');
  const employeeId = filter.employeeNo === undefined ? null : (await findEmployee(client, filter.employeeNo)).id;
  const rows = await query<{
    id: string;
    at: Date;
    login: string;
    kind: string;
    site: string | null;
    employee_no: string | null;
    subject: string | null;
    reason: string | null;
    before: unknown;
    after: unknown;
  }>(
    client,
    `SELECT a.id::text, a.at, a.login, a.kind, a.site, e.employee_no, a.subject, a.after ->> 'reason' AS reason, a.before, a.after
     FROM audit_log a LEFT JOIN employees e ON e.id = a.employee_id
     WHERE ($1::bigint IS NULL OR a.employee_id = $1) AND ($2::timestamptz IS NULL OR a.at >= $2)
       AND ($3::text IS NULL OR a.kind = $3 OR a.kind LIKE $3 || '.%') AND ($4::text IS NULL OR a.site = $4)
       AND ($6::text IS NULL OR a.login = $6)
     ORDER BY a.id DESC LIMIT $5`,
    [employeeId, since, filter.kind ?? null, filter.site ?? null, limit, filter.login ?? null],
  );
  return rows.reverse().map((r) => ({
    id: Number(r.id),
    at: r.at.toISOString(),
    login: r.login,
    kind: r.kind,
    site: r.site,
    employeeNo: r.employee_no,
    subject: r.subject,
    reason: r.reason,
    before: r.before,
    after: r.after,
  }));
}
