import { ClockfaceError, isClockfaceError, type ErrorCode } from '../../shared/errors.js';

/**
 * SQLSTATEs that Clockface's own central functions raise (resources/sql/central/0070, 0080). Custom codes in class
 * "CF" so that callers never branch on message text.
 */
export const CLOCKFACE_SQLSTATES = {
  /** No kiosk of that name (IT's kiosk functions). */
  kioskNotFound: 'CFK01',
  kioskExists: 'CFK02',
  /** A kiosk login still owns objects in another database, so it cannot be dropped yet. */
  kioskRoleBusy: 'CFK03',
  /** The calling login is not the kiosk it claims to be, or that kiosk was revoked (heartbeat). */
  kioskNotRegistered: 'CFK04',
  siteNotFound: 'CFS01',
  /** A per-kiosk limit (punches or snapshots per hour, enrolments per day). Try again later. */
  limitReached: 'CFL01',
  /** The employee's biometric data was erased: no template or snapshot of them is accepted. */
  employeeErased: 'CFE01',
  /** No employee of that number (corrections, schedules; said to IT only: a supervisor is told 42501). */
  employeeNotFound: 'CFE02',
  punchNotFound: 'CFP01',
  /** A move or void of a punch voided already (or with a void pending). */
  punchVoided: 'CFP02',
  correctionNotFound: 'CFC01',
  correctionDecided: 'CFC02',
  /** The two-person rule: the login that asked for a correction cannot decide it. */
  secondApprovalRequired: 'CFC03',
  /** Supervisor logins (0100). */
  loginExists: 'CFU01',
  supervisorNotFound: 'CFU02',
} as const;

/**
 * Node's TLS verification failures: the server's certificate is not the one sslmode=verify-full was told to trust.
 * Socket errors that mean the server could not be reached at all.
 */
export const TLS_ERROR_CODES: ReadonlySet<string> = new Set([
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
]);
export const UNREACHABLE_ERROR_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ECONNRESET',
  'EAI_AGAIN',
]);

/**
 * SQLSTATE → error code, for the SQLSTATEs a person can do something about. One table for the whole app: the CLI, the
 * kiosk and its bridge all go through explainSqlError (connection failures also through explainConnectError, which
 * adds the URL tried).
 */
const BY_SQLSTATE: Record<string, ErrorCode> = {
  [CLOCKFACE_SQLSTATES.kioskNotFound]: 'KIOSK_NOT_FOUND',
  [CLOCKFACE_SQLSTATES.kioskExists]: 'KIOSK_EXISTS',
  [CLOCKFACE_SQLSTATES.kioskRoleBusy]: 'KIOSK_ROLE_BUSY',
  [CLOCKFACE_SQLSTATES.kioskNotRegistered]: 'KIOSK_NOT_REGISTERED',
  [CLOCKFACE_SQLSTATES.siteNotFound]: 'SITE_NOT_FOUND',
  [CLOCKFACE_SQLSTATES.limitReached]: 'CENTRAL_LIMIT_REACHED',
  [CLOCKFACE_SQLSTATES.employeeErased]: 'EMPLOYEE_ERASED',
  [CLOCKFACE_SQLSTATES.employeeNotFound]: 'EMPLOYEE_NOT_FOUND',
  [CLOCKFACE_SQLSTATES.punchNotFound]: 'PUNCH_NOT_FOUND',
  [CLOCKFACE_SQLSTATES.punchVoided]: 'PUNCH_VOIDED',
  [CLOCKFACE_SQLSTATES.correctionNotFound]: 'CORRECTION_NOT_FOUND',
  [CLOCKFACE_SQLSTATES.correctionDecided]: 'CORRECTION_DECIDED',
  [CLOCKFACE_SQLSTATES.secondApprovalRequired]: 'SECOND_APPROVAL_REQUIRED',
  [CLOCKFACE_SQLSTATES.loginExists]: 'LOGIN_EXISTS',
  [CLOCKFACE_SQLSTATES.supervisorNotFound]: 'SUPERVISOR_NOT_FOUND',
  '42501': 'CENTRAL_PERMISSION_DENIED',
  '55P03': 'CENTRAL_LOCKED',
  '22023': 'INVALID_ARGUMENT',
  '28P01': 'CENTRAL_AUTH_FAILED',
  '28000': 'CENTRAL_AUTH_FAILED',
  // The server ended the session: an administrator, a restart, a revoked kiosk, a stalled session ended.
  '57P01': 'CENTRAL_UNREACHABLE',
  '57P02': 'CENTRAL_UNREACHABLE',
  '57P03': 'CENTRAL_UNREACHABLE',
  '53300': 'CENTRAL_BUSY',
};

