import type pg from 'pg';
import { ClockfaceError } from '../../shared/errors.js';
import type { CorrectionStatus, PunchDirection } from '../../shared/timesheet/index.js';
import { query } from './central-call.js';
import { hasOffset, parseTypedInstant } from './instant-input.js';
import { readSite } from './site-settings.js';
import { findEmployee } from './timesheet-data.js';

/** What central answered to a correction: its id, its status (approved at once, or pending a second login). */
export interface CorrectionOutcome {
  id: number;
  status: CorrectionStatus;
  /** For an add: the id of the punch it adds (a later move or void names it). */
  punchId?: string;
  /** The instant of the punch, as sent to central (null for a void). */
  at: Date | null;
  /** The zone a time without an offset was read in (null: the time carried one, or there was none). */
  readIn: string | null;
  employeeNo: string | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function checkedReason(reason: string | undefined): string {
  if (reason === undefined || reason.trim() === '') {
    throw new ClockfaceError('INVALID_ARGUMENT', 'give a --reason: it is kept with the correction and in the audit log');
  }
  return reason;
}

function checkedPunchId(punchId: string): string {
  if (!UUID.test(punchId)) {
    throw new ClockfaceError('INVALID_ARGUMENT', `"${punchId}" is not a punch id (a UUID, as \`clockface timesheet\` shows them)`);
  }
  return punchId.toLowerCase();
}

/** A correction id as typed: a positive whole number. */
export function checkedCorrectionId(id: string): number {
  if (!/^[1-9]\d{0,15}$/.test(id)) throw new ClockfaceError('INVALID_ARGUMENT', `"${id}" is not a correction id (a number, as \`clockface correction list\` shows them)`);
  return Number(id);
}

/** The site zone of an employee the login may see, or null. */
async function employeeZone(client: pg.ClientBase, employeeNo: string): Promise<string | null> {
  const [row] = await query<{ time_zone: string }>(
    client,
    'SELECT s.time_zone FROM employees e JOIN sites s ON s.code = e.site WHERE e.employee_no = $1',
    [employeeNo],
  );
  return row?.time_zone ?? null;
}

/** The punch's employee and site zone: a raw punch, or one an add (not rejected) created; null when this login sees none. */
async function punchOwner(client: pg.ClientBase, punchId: string): Promise<{ employeeNo: string; timeZone: string } | null> {
  const [row] = await query<{ employee_no: string; time_zone: string }>(
    client,
    `SELECT e.employee_no, s.time_zone FROM employees e JOIN sites s ON s.code = e.site
     WHERE e.id = coalesce(
       (SELECT p.employee_id FROM punches p WHERE p.id = $1::uuid),
       (SELECT c.employee_id FROM punch_correction_status c WHERE c.kind = 'add' AND c.punch_id = $1::uuid AND c.status <> 'rejected'))`,
    [punchId],
  );
  return row ? { employeeNo: row.employee_no, timeZone: row.time_zone } : null;
}

/**
 * Runs a correction whose time may need the employee's site zone. A time with an offset needs none. Without one,
 * it is read in the zone of the employee's site (the punch's employee's, for a move). When this login sees no
 * such employee or punch, central is still asked, so that the person hears central's own answer (no employee, no
 * punch, or 42501 for a supervisor outside its sites), but inside a transaction that is always rolled back, with the
 * time read in UTC only for that: a correction is never kept with a time read in a zone that was not the site's.
 */
async function withSiteTime<T>(
  client: pg.ClientBase,
  text: string,
  zoneOf: () => Promise<string | null>,
  notFound: () => ClockfaceError,
  run: (at: Date) => Promise<T>,
): Promise<{ result: T; at: Date; readIn: string | null }> {
  if (hasOffset(text)) {
    const { at } = parseTypedInstant(text, null);
    return { result: await run(at), at, readIn: null };
  }
  const probeAt = parseTypedInstant(text, 'UTC').at; // checks the shape before anything is asked
  const zone = await zoneOf();
  if (zone !== null) {
    const { at } = parseTypedInstant(text, zone);
    return { result: await run(at), at, readIn: zone };
  }
  await client.query('BEGIN');
  try {
    await run(probeAt);
  } finally {
    await client.query('ROLLBACK');
  }
  // Central took it for someone this login cannot see (a race with a change of site): nothing was kept.
  throw notFound();
}

/** Adds a punch someone forgot (`correction_add`): direction, time, reason. */
export async function addPunch(
  client: pg.ClientBase,
  request: { employeeNo: string; direction: string; at: string; reason: string | undefined },
): Promise<CorrectionOutcome> {
  if (request.direction !== 'in' && request.direction !== 'out') {
    throw new ClockfaceError('INVALID_ARGUMENT', `--direction is in or out, not "${request.direction}"`);
  }
  const direction: PunchDirection = request.direction;
  const reason = checkedReason(request.reason);
  const { result: row, at, readIn } = await withSiteTime(
    client,
    request.at,
    () => employeeZone(client, request.employeeNo),
    () => new ClockfaceError('EMPLOYEE_NOT_FOUND', `no employee ${request.employeeNo}`),
    async (at) =>
      (
        await query<{ correction_id: string; punch_id: string; status: CorrectionStatus }>(
          client,
          'SELECT correction_id::text, punch_id::text, status FROM correction_add($1, $2, $3, $4)',
          [request.employeeNo, direction, at, reason],
        )
      )[0],
  );
  if (!row) throw new ClockfaceError('INTERNAL', 'central recorded no correction');
  return { id: Number(row.correction_id), status: row.status, punchId: row.punch_id, at, readIn, employeeNo: request.employeeNo };
}

/** Moves a punch (raw, or one an add created) to another time (`correction_move`). */
export async function movePunch(
  client: pg.ClientBase,
  request: { punchId: string; at: string; reason: string | undefined },
): Promise<CorrectionOutcome> {
  const punchId = checkedPunchId(request.punchId);
  const reason = checkedReason(request.reason);
  // Read once, for the zone and for what the command prints.
  const owner = await punchOwner(client, punchId);
  const { result: row, at, readIn } = await withSiteTime(
    client,
    request.at,
    () => Promise.resolve(owner?.timeZone ?? null),
    () => new ClockfaceError('PUNCH_NOT_FOUND', `no punch ${punchId}`),
    async (at) =>
      (
        await query<{ correction_id: string; status: CorrectionStatus }>(
          client,
          'SELECT correction_id::text, status FROM correction_move($1::uuid, $2, $3)',
          [punchId, at, reason],
        )
      )[0],
  );
  if (!row) throw new ClockfaceError('INTERNAL', 'central recorded no correction');
  return { id: Number(row.correction_id), status: row.status, at, readIn, employeeNo: owner?.employeeNo ?? null };
}

/** Voids a punch: it stays, and stops counting (`correction_void`). */
export async function voidPunch(client: pg.ClientBase, request: { punchId: string; reason: string | undefined }): Promise<CorrectionOutcome> {
  const punchId = checkedPunchId(request.punchId);
  const reason = checkedReason(request.reason);
  const owner = await punchOwner(client, punchId);
  const [row] = await query<{ correction_id: string; status: CorrectionStatus }>(
    client,
    'SELECT correction_id::text, status FROM correction_void($1::uuid, $2)',
    [punchId, reason],
  );
  if (!row) throw new ClockfaceError('INTERNAL', 'central recorded no correction');
  return { id: Number(row.correction_id), status: row.status, at: null, readIn: null, employeeNo: owner?.employeeNo ?? null };
}

/** Approves or rejects a pending correction (`correction_decide`); under the two-person rule, not one's own. */
export async function decideCorrection(
  client: pg.ClientBase,
  request: { id: string; approve: boolean; reason?: string },
): Promise<{ id: number; status: CorrectionStatus }> {
  const id = checkedCorrectionId(request.id);
  const reason = request.reason === undefined || request.reason.trim() === '' ? null : request.reason;
  const [row] = await query<{ status: CorrectionStatus }>(client, 'SELECT correction_decide($1, $2, $3) AS status', [
    id,
    request.approve,
    reason,
  ]);
  if (!row) throw new ClockfaceError('INTERNAL', 'central recorded no decision');
  return { id, status: row.status };
}

/** A correction as `correction list` shows it. */
export interface CorrectionListing {
  id: number;
  kind: 'add' | 'move' | 'void';
  employeeNo: string;
  fullName: string;
  site: string;
  timeZone: string;
  punchId: string;
  direction: PunchDirection | null;
  /** The punch's kiosk time for a move or void of a raw punch (what the correction changes). */
  punchAt: string | null;
  at: string | null;
  reason: string;
  status: CorrectionStatus;
  requestedBy: string;
  requestedAt: string;
  decidedBy: string | null;
  decidedAt: string | null;
  decisionReason: string | null;
}

const STATUSES: readonly CorrectionStatus[] = ['pending', 'approved', 'rejected'];

/** Corrections, oldest first, by site, status and employee. */
export async function listCorrections(
  client: pg.ClientBase,
  filter: { site?: string; status?: string; employeeNo?: string; limit?: number },
): Promise<CorrectionListing[]> {
  if (filter.status !== undefined && !STATUSES.includes(filter.status as CorrectionStatus)) {
    throw new ClockfaceError('INVALID_ARGUMENT', `--status is one of ${STATUSES.join(', ')}, not "${filter.status}"`);
  }
  // A site or employee that is not there is said, not answered with an empty list that looks like "nothing to do".
  if (filter.site !== undefined) await readSite(client, filter.site);
  if (filter.employeeNo !== undefined) await findEmployee(client, filter.employeeNo);
  const rows = await query<{
    id: string;
    kind: 'add' | 'move' | 'void';
    employee_no: string;
    full_name: string;
    site: string;
    time_zone: string;
    punch_id: string;
    direction: PunchDirection | null;
    punch_at: Date | null;
    at: Date | null;
    reason: string;
    status: CorrectionStatus;
    requested_by: string;
    requested_at: Date;
    decided_by: string | null;
    decided_at: Date | null;
    decision_reason: string | null;
  }>(
    client,
    `SELECT c.id::text, c.kind, e.employee_no, e.full_name, e.site, s.time_zone, c.punch_id::text,
            coalesce(c.direction, p.direction) AS direction, p.punched_at AS punch_at, c.at, c.reason, c.status,
            c.requested_by, c.requested_at, c.decided_by, c.decided_at, c.decision_reason
     FROM punch_correction_status c
     JOIN employees e ON e.id = c.employee_id JOIN sites s ON s.code = e.site
     LEFT JOIN punches p ON p.id = c.punch_id
     WHERE ($1::text IS NULL OR e.site = $1) AND ($2::text IS NULL OR c.status = $2) AND ($3::text IS NULL OR e.employee_no = $3)
     ORDER BY c.id DESC LIMIT $4`,
    [filter.site ?? null, filter.status ?? null, filter.employeeNo ?? null, filter.limit ?? 1000],
  );
  return rows.reverse().map((r) => ({
    id: Number(r.id),
    kind: r.kind,
    employeeNo: r.employee_no,
    fullName: r.full_name,
    site: r.site,
    timeZone: r.time_zone,
    punchId: r.punch_id,
    direction: r.direction,
    punchAt: r.punch_at ? r.punch_at.toISOString() : null,
    at: r.at ? r.at.toISOString() : null,
    reason: r.reason,
    status: r.status,
    requestedBy: r.requested_by,
    requestedAt: r.requested_at.toISOString(),
    decidedBy: r.decided_by,
    decidedAt: r.decided_at ? r.decided_at.toISOString() : null,
    decisionReason: r.decision_reason,
  }));
}
