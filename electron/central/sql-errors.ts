import { ClockfaceError, type ErrorCode } from '../../shared/errors.js';

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
} as const;

/** SQLSTATE → error code, for the SQLSTATEs a person can do something about. One table for the whole app. */
const BY_SQLSTATE: Record<string, ErrorCode> = {
  [CLOCKFACE_SQLSTATES.kioskNotFound]: 'KIOSK_NOT_FOUND',
  [CLOCKFACE_SQLSTATES.kioskExists]: 'KIOSK_EXISTS',
  [CLOCKFACE_SQLSTATES.kioskRoleBusy]: 'KIOSK_ROLE_BUSY',
  [CLOCKFACE_SQLSTATES.kioskNotRegistered]: 'KIOSK_NOT_REGISTERED',
  [CLOCKFACE_SQLSTATES.siteNotFound]: 'SITE_NOT_FOUND',
  [CLOCKFACE_SQLSTATES.limitReached]: 'CENTRAL_LIMIT_REACHED',
  [CLOCKFACE_SQLSTATES.employeeErased]: 'EMPLOYEE_ERASED',
  '42501': 'CENTRAL_PERMISSION_DENIED',
  '55P03': 'CENTRAL_LOCKED',
  '22023': 'INVALID_ARGUMENT',
};

const HINTS: Partial<Record<ErrorCode, string>> = {
  CENTRAL_PERMISSION_DENIED:
    'This login may not do that on central. IT logins need membership in the database\'s admin group (`clockface db status` names it).',
  CENTRAL_LOCKED: 'Another session holds what this needs (often one left idle in a transaction). Try again in a minute.',
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
  const code = state === undefined ? undefined : BY_SQLSTATE[state];
  if (code === undefined) return e;
  const err = e as { message?: string; hint?: string; detail?: string };
  const hint = [err.detail, err.hint ?? HINTS[code]].filter((x): x is string => Boolean(x)).join(' ');
  return new ClockfaceError(code, err.message ?? code, { ...(hint ? { hint } : {}), cause: e });
}
