/**
 * Error codes that cross module, process and bridge boundaries. Only the code and a message survive IPC, so
 * callers branch on `code`, never on message text.
 */
export type ErrorCode =
  | 'CENTRAL_UNREACHABLE'
  | 'CENTRAL_AUTH_FAILED'
  | 'CENTRAL_TLS_FAILED'
  | 'CENTRAL_VECTOR_MISSING'
  | 'CENTRAL_SCHEMA_TOO_NEW'
  | 'CENTRAL_SCHEMA_MODIFIED'
  | 'CENTRAL_NOT_MIGRATED'
  | 'CENTRAL_LOCKED'
  | 'CENTRAL_PERMISSION_DENIED'
  | 'CENTRAL_LIMIT_REACHED'
  | 'CENTRAL_BUSY'
  /** Central refused a statement for a reason no person at the kiosk can act on (see the kiosk log). */
  | 'CENTRAL_REFUSED'
  | 'KIOSK_NOT_REGISTERED'
  | 'KIOSK_ROLE_BUSY'
  | 'EMPLOYEE_ERASED'
  | 'EMBEDDED_CENTRAL_LOCKED'
  | 'KIOSK_EXISTS'
  | 'KIOSK_NOT_FOUND'
  | 'SITE_NOT_FOUND'
  | 'INVALID_ARGUMENT'
  | 'INVALID_DESCRIPTOR'
  | 'MODEL_MISMATCH'
  | 'IMAGE_UNREADABLE'
  | 'IMAGE_TOO_LARGE'
  | 'FACE_MODELS_MISSING'
  | 'DATASET_INVALID'
  | 'ROSTER_INVALID'
  | 'EMPLOYEE_NOT_FOUND'
  /** Corrections (IT, supervisors): no punch with that id, or one voided already. */
  | 'PUNCH_NOT_FOUND'
  | 'PUNCH_VOIDED'
  /** Corrections: no such correction, one decided already, or the two-person rule (the requester cannot decide). */
  | 'CORRECTION_NOT_FOUND'
  | 'CORRECTION_DECIDED'
  | 'SECOND_APPROVAL_REQUIRED'
  /** Supervisor logins: a login of that name exists on the server; no supervisor of that name. */
  | 'LOGIN_EXISTS'
  | 'SUPERVISOR_NOT_FOUND'
  /** Roster import in mirror mode: a site would lose more than the allowed share of its active employees. */
  | 'MASS_DEACTIVATION_REFUSED'
  | 'KIOSK_DB_TOO_NEW'
  | 'KIOSK_DB_INVALID'
  | 'KIOSK_NOT_INITIALISED'
  | 'KIOSK_SETTINGS_INVALID'
  | 'KIOSK_REFUSED'
  | 'BRIDGE_INVALID'
  | 'ADMIN_LOCKED'
  | 'ADMIN_PIN_WRONG'
  | 'CENTRAL_REQUIRED'
  | 'DUPLICATE_FACE'
  /** Enrolment at a kiosk: the employee number belongs to a site this kiosk does not serve. */
  | 'EMPLOYEE_NOT_SERVED'
  /** Enrolment at a kiosk: someone new needs a full name. */
  | 'FULL_NAME_REQUIRED'
  | 'STORAGE_FULL'
  | 'INTERNAL';

/** An expected failure with a stable code and a message fit to show an operator (never personal data). */
export class ClockfaceError extends Error {
  readonly code: ErrorCode;
  /** What the operator can do about it, when there is something to do. */
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, options?: { hint?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ClockfaceError';
    this.code = code;
    this.hint = options?.hint;
  }
}

/** Result type used across the bridge: results, not throws. */
export type Result<T> = { ok: true; value: T } | { ok: false; error: BridgeError };

/**
 * An error as it crosses the bridge. The screen says it in the person's language from `code` (and the numbers
 * beside it), never from `message`, which is for logs and operators.
 */
export interface BridgeError {
  code: ErrorCode;
  message: string;
  /** Wrong admin PIN: tries left before the lock. */
  attemptsLeft?: number;
  /** Locked: until when (ISO). */
  until?: string;
}

export function isClockfaceError(e: unknown): e is ClockfaceError {
  return e instanceof ClockfaceError;
}
