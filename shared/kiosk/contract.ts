import { z } from 'zod';
import type { BridgeError, ErrorCode, Result } from '../errors.js';
import { DESCRIPTOR_LENGTH } from '../face-model.js';
import type { QualityIssue } from '../face/quality.js';

/**
 * The one bridge between the kiosk screen (renderer) and the kiosk core (Electron main, or the browser-mode host).
 *
 * Every request is a plain JSON value checked by its schema on arrival (main never trusts the renderer: a page that
 * was tricked into sending a NaN descriptor or a megabyte of junk gets BRIDGE_INVALID, not a crash), and every
 * answer is a {@link Result}: errors cross the bridge as codes and messages, never as thrown objects.
 *
 * The preload, main's handlers and the browser-mode host are all typed from {@link KioskApi}; the channel list is
 * derived from {@link KIOSK_REQUESTS}, never retyped.
 */

const QUALITY_ISSUES = [
  'NO_FACE',
  'MULTIPLE_FACES',
  'FACE_TOO_SMALL',
  'LOW_SCORE',
  'HEAD_TURNED',
  'HEAD_PITCHED',
  'HEAD_TILTED',
  'TOO_DARK',
  'TOO_BRIGHT',
  'BLURRED',
] as const satisfies readonly QualityIssue[];

const descriptor = z
  .array(z.number().refine(Number.isFinite, 'a finite number'))
  .length(DESCRIPTOR_LENGTH, `${DESCRIPTOR_LENGTH} numbers`);

const employeeNo = z.string().min(1).max(64);
const pin = z.string().regex(/^\d{4,8}$/, '4 to 8 digits');
const adminToken = z.string().min(16).max(128);

/** One camera frame, already analysed by the renderer's face engine. */
export const frameSchema = z.object({
  modelId: z.string().min(1).max(64),
  /** null when the frame has no usable face; `issues` then says why. */
  descriptor: descriptor.nullable(),
  issues: z.array(z.enum(QUALITY_ISSUES)).max(QUALITY_ISSUES.length),
  /** Head yaw in degrees, for the optional turn-your-head check. */
  yaw: z.number().min(-180).max(180).nullable(),
});

/** The request schema of every channel: the list of channels is this object's keys. */
export const KIOSK_REQUESTS = {
  submitFrame: frameSchema,
  resetFrames: z.object({}),
  punchWithPin: z.object({ employeeNo, pin }),
  /** The answer to a "Clock OUT? You clocked IN 2 minutes ago" question (a `confirm` frame outcome). */
  confirmPunch: z.object({ confirmationId: z.uuid(), yes: z.boolean() }),
  getStatus: z.object({}),
  unlockAdmin: z.object({ pin }),
  /** First run only: sets the admin PIN when none is set. */
  setAdminPin: z.object({ pin }),
  lockAdmin: z.object({ adminToken }),
  enrolEmployee: z.object({
    adminToken,
    employeeNo,
    /** Required when the employee does not exist on central yet. */
    fullName: z.string().min(1).max(200).nullable(),
    descriptors: z.array(descriptor).min(1).max(10),
  }),
  syncNow: z.object({ adminToken }),
  /** The audit snapshot of a punch just made (only when the kiosk takes them): a small JPEG, base64. */
  attachSnapshot: z.object({ punchId: z.uuid(), jpegBase64: z.string().min(8).max(88_000) }),
  /**
   * Something the screen could not do that an operator should hear of (main logs it; the screen already says it): the
   * face models did not load, the camera failed, no font can show Chinese (the screen is then in English). `detail` is the error's own text, never a person's data.
   */
  reportProblem: z.object({ problem: z.enum(['models-missing', 'camera-failed', 'cjk-font-missing']), detail: z.string().max(300) }),
  /** Leaves the kiosk (Electron: quits the full-screen app). Only from admin mode. */
  exitKiosk: z.object({ adminToken }),
  updateSettings: z.object({
    adminToken,
    mode: z.enum(['auto', 'in', 'out']).optional(),
    threshold: z.number().min(0.2).max(1).optional(),
    /** Where central is now (host or host:port): the kiosk keeps its own login and database name. */
    centralHost: z
      .string()
      .regex(/^[A-Za-z0-9.-]{1,253}(:\d{1,5})?$/, 'a host name or address, optionally with :port')
      .optional(),
  }),
} as const;

export type KioskChannel = keyof typeof KIOSK_REQUESTS;
export const KIOSK_CHANNELS = Object.keys(KIOSK_REQUESTS) as KioskChannel[];
export type KioskRequest<C extends KioskChannel> = z.infer<(typeof KIOSK_REQUESTS)[C]>;
export type FrameInput = KioskRequest<'submitFrame'>;

export interface EmployeeView {
  employeeNo: string;
  fullName: string;
}

/**
 * What the screen shows after a frame. Times are ISO strings (they cross JSON). `workedTodayMinutes` is set on an OUT
 * when the kiosk knows the IN it closes (see workedMinutesToday), null otherwise.
 */