/** SQLSTATE classes mapped as a whole. */
const BY_SQLSTATE_CLASS: Record<string, ErrorCode> = {
  '08': 'CENTRAL_UNREACHABLE', // connection exception
};

const HINTS: Partial<Record<ErrorCode, string>> = {
  CENTRAL_PERMISSION_DENIED:
    'This login may not do that on central. IT logins need membership in the database\'s admin group (`clockface db status` names it).',
  CENTRAL_LOCKED: 'Another session holds what this needs (often one left idle in a transaction). Try again in a minute.',
  CENTRAL_AUTH_FAILED: 'Check the user name and password in the URL; a revoked kiosk can no longer log in.',
  CENTRAL_UNREACHABLE: 'The connection to central was lost or ended by the server; try again once central is up.',
  CENTRAL_BUSY: 'Central has no connection slot free for this login; try again shortly, or ask IT to look at who holds them.',
};

/** The SQLSTATE of a PostgreSQL error (pg puts it in `code`), or undefined. */
export function sqlState(e: unknown): string | undefined {
  if (typeof e !== 'object' || e === null || !('code' in e) || typeof e.code !== 'string') return undefined;
  return /^[0-9A-Z]{5}$/.test(e.code) ? e.code : undefined;
}

/**
 * A central error a person can act on, as a ClockfaceError with its code, central's message and hint; anything else
 * is returned unchanged.
 */
export function explainSqlError(e: unknown): unknown {
  const state = sqlState(e);
  const code = state === undefined ? undefined : (BY_SQLSTATE[state] ?? BY_SQLSTATE_CLASS[state.slice(0, 2)]);
  if (code === undefined) return e;
  const err = e as { message?: string; hint?: string; detail?: string };
  const hint = [err.detail, err.hint ?? HINTS[code]].filter((x): x is string => Boolean(x)).join(' ');
  return new ClockfaceError(code, err.message ?? code, { ...(hint ? { hint } : {}), cause: e });
}

/**
 * Central refused a row's data or the row itself, as opposed to the connection failing (which affects every row):
 * SQLSTATE class 22 (data exception, e.g. a time outside the window central accepts), 23 (integrity constraint, e.g.
 * an employee deleted there by hand), or 42501 (row-level security: an employee this kiosk may no longer punch,
 * deactivated, erased or moved to a site it does not serve). Kiosk uploads try such rows one by one, so that one
 * cannot hold back the others. A per-kiosk limit (CFL01) is not a refusal: the batch waits and goes later.
 */
export function isRowRefusal(e: unknown): boolean {
  const code = sqlState(e) ?? '';
  return /^2[23][0-9A-Z]{3}$/.test(code) || code === '42501';
}

/**
 * The code of any failure talking to central, for status and logs (never its message: that may carry central's
 * English, or data): a ClockfaceError keeps its own; a SQLSTATE goes through the table above, and one a person cannot
 * act on is CENTRAL_REFUSED; anything without a SQLSTATE (socket closed, query timeout, DNS) is CENTRAL_UNREACHABLE.
 */
export function centralErrorCode(e: unknown): ErrorCode {
  if (isClockfaceError(e)) return e.code;
  const state = sqlState(e);
  if (state === undefined) return 'CENTRAL_UNREACHABLE';
  return BY_SQLSTATE[state] ?? BY_SQLSTATE_CLASS[state.slice(0, 2)] ?? 'CENTRAL_REFUSED';
}
