import { randomBytes } from 'node:crypto';
import { ClockfaceError, isClockfaceError, type Result } from '../../shared/errors.js';
import { FACE_MODEL_ID } from '../../shared/face-model.js';
import { decidePunch } from '../../shared/kiosk/match-policy.js';
import { bindKioskApi } from '../../shared/kiosk/bind-api.js';
import {
  fail,
  parseRequest,
  type ConfirmOutcomeView,
  type EmployeeView,
  type FrameOutcomeView,
  type KioskApi,
  type KioskChannel,
  type KioskRequest,
  type KioskResponses,
  type KioskStatusView,
  type PinOutcomeView,
} from '../../shared/kiosk/contract.js';
import { createLogger } from '../../shared/logger.js';
import { centralErrorCode } from '../central/sql-errors.js';
import { hashPin, verifyPin } from '../security/pin-hash.js';
import type { FrameOutcome, KioskCore } from './kiosk-core.js';
import type { StoredPunch } from './store/punch-store.js';
import {
  ADMIN_SUBJECT,
  DEFAULT_PIN_GUARD,
  DEFAULT_PIN_SPRAY,
  EMPLOYEE_PINS_SUBJECT,
  type PinGuard,
  type PinGuardOptions,
  type PinSprayOptions,
} from './pin-guard.js';
import { RosterFollower } from './roster-follower.js';

const log = createLogger('kiosk.service');

/** Largest audit snapshot accepted (a 320×240 JPEG is 10–20 kB). */
const SNAPSHOT_MAX_BYTES = 64 * 1024;

/** Admin mode ends by itself after this long without a request. */
const ADMIN_SESSION_MS = 10 * 60_000;

export interface KioskServiceOptions {
  pinGuard?: PinGuardOptions;
  /** The kiosk-wide limit on wrong employee PINs (DEFAULT_PIN_SPRAY). */
  pinSpray?: PinSprayOptions;
  /** Follow central in the background (sync on NOTIFY and timer, upload after punches). Off in unit tests. */
  follow?: boolean;
  /** What `exitKiosk` does once the admin token checks out (Electron: quit). Absent: the request is refused. */
  onExit?: () => void;
}

/**
 * The kiosk core behind the bridge contract: what Electron's main process registers as IPC handlers and what the
 * browser-mode host serves over HTTP. Every request is validated by {@link parseRequest} first; every answer is a
 * Result; nothing personal or biometric is logged.
 */
export class KioskService {
  private readonly pins: PinGuard;
  private readonly pinSpray: PinSprayOptions;
  private readonly adminSessions = new Map<string, number>();
  private readonly listeners = new Set<(status: KioskStatusView) => void>();
  private follower: RosterFollower | null = null;
  private uploading: Promise<void> | null = null;
  private uploadAgain = false;
  private settingAdminPin = false;

  constructor(
    private readonly core: KioskCore,
    private readonly options: KioskServiceOptions = {},
  ) {
    this.pinSpray = { ...DEFAULT_PIN_SPRAY, ...options.pinSpray };
    this.pins = core.pinGuard({ ...DEFAULT_PIN_GUARD, ...options.pinGuard });
  }

  start(): void {
    if (this.options.follow === false || this.follower) return;
    // Behind a transaction pooler the roster head watch counts a change only once the feed hands it out, so it also
    // notices a change an older transaction held back: a sync there takes what the feed offers now, without waiting
    // for the feed or looking again a second later. (A NOTIFY comes at commit, when the feed may still hold the change
    // back: there the sync waits up to 2 s and the follower looks again.) Measured in the fleet benchmark: with the
    // wait, 500 pooled kiosks on a busy central kept re-syncing, each sync with its heartbeat adding to the load.
    const pooled = this.core.settings.pooler === 'transaction';
    this.follower = new RosterFollower({
      sync: async () => {
        const { sync } = await this.core.syncThenUpload(pooled ? 0 : 2_000);
        this.emitStatus();
        if (!sync.ok) throw sync.error;
        return pooled || sync.result.caughtUp;
      },
      listen: (events) => this.core.listenForRoster(events),
      pollMs: this.core.settings.pollSeconds * 1000,
    });
    this.follower.start();
  }

  async stop(): Promise<void> {
    await this.follower?.stop();
    this.follower = null;
    await this.uploading;
  }