export type FrameOutcomeView =
  | { kind: 'no-face'; issues: QualityIssue[] }
  | { kind: 'not-recognised' }
  | { kind: 'ambiguous' }
  | { kind: 'pending'; agreeing: number; needed: number }
  /** The optional active check: turn the head as asked before the punch is made. */
  | { kind: 'turn-head'; direction: 'left' | 'right'; employee: EmployeeView }
  /** The head-turn check was not passed in time (or someone else stepped in): no punch. */
  | { kind: 'turn-failed' }
  | { kind: 'punched'; punchId: string; employee: EmployeeView; direction: 'in' | 'out'; at: string; queued: boolean; workedTodayMinutes: number | null }
  | { kind: 'already'; employee: EmployeeView; direction: 'in' | 'out'; at: string }
  /** Recognised again without having left the camera since: nothing punched; the screen stays on the camera. */
  | { kind: 'still-here'; employee: EmployeeView; direction: 'in' | 'out'; at: string }
  /** An OUT moments after an IN: ask, then answer with confirmPunch. */
  | { kind: 'confirm'; confirmationId: string; employee: EmployeeView; direction: 'in' | 'out'; lastDirection: 'in' | 'out'; lastAt: string };

/** What a confirmPunch answer did: the punch, or nothing (a no, or a question that had expired). */
export type ConfirmOutcomeView =
  | { kind: 'punched'; punchId: string; employee: EmployeeView; direction: 'in' | 'out'; at: string; queued: boolean; workedTodayMinutes: number | null }
  | { kind: 'not-punched' };

export type PinOutcomeView =
  | { kind: 'punched'; employee: EmployeeView; direction: 'in' | 'out'; at: string; queued: boolean; workedTodayMinutes: number | null }
  | { kind: 'already'; employee: EmployeeView; direction: 'in' | 'out'; at: string }
  | { kind: 'wrong'; attemptsLeft: number }
  | { kind: 'locked'; until: string };

export interface KioskStatusView {
  kioskName: string;
  /** The site's code (diagnostics) and its name (the screen's header). */
  site: string;
  siteName: string;
  /** The site's IANA time zone, for the clock and "today"; null until the first sync (the screen uses its own). */
  timeZone: string | null;
  online: boolean;
  pendingPunches: number;
  employees: number;
  templates: number;
  engine: string;
  modelId: string;
  lastSyncAt: string | null;
  lastError: string | null;
  mode: 'auto' | 'in' | 'out';
  threshold: number;
  /** host:port of central (never the password). */
  centralHost: string;
  /** No admin PIN yet: the first-run screen leads to admin mode to set one. */
  needsAdminPin: boolean;
  /** Take an audit snapshot with each face punch (attachSnapshot). */
  auditSnapshots: boolean;
  /** Nobody to recognise yet: the screen says so instead of showing a camera that can match no one. */
  nobodyEnrolled: boolean;
  clockOffsetMs: number | null;
}

export interface EnrolOutcomeView {
  employee: EmployeeView;
  templatesAdded: number;
  /** Frames refused by the duplicate-face guard (the face of someone else). */
  duplicateOf: EmployeeView | null;
}

export interface SyncSummaryView {
  kind: 'snapshot' | 'incremental';
  employees: number;
  templates: number;
  uploaded: number;
}

/** The answer type of each channel. */
export interface KioskResponses {
  submitFrame: FrameOutcomeView;
  resetFrames: null;
  punchWithPin: PinOutcomeView;
  confirmPunch: ConfirmOutcomeView;
  getStatus: KioskStatusView;
  unlockAdmin: { adminToken: string };
  setAdminPin: { adminToken: string };
  lockAdmin: null;
  enrolEmployee: EnrolOutcomeView;
  syncNow: SyncSummaryView;
  attachSnapshot: null;
  reportProblem: null;
  exitKiosk: null;
  updateSettings: KioskStatusView;
}

/** The contract the preload exposes, main implements, and the browser-mode host serves. */
export type KioskApi = {
  [C in KioskChannel]: (request: KioskRequest<C>) => Promise<Result<KioskResponses[C]>>;
};

/** Events main pushes to the screen. */
export interface KioskEvents {
  status: KioskStatusView;
}

/** Largest request a bridge accepts (bytes of JSON): ten descriptors are about 30 kB, a snapshot up to 88 kB. */
export const MAX_REQUEST_BYTES = 128 * 1024;

/** Checks an incoming request against its channel's schema; the error names the first problem, never the values. */
export function parseRequest(channel: string, value: unknown): Result<{ channel: KioskChannel; request: unknown }> {
  if (!Object.hasOwn(KIOSK_REQUESTS, channel)) return fail('BRIDGE_INVALID', `unknown channel "${channel.slice(0, 40)}"`);
  const known = channel as KioskChannel;
  const parsed = KIOSK_REQUESTS[known].safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return fail('BRIDGE_INVALID', `${known}: ${issue ? `${issue.path.join('.') || 'request'}: ${issue.message}` : 'invalid'}`);
  }
  return { ok: true, value: { channel: known, request: parsed.data } };
}

export function fail(code: ErrorCode, message: string, extra: Omit<BridgeError, 'code' | 'message'> = {}): { ok: false; error: BridgeError } {
  return { ok: false, error: { code, message, ...extra } };
}
