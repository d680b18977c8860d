import { ClockfaceError } from '../../../shared/errors.js';
import { FACE_MODEL_ID } from '../../../shared/face-model.js';
import { explainSqlError, sqlState } from '../../central/sql-errors.js';
import { toVectorLiteral } from '../../central/vector-literal.js';
import type { CentralSession } from './session.js';

/** SQLSTATE no_data_found: kiosk_enrol met a number central does not know and no name came with it. */
const NO_DATA_FOUND = 'P0002';
/** SQLSTATE insufficient_privilege: the number belongs to a site this kiosk does not serve (or is inactive). */
const INSUFFICIENT_PRIVILEGE = '42501';

export interface EnrolRequest {
  employeeNo: string;
  fullName: string | null;
  descriptors: ReadonlyArray<ArrayLike<number>>;
}

export interface EnrolOutcome {
  employee: { employeeNo: string; fullName: string };
  templatesAdded: number;
  /** Someone else whose face this is (central's duplicate-face guard): nothing was added. */
  duplicateOf: { employeeNo: string; fullName: string } | null;
}

/**
 * Enrols faces through kiosk_enrol (resources/sql/central/0080): central checks that the kiosk serves the employee's
 * site, its daily limits and the duplicate-face guard with its own threshold; the kiosk sends only the faces. Central's
 * refusals come back as ClockfaceErrors with codes the screen has sentences for.
 */
export async function enrolAtCentral(session: CentralSession, kioskId: number, request: EnrolRequest): Promise<EnrolOutcome> {
  let row;
  try {
    const { rows } = await session.query<{
      employee_no: string;
      full_name: string;
      templates_added: number;
      duplicate_employee_no: string | null;
      duplicate_full_name: string | null;
    }>(
      `SELECT employee_no, full_name, templates_added, duplicate_employee_no, duplicate_full_name
       FROM kiosk_enrol($1, $2, $3, $4, $5::vector[])`,
      [kioskId, request.employeeNo, request.fullName, FACE_MODEL_ID, request.descriptors.map((d) => toVectorLiteral(d))],
    );
    row = rows[0];
  } catch (e) {
    const state = sqlState(e);
    if (state === NO_DATA_FOUND) {
      throw new ClockfaceError('FULL_NAME_REQUIRED', `central has no employee ${request.employeeNo}: give a full name to create them`, { cause: e });
    }
    if (state === INSUFFICIENT_PRIVILEGE) {
      throw new ClockfaceError('EMPLOYEE_NOT_SERVED', `employee ${request.employeeNo} is not an active employee of a site this kiosk serves`, {
        cause: e,
      });
    }
    throw explainSqlError(e);
  }
  if (!row) throw new ClockfaceError('INTERNAL', 'central returned nothing to an enrolment');
  return {
    employee: { employeeNo: row.employee_no, fullName: row.full_name },
    templatesAdded: row.templates_added,
    duplicateOf: row.duplicate_employee_no ? { employeeNo: row.duplicate_employee_no, fullName: row.duplicate_full_name ?? '' } : null,
  };
}