  /** Status pushes (offline badge, punches waiting). Returns the unsubscribe function. */
  onStatus(listener: (status: KioskStatusView) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emitStatus(): void {
    if (this.listeners.size === 0) return;
    const status = this.status();
    for (const l of this.listeners) l(status);
  }

  /** The one entry point of both bridges: unknown channels, malformed requests and failures become error Results. */
  async handle(channel: string, request: unknown): Promise<Result<unknown>> {
    const parsed = parseRequest(channel, request);
    if (!parsed.ok) {
      log.warn('bridge request refused', { reason: parsed.error.message });
      return parsed;
    }
    try {
      return await this.dispatch(parsed.value.channel, parsed.value.request);
    } catch (e) {
      if (isClockfaceError(e)) return fail(e.code, e.message);
      if (isStorageFailure(e)) {
        // The punch (or whatever was being saved) was not stored: SQLite rolled its transaction back. The person must
        // be told plainly, never "clocked in", and not "try again later" either: the kiosk cannot save until IT acts.
        log.error('kiosk storage is full or failing', { channel: parsed.value.channel, error: (e as Error).message });
        const punching = parsed.value.channel === 'submitFrame' || parsed.value.channel === 'punchWithPin';
        return fail(
          'STORAGE_FULL',
          punching
            ? 'Your punch was NOT recorded: this kiosk cannot save (its storage is full). Please use another kiosk or tell your supervisor.'
            : 'the kiosk cannot save (its storage is full or failing); free space on it and try again',
        );
      }
      log.error('bridge request failed', { channel: parsed.value.channel, error: (e as Error).message });
      return fail('INTERNAL', 'the kiosk could not do that; see its log');
    }
  }

  /** The typed surface, for in-process callers (tests, Electron main). Each call goes through {@link handle}. */
  api(): KioskApi {
    return bindKioskApi((channel, request) => this.handle(channel, request));
  }

  private async dispatch(channel: KioskChannel, request: unknown): Promise<Result<unknown>> {
    const ok = <T>(value: T): Result<T> => ({ ok: true, value });
    switch (channel) {
      case 'submitFrame':
        return ok(await this.submitFrame(request as KioskRequest<'submitFrame'>));
      case 'resetFrames':
        this.core.resetFrames();
        return ok(null);
      case 'punchWithPin':
        return ok(await this.punchWithPin(request as KioskRequest<'punchWithPin'>));
      case 'confirmPunch': {
        const { confirmationId, yes } = request as KioskRequest<'confirmPunch'>;
        const done = this.core.confirmPunch(confirmationId, yes);
        if (!done) return ok<ConfirmOutcomeView>({ kind: 'not-punched' });
        this.uploadSoon();
        const { punch, employee } = done;
        return ok<ConfirmOutcomeView>({
          kind: 'punched',
          punchId: punch.id,
          employee: { employeeNo: employee.employeeNo, fullName: employee.fullName },
          direction: punch.direction,
          at: punch.at.toISOString(),
          queued: true,
          workedTodayMinutes: this.workedToday(punch),
        });
      }
      case 'getStatus':
        return ok(this.status());
      case 'unlockAdmin':
        return this.unlockAdmin((request as KioskRequest<'unlockAdmin'>).pin);
      case 'setAdminPin':
        return this.setAdminPin((request as KioskRequest<'setAdminPin'>).pin);
      case 'lockAdmin':
        this.adminSessions.delete((request as KioskRequest<'lockAdmin'>).adminToken);
        return ok(null);
      case 'enrolEmployee':
        return this.enrol(request as KioskRequest<'enrolEmployee'>);
      case 'syncNow':
        return this.syncNow((request as KioskRequest<'syncNow'>).adminToken);
      case 'updateSettings':
        return this.updateSettings(request as KioskRequest<'updateSettings'>);
      case 'attachSnapshot':
        return this.attachSnapshot(request as KioskRequest<'attachSnapshot'>);
      case 'reportProblem': {
        const { problem, detail } = request as KioskRequest<'reportProblem'>;
        log.error('the kiosk screen reports a problem', { problem, detail });
        return ok(null);
      }
      case 'exitKiosk': {
        const allowed = this.admin((request as KioskRequest<'exitKiosk'>).adminToken);
        if (!allowed.ok) return allowed;
        if (!this.options.onExit) return fail('INVALID_ARGUMENT', 'this kiosk runs in a browser: close the browser to leave');
        log.info('kiosk exit requested from admin mode');
        this.options.onExit();
        return ok(null);
      }
    }
  }

  private async submitFrame(frame: KioskRequest<'submitFrame'>): Promise<FrameOutcomeView> {
    if (frame.modelId !== FACE_MODEL_ID) {
      throw new ClockfaceError('MODEL_MISMATCH', `the screen runs face model ${frame.modelId}; this kiosk matches ${FACE_MODEL_ID}`);
    }
    const outcome = await this.core.processDescriptor(frame.descriptor ? Float32Array.from(frame.descriptor) : null, frame.issues, frame.yaw);
    if (outcome.kind === 'punched') this.uploadSoon();
    return this.view(outcome);
  }

  private view(outcome: FrameOutcome): FrameOutcomeView {
    switch (outcome.kind) {
      case 'no-face':
        return { kind: 'no-face', issues: outcome.issues };
      case 'not-recognised':
        return { kind: 'not-recognised' };
      case 'ambiguous':
        return { kind: 'ambiguous' };
      case 'pending':
        return { kind: 'pending', agreeing: outcome.agreeing, needed: outcome.needed };
      case 'turn-head':
        return { kind: 'turn-head', direction: outcome.direction, employee: { employeeNo: outcome.employee.employeeNo, fullName: outcome.employee.fullName } };
      case 'turn-failed':
        return { kind: 'turn-failed' };
      case 'punched':
        return {
          kind: 'punched',
          punchId: outcome.punch.id,
          employee: { employeeNo: outcome.employee.employeeNo, fullName: outcome.employee.fullName },
          direction: outcome.punch.direction,
          at: outcome.punch.at.toISOString(),
          queued: true,
          workedTodayMinutes: this.workedToday(outcome.punch),
        };
      case 'already':
      case 'still-here':
        return {
          kind: outcome.kind,
          employee: { employeeNo: outcome.employee.employeeNo, fullName: outcome.employee.fullName },
          direction: outcome.direction,
          at: outcome.at.toISOString(),
        };
      case 'confirm':
        return {
          kind: 'confirm',
          confirmationId: outcome.confirmationId,
          employee: { employeeNo: outcome.employee.employeeNo, fullName: outcome.employee.fullName },
          direction: outcome.direction,
          lastDirection: outcome.lastDirection,
          lastAt: outcome.lastAt.toISOString(),
        };
    }
  }

  /** Uploads in the background right after a punch; the screen has already confirmed it. */
  private uploadSoon(): void {
    // A punch made while an upload runs (it may be past the outbox already, in its heartbeat) asks for one more
    // pass; otherwise it would wait for the next punch or the follower's poll (30 s).
    if (this.uploading) {
      this.uploadAgain = true;
      return;
    }
    this.uploading = (async () => {
      try {
        do {
          this.uploadAgain = false;
          await this.core.upload();
        } while (this.uploadAgain);
      } finally {
        this.uploading = null;
        this.emitStatus();
      }
    })();
  }

  private async punchWithPin(request: KioskRequest<'punchWithPin'>): Promise<PinOutcomeView> {
    const row = this.core.employeeByNumber(request.employeeNo);
    // An unknown number or one without a PIN is "wrong" like a wrong PIN, and counts the same: the screen must not
    // tell a stranger which employee numbers exist.
    // Two locks: per employee number, and kiosk-wide across all numbers (one PIN tried against everyone).
    const check = await this.pins.checkWindowed(EMPLOYEE_PINS_SUBJECT, this.pinSpray, () =>
      // Counted per number as typed, case folded: "raj-1" and "RAJ-1" share one count, or each spelling would get its own tries.
      this.pins.check(request.employeeNo.toLowerCase(), async () =>
        row?.pin_hash ? verifyPin(request.pin, row.pin_hash) : (await verifyPin(request.pin, DUMMY_HASH), false),
      ),
    );
    if (check.kind === 'locked' && this.pins.lockedUntil(EMPLOYEE_PINS_SUBJECT)) {
      log.warn('PIN pad locked: too many wrong employee PINs on this kiosk', { until: check.until.toISOString() });
    }
    if (check.kind === 'locked') return { kind: 'locked', until: check.until.toISOString() };
    if (check.kind === 'wrong' || !row) return { kind: 'wrong', attemptsLeft: check.kind === 'wrong' ? check.attemptsLeft : 0 };
    const employee: EmployeeView = { employeeNo: row.employee_no, fullName: row.full_name };
    const now = this.core.now();
    // The same last punch as a face punch: recording order and monotonic elapsed time, so a clock jump between two
    // PIN entries neither double-punches nor flips IN/OUT.
    const last = this.core.lastPunchFor(row.id, now);
    // A PIN typed in is a deliberate choice: an OUT minutes after an IN is punched, not asked about as a face is.
    const decision = decidePunch(last, now, this.core.policy);
    if (decision.action === 'already') {
      return { kind: 'already', employee, direction: decision.direction, at: (last?.recordedAt ?? decision.at).toISOString() };
    }
    const punch = this.core.recordPunch({ employeeId: row.id, direction: decision.direction, method: 'pin', matchDistance: null, at: now });
    this.uploadSoon();
    return { kind: 'punched', employee, direction: punch.direction, at: punch.at.toISOString(), queued: true, workedTodayMinutes: this.workedToday(punch) };
  }

  private workedToday(punch: StoredPunch): number | null {
    return punch.direction === 'out' ? this.core.workedToday(punch.employeeId) : null;
  }

  private async unlockAdmin(pin: string): Promise<Result<{ adminToken: string }>> {
    const stored = this.core.settings.adminPinHash;
    if (!stored) return fail('ADMIN_PIN_WRONG', 'no admin PIN is set yet: set one first');
    const check = await this.pins.check(ADMIN_SUBJECT, () => verifyPin(pin, stored));
    if (check.kind === 'locked') return fail('ADMIN_LOCKED', `admin mode is locked until ${check.until.toISOString()}`, { until: check.until.toISOString() });
    if (check.kind === 'wrong') {
      return fail('ADMIN_PIN_WRONG', `wrong admin PIN (${check.attemptsLeft} tries left)`, { attemptsLeft: check.attemptsLeft });
    }
    return { ok: true, value: { adminToken: this.openAdminSession() } };
  }

  private async setAdminPin(pin: string): Promise<Result<{ adminToken: string }>> {
    // Claimed before the (slow, yielding) hash: two first-run requests at once must not both set a PIN and both get
    // an admin session, the later one silently replacing the first PIN.
    if (this.core.settings.adminPinHash || this.settingAdminPin) return fail('ADMIN_PIN_WRONG', 'an admin PIN is already set');
    this.settingAdminPin = true;
    try {
      this.core.saveSettings({ adminPinHash: await hashPin(pin) });
    } finally {
      this.settingAdminPin = false;
    }
    log.info('admin PIN set');
    return { ok: true, value: { adminToken: this.openAdminSession() } };
  }

  private openAdminSession(): string {
    const token = randomBytes(24).toString('base64url');
    this.adminSessions.set(token, this.core.monotonicNow() + ADMIN_SESSION_MS);
    return token;
  }

  /** Checks an admin token and extends its session. */
  private admin(token: string): Result<null> {
    const expires = this.adminSessions.get(token);
    if (expires === undefined || expires < this.core.monotonicNow()) {
      this.adminSessions.delete(token);
      return fail('ADMIN_LOCKED', 'admin mode has ended; enter the admin PIN again');
    }
    this.adminSessions.set(token, this.core.monotonicNow() + ADMIN_SESSION_MS);
    return { ok: true, value: null };
  }

  private async enrol(request: KioskRequest<'enrolEmployee'>): Promise<Result<KioskResponses['enrolEmployee']>> {
    const allowed = this.admin(request.adminToken);
    if (!allowed.ok) return allowed;
    let outcome;
    try {
      outcome = await this.core.enrol({ employeeNo: request.employeeNo, fullName: request.fullName, descriptors: request.descriptors });
    } catch (e) {
      const code = centralErrorCode(e);
      // Only an unreachable central is "cannot be reached": a refused login or a certificate that does not check out
      // is a different problem with a different fix, and has its own code. Central's refusals (not this kiosk's
      // employee, a name needed, over today's limit, erased) keep theirs.
      return fail(code === 'CENTRAL_UNREACHABLE' ? 'CENTRAL_REQUIRED' : code, `enrolment: ${(e as Error).message}`);
    }
    this.emitStatus();
    return { ok: true, value: outcome };
  }

  /**
   * Stores the audit snapshot of a face punch made here within the last 30 s, once. Refused when the kiosk is not
   * configured to take snapshots: the screen cannot make it store images by asking.
   */
  private attachSnapshot(request: KioskRequest<'attachSnapshot'>): Result<null> {
    if (!this.core.settings.auditSnapshots) return fail('INVALID_ARGUMENT', 'this kiosk does not keep audit snapshots');
    const jpeg = Buffer.from(request.jpegBase64, 'base64');
    // Start and end of a JPEG, as central checks them (punch_snapshots_jpeg): what central would refuse is refused here.
    const framed = jpeg[0] === 0xff && jpeg[1] === 0xd8 && jpeg[2] === 0xff && jpeg.at(-2) === 0xff && jpeg.at(-1) === 0xd9;
    if (jpeg.length > SNAPSHOT_MAX_BYTES || !framed) {
      return fail('BRIDGE_INVALID', `a snapshot is a JPEG of at most ${SNAPSHOT_MAX_BYTES / 1024} kB`);
    }
    const stored = this.core.attachSnapshot(request.punchId, jpeg);
    if (stored === 'no-recent-punch') return fail('INVALID_ARGUMENT', 'no face punch of the last 30 seconds has that id');
    if (stored === 'already') return fail('INVALID_ARGUMENT', 'that punch already has its snapshot');
    this.uploadSoon();
    return { ok: true, value: null };
  }

  private async syncNow(token: string): Promise<Result<KioskResponses['syncNow']>> {
    const allowed = this.admin(token);
    if (!allowed.ok) return allowed;
    let result;
    try {
      result = await this.core.syncRoster(5_000);
    } catch (e) {
      return fail(centralErrorCode(e), `sync failed: ${(e as Error).message}`);
    }
    const uploaded = await this.core.upload();
    this.emitStatus();
    return { ok: true, value: { kind: result.kind, employees: result.employees, templates: result.templates, uploaded } };
  }

  private async updateSettings(request: KioskRequest<'updateSettings'>): Promise<Result<KioskStatusView>> {
    const allowed = this.admin(request.adminToken);
    if (!allowed.ok) return allowed;
    const change = {
      ...(request.mode ? { mode: request.mode } : {}),
      ...(request.threshold !== undefined ? { threshold: request.threshold } : {}),
    };
    this.core.updatePolicy(change);
    let url: string | undefined;
    if (request.centralHost) {
      const next = new URL(this.core.settings.url);
      next.host = request.centralHost;
      url = next.toString();
      log.info('central host changed from admin mode', { host: next.host });
    }
    this.core.saveSettings({ policy: { ...this.core.settings.policy, ...change }, ...(url ? { url } : {}) });
    return { ok: true, value: this.status() };
  }

  status(): KioskStatusView {
    const s = this.core.status();
    return {
      kioskName: s.kioskName,
      site: s.site,
      siteName: s.siteName ?? s.site,
      timeZone: s.siteTimeZone,
      online: s.upload.connected,
      pendingPunches: s.pendingPunches,
      employees: s.employees,
      templates: s.templates,
      engine: s.engine,
      modelId: s.modelId,
      lastSyncAt: s.lastSyncAt,
      // A code, never central's English: the screen only needs to know that something is wrong (and IT the code).
      lastError: s.upload.uploadError?.code ?? s.upload.downloadError?.code ?? null,
      mode: this.core.policy.mode,
      threshold: this.core.policy.threshold,
      centralHost: new URL(this.core.settings.url).host,
      needsAdminPin: !this.core.settings.adminPinHash,
      auditSnapshots: this.core.settings.auditSnapshots,
      nobodyEnrolled: s.templates === 0,
      clockOffsetMs: s.clockOffsetMs,
    };
  }
}

/** A write refused by the disk: SQLite's "database or disk is full", its I/O errors, or the file system's ENOSPC/EIO. */
function isStorageFailure(e: unknown): boolean {
  const code = typeof e === 'object' && e !== null && 'code' in e ? String(e.code) : '';
  return code === 'SQLITE_FULL' || code.startsWith('SQLITE_IOERR') || code === 'ENOSPC' || code === 'EDQUOT' || code === 'EIO';
}

/** Checked against when the employee number is unknown, so that the answer takes as long as a real check. */
const DUMMY_HASH = 'scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';
