import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { ClockfaceError } from '../../shared/errors.js';
import { FACE_MODEL_ID } from '../../shared/face-model.js';
import type { AnalyzeResult } from '../../shared/face/engine.js';
import type { QualityIssue } from '../../shared/face/quality.js';
import { createLogger } from '../../shared/logger.js';
import { centralErrorCode } from '../central/sql-errors.js';
import {
  DEFAULT_MATCH_POLICY,
  FrameVoter,
  decidePunch,
  judgeFrame,
  type FrameVerdict,
  type LastPunch,
  type MatchPolicyConfig,
  type TemplateHit,
} from '../../shared/kiosk/match-policy.js';
import {
  CentralGateway,
  withCycle,
  type CycleSession,
  type EnrolOutcome,
  type EnrolRequest,
  type HeartbeatHealth,
  type OpenCentralSession,
  type RosterListener,
  type RosterListenerEvents,
} from './central/index.js';
import { openKioskDbRecovering, type KioskDbRecovery } from './store/kiosk-db-recovery.js';
import type { KioskDatabase } from './store/kiosk-db.js';
import { systemClock, type KioskClock } from './kiosk-clock.js';
import { getMeta } from './store/kiosk-meta.js';
import { DATABASE_FILE, readKioskSettings, writeKioskSettings, type KioskSettings } from './kiosk-settings.js';
import { PinGuard, type PinGuardOptions } from './pin-guard.js';
import type { CachedEmployee } from './store/roster-cache.js';
import { euclideanDistance } from '../../shared/face/descriptor.js';
import { LivenessChallenge, type TurnDirection } from '../../shared/kiosk/liveness.js';
import { PunchJournal, JOURNAL_DIR } from './store/punch-journal.js';
import { facePunchTime, lastPunchOf, pendingPunchIds, recordPunch, workedMinutesToday, type NewPunch, type StoredPunch } from './store/punch-store.js';
import { RosterSync, syncCentralLastPunches, type SyncResult } from './roster-sync.js';
import { Uploader, type UploadStatus } from './uploader.js';
import { openVectorIndex, type VectorEngineName, type VectorIndex } from './vector-index/index.js';

const log = createLogger('kiosk.core');

/** How long to leave central alone after a fallback search failed (the search's own limit: central/gateway.ts). */
const FALLBACK_PAUSE_MS = 30_000;
/** After a fallback search that found nobody, none for this long: a stranger at the kiosk must not hammer central. */
const FALLBACK_INTERVAL_MS = 2_000;

/**
 * A new punch needs a new presentation: after a decision the person must leave the camera first. Leaving is this
 * many frames in a row with no face at all (one missed detection while someone chats at the kiosk is not leaving),
 * or no frame analysed for PRESENCE_GAP_MS (the kiosk was showing the PIN pad or admin mode meanwhile).
 */
const DEPARTURE_FRAMES = 3;
const PRESENCE_GAP_MS = 20_000;
/** How long a "Clock OUT?" question waits for its answer. */
const CONFIRM_TIMEOUT_MS = 20_000;

/** An audit snapshot belongs to a face punch made this recently, or to none. */
const SNAPSHOT_WINDOW_MS = 30_000;

/** Templates fetched per frame: enough to see the best and the runner-up employee even with many templates each. */
const NEIGHBOURS = 20;
/** How far judgeLocally widens its search when all near hits are one person's (see there). */
const MAX_NEIGHBOURS = 1_280;

export interface EmployeeSummary {
  id: number;
  employeeNo: string;
  fullName: string;
}

export type FrameOutcome =
  | { kind: 'no-face'; issues: QualityIssue[] }
  | { kind: 'not-recognised'; bestDistance: number | null }
  | { kind: 'ambiguous'; distance: number; runnerUpDistance: number }
  | { kind: 'pending'; agreeing: number; needed: number }
  | { kind: 'punched'; punch: StoredPunch; employee: EmployeeSummary; source: 'cache' | 'central' }
  | { kind: 'turn-head'; direction: TurnDirection; employee: EmployeeSummary }
  | { kind: 'turn-failed'; reason: 'timeout' | 'someone-else' }
  | { kind: 'already'; employee: EmployeeSummary; direction: 'in' | 'out'; at: Date }
  /** Recognised again without having left the camera since the last decision: nothing is punched. */
  | { kind: 'still-here'; employee: EmployeeSummary; direction: 'in' | 'out'; at: Date }
  /** An OUT moments after an IN: the person answers `confirmPunch` (with this id) before anything is recorded. */
  | { kind: 'confirm'; confirmationId: string; employee: EmployeeSummary; direction: 'in' | 'out'; lastDirection: 'in' | 'out'; lastAt: Date };

export interface KioskStatus {
  kioskName: string;
  kioskId: number | null;
  site: string;
  /** From central at each sync; null before the first. */
  siteName: string | null;
  siteTimeZone: string | null;
  engine: VectorEngineName;
  engineChosenBecause: string;
  modelId: string;
  employees: number;
  templates: number;
  indexed: number;
  rosterWatermark: string | null;
  lastSyncAt: string | null;
  pendingPunches: number;
  oldestPendingAt: string | null;
  upload: UploadStatus;
  /** Kiosk clock minus central clock at the last heartbeat (ms); null until one succeeded. */
  clockOffsetMs: number | null;
  recovery: KioskDbRecovery | null;
}

/** What one roster sync did, with the central last punches it refreshed and whether it read up to "now". */
export type RosterSyncResult = SyncResult & { lastPunchesChanged: number; caughtUp: boolean };

export interface KioskCoreOptions {
  engine?: VectorEngineName | 'auto';
  /** Wall and monotonic clock (default: the machine's). Tests pass one they move by hand (test/support/test-clock.ts). */
  clock?: KioskClock;
  /** Limits on waiting for central (connection attempt, each query); defaults in connect.ts. */
  centralTimeouts?: { connectMs?: number; queryMs?: number };
  /** For the head-turn side; tests pass a fixed one. */
  random?: () => number;
  appVersion?: string;
}

/**
 * The kiosk without its window: roster cache and vector index, match policy, punches and their upload. The Electron
 * main process and the `clockface kiosk` commands both drive this.
 */
export class KioskCore {
  private currentPolicy: MatchPolicyConfig;
  private voter: FrameVoter;
  private readonly sync: RosterSync;
  readonly uploader: Uploader;
  /** Every statement this kiosk runs on central goes through here. */
  readonly central: CentralGateway;
  private fallbackPausedUntil = Number.NEGATIVE_INFINITY;
  private lastFruitlessFallbackAt = Number.NEGATIVE_INFINITY;
  /** The head-turn check in progress, and the punch it will make. */
  private challenge: {
    check: LivenessChallenge;
    employeeId: number;
    direction: 'in' | 'out';
    distance: number;
    source: 'cache' | 'central';
    /** The descriptor of the frame that was recognised: the turned face must be this face. */
    face: Float32Array;
  } | null = null;
  /**
   * The person of the last decision (punch, "already", question), until they leave the camera: see DEPARTURE_FRAMES.
   * `lastFrameAt` is monotonic; `emptyFrames` counts the frames in a row with nobody in them.
   */
  private present: { employeeId: number; direction: 'in' | 'out'; at: Date } | null = null;
  private emptyFrames = 0;
  private lastFrameAt = Number.NEGATIVE_INFINITY;
  /** The "Clock OUT?" question waiting for its answer, and the punch a yes makes. */
  private question: {
    id: string;
    employeeId: number;
    direction: 'in' | 'out';
    distance: number;
    source: 'cache' | 'central';
    expiresAt: number;
  } | null = null;
  /** Kiosk clock minus central clock at the last heartbeat (ms), or null before the first. */
  private clockOffsetMs: number | null = null;
  /**
   * The last punch recorded by this process per employee, with the monotonic time it was made: lets a repeat
   * punch be judged on real elapsed time even when the wall clock jumped in between (see lastPunchFor).
   */
  private readonly punchedHere = new Map<number, { direction: 'in' | 'out'; at: string; monotonicMs: number }>();
  /** Employees the central fallback named; used only until the next sync brings their templates. */
  private readonly centralNames = new Map<number, EmployeeSummary>();
  private readonly clock: KioskClock;

  private constructor(
    readonly dir: string,
    readonly settings: KioskSettings & { kioskId: number },
    readonly db: KioskDatabase,
    readonly index: VectorIndex,
    private readonly journal: PunchJournal,
    readonly recovery: KioskDbRecovery | null,
    private readonly options: KioskCoreOptions,
  ) {
    this.clock = options.clock ?? systemClock;
    this.currentPolicy = { ...DEFAULT_MATCH_POLICY, ...settings.policy };
    this.voter = new FrameVoter(this.currentPolicy);
    this.central = new CentralGateway(() => this.settings, options.centralTimeouts);
    this.sync = new RosterSync(db, index, { kioskId: settings.kioskId, clock: this.clock });
    this.uploader = new Uploader(db, { kioskId: settings.kioskId, batchSize: settings.uploadBatchSize, clock: this.clock });
  }

  /** Opens a kiosk folder made by `kiosk init`; finishes index work a killed process left behind. */
  static open(dir: string, options: KioskCoreOptions = {}): KioskCore {
    const settings = readKioskSettings(dir);
    if (settings.kioskId === undefined) {
      throw new Error(`${dir}: settings have no kioskId; run \`clockface kiosk init\` again`);
    }
    const clock = options.clock ?? systemClock;
    const journal = new PunchJournal(join(dir, JOURNAL_DIR), clock);
    // Recovery reads the journal first; only then are old months pruned, keeping any that holds a punch still waiting.
    const { db, recovery } = openKioskDbRecovering(join(dir, DATABASE_FILE), journal, clock);
    try {
      const waiting = pendingPunchIds(db);
      journal.prune(clock.now(), (id) => waiting.has(id));
      const index = openVectorIndex(db, options.engine ?? settings.engine);
      const core = new KioskCore(dir, { ...settings, kioskId: settings.kioskId }, db, index, journal, recovery, options);
      // An index of another engine, or one a crash left half-done, catches up here from the canonical table.
      if (index.count() !== core.sync.counts().templates && getMeta(db, 'index_rebuild') === null) {
        core.requestIndexRebuild();
      }
      core.sync.applyPendingIndexWork();
      return core;
    } catch (e) {
      db.close();
      throw e;
    }
  }

  get policy(): MatchPolicyConfig {
    return this.currentPolicy;
  }

  /** Changes the policy (admin settings); the frames seen so far are forgotten. The caller persists the settings. */
  updatePolicy(change: Partial<MatchPolicyConfig>): void {
    this.currentPolicy = { ...this.currentPolicy, ...change };
    this.voter = new FrameVoter(this.currentPolicy);
  }

  private requestIndexRebuild(): void {
    this.sync.cache.requestIndexRebuild();
  }

  /** The kiosk's wall clock (punch times). KioskService reads the same one, so the two never disagree. */
  now(): Date {
    return this.clock.now();
  }

  /** Milliseconds on a clock that never jumps: for elapsed time (debounce, pauses, admin sessions), never for dates. */
  monotonicNow(): number {
    return this.clock.monotonicNow();
  }

  /** A connection for punches and heartbeats (the primary). */
  connectPrimary(): Promise<OpenCentralSession> {
    return this.central.connectPrimary();
  }

  /** A connection for roster reads: the read replica when configured. */
  connectRoster(): Promise<OpenCentralSession> {
    return this.central.connectRoster();
  }

  /** A session listening for roster notifications, for the RosterFollower. */
  listenForRoster(events: RosterListenerEvents): Promise<RosterListener> {
    return this.central.listen(events, () => this.sync.cache.position());
  }

  /**
   * A roster sync plus the central last punches; throws (changing nothing) when central cannot be read.
   *
   * `waitMs` > 0: keep syncing until every transaction that had started on central when this call began has been
   * read (an explicit "sync now" means "as of now"). The feed holds back changes while an older transaction is
   * still open anywhere on the server; after `waitMs` the result says `caughtUp: false` instead of waiting on.
   */
  async syncRoster(waitMs = 0, cycle?: CycleSession): Promise<RosterSyncResult> {
    // A cycle's session is the primary's: of use for the roster only when no read replica serves it.
    const source = cycle && !this.settings.rosterUrl ? cycle : () => this.connectRoster();
    try {
      return await withCycle(source, (sessions) =>
        sessions.use(async (session) => {
          const target = await this.central.rosterTarget(session);
          // Monotonic: a wall clock set back a day must not turn a 2 s wait into a day's.
          const deadline = this.monotonicNow() + waitMs;
          let result = await this.sync.sync(session);
          let changesRead = result.changesRead;
          while (BigInt(result.watermark) < target && this.monotonicNow() < deadline) {
            await new Promise((resolve) => setTimeout(resolve, 200));
            result = await this.sync.sync(session);
            changesRead += result.changesRead;
          }
          const lastPunchesChanged = await syncCentralLastPunches(this.db, session, this.settings.kioskId, this.clock);
          this.uploader.noteDownload(null);
          return { ...result, changesRead, lastPunchesChanged, caughtUp: BigInt(result.watermark) >= target };
        }),
      );
    } catch (e) {
      this.uploader.noteDownload(e);
      throw e;
    }
  }

  /**
   * A roster sync, then an upload whatever the sync did: the roster may come from a read replica that is down, and
   * that must never hold back punches bound for the primary. The sync's outcome is returned, not thrown. Every step
   * on the primary (the roster too, without a replica) shares one session (CycleSession): one connection per cycle.
   */
  syncThenUpload(waitMs = 0): Promise<{ sync: { ok: true; result: RosterSyncResult } | { ok: false; error: unknown }; uploaded: number }> {
    return withCycle(
      () => this.connectPrimary(),
      async (cycle) => {
        const sync = await this.syncRoster(waitMs, cycle).then(
          (result) => ({ ok: true as const, result }),
          (error: unknown) => ({ ok: false as const, error }),
        );
        return { sync, uploaded: await this.upload(cycle) };
      },
    );
  }

  /**
   * Uploads pending punches, says the kiosk is alive, then sends audit snapshots, on `cycle`'s session when given
   * (else on one of its own). Never throws: failures are in the upload status. Only the link decides "connected": a
   * snapshot central refuses is that snapshot's problem (its queue deletes it), not the kiosk's.
   */
  upload(cycle?: CycleSession): Promise<number> {
    return withCycle(cycle ?? (() => this.connectPrimary()), async (sessions) => {
      const stored = await this.uploader.drain(sessions);
      const status = this.uploader.getStatus();
      if (status.pending > 0 && !status.connected) return stored; // the drain just failed: no second try now
      try {
        const report = { appVersion: this.options.appVersion ?? '0.1.0', pending: status.pending, refused: status.refused, health: this.health() };
        this.clockOffsetMs = await sessions.use((session) => this.central.heartbeat(session, report, () => this.now()));
        this.uploader.noteContact();
      } catch (e) {
        const failure = this.uploader.noteUploadFailure(e);
        log.warn('heartbeat failed', { code: failure.code, error: failure.message });
        return stored;
      }
      await sessions.use((session) => this.uploader.sendSnapshots(session));
      return stored;
    });
  }

  /** What the heartbeat tells central about this kiosk's health (IT's fleet view: electron/central/kiosk-fleet.ts). */
  private health(): HeartbeatHealth {
    const now = this.now().getTime();
    // Ages on the kiosk clock, from times it stamped on the same clock: central turns them into its own times.
    const secondsSince = (iso: string | null) => (iso === null ? null : (now - Date.parse(iso)) / 1000);
    return {
      intervalSeconds: this.settings.pollSeconds,
      oldestPendingAgeS: secondsSince(this.uploader.punches.oldestPendingAt()),
      rosterWatermark: getMeta(this.db, 'roster_watermark'),
      rosterSyncAgeS: secondsSince(getMeta(this.db, 'last_sync_at')),
      templates: this.sync.counts().templates,
      vectorEngine: this.index.engine,
      lastUploadError: this.uploader.standingUploadError(),
    };
  }

  /** One analysed frame (Node face engine) through the policy; see {@link processDescriptor}. */
  processFrame(analysis: AnalyzeResult): Promise<FrameOutcome> {
    if (!analysis.ok) return this.processDescriptor(null, analysis.issues);
    if (analysis.face.descriptor.modelId !== FACE_MODEL_ID) {
      throw new ClockfaceError('MODEL_MISMATCH', `frame made by ${analysis.face.descriptor.modelId}, the kiosk uses ${FACE_MODEL_ID}`);
    }
    return this.processDescriptor(analysis.face.descriptor.values, []);
  }

  /**
   * One frame's descriptor (null: no usable face, `issues` says why) through the policy; a confirmed recognition
   * records a punch (or says "already") at once.
   */
  async processDescriptor(descriptor: Float32Array | null, issues: QualityIssue[], yaw: number | null = null): Promise<FrameOutcome> {
    this.notePresence(descriptor === null && (issues.length === 0 || issues.includes('NO_FACE')));
    if (this.challenge) return this.continueChallenge(descriptor, yaw);
    if (descriptor === null) {
      this.voter.push({ kind: 'no-face' });
      return { kind: 'no-face', issues };
    }
    let verdict = this.judgeLocally(descriptor);
    let source: 'cache' | 'central' = 'cache';
    if (verdict.kind === 'unknown' && this.settings.centralFallback) {
      const central = await this.judgeCentrally(descriptor);
      if (central?.kind === 'candidate') {
        verdict = central;
        source = 'central';
      }
    }
    // The person last decided on, still there: nothing is being decided, so no votes are needed to say so, and never a
    // second punch (someone chatting at the kiosk after clocking in was clocked OUT when the debounce ran out before).
    if (verdict.kind === 'candidate' && this.present?.employeeId === verdict.employeeId) {
      this.voter.reset();
      const last = this.lastPunchFor(verdict.employeeId, this.now());
      const employee = this.employee(verdict.employeeId);
      return { kind: 'still-here', employee, direction: last?.direction ?? this.present.direction, at: last?.recordedAt ?? this.present.at };
    }
    const vote = this.voter.push(verdict);
    if (vote.kind === 'pending') return { kind: 'pending', agreeing: vote.agreeing, needed: vote.needed };
    if (vote.kind === 'none') {
      if (verdict.kind === 'ambiguous') {
        return { kind: 'ambiguous', distance: verdict.distance, runnerUpDistance: verdict.runnerUpDistance };
      }
      return { kind: 'not-recognised', bestDistance: verdict.kind === 'unknown' ? verdict.bestDistance : null };
    }
    const employee = this.employee(vote.employeeId);
    const at = this.now();
    const last = this.lastPunchFor(vote.employeeId, at);
    const decision = decidePunch(last, at, this.policy);
    // "Already clocked in at 09:02" shows the time recorded on that punch, as the person saw it then.
    if (decision.action === 'already') {
      const shown = last?.recordedAt ?? decision.at;
      this.present = { employeeId: vote.employeeId, direction: decision.direction, at: shown };
      return { kind: 'already', employee, direction: decision.direction, at: shown };
    }
    if (decision.action === 'confirm') {
      const lastAt = last?.recordedAt ?? decision.lastAt;
      this.present = { employeeId: vote.employeeId, direction: decision.lastDirection, at: lastAt };
      this.question = {
        id: randomUUID(),
        employeeId: vote.employeeId,
        direction: decision.direction,
        distance: vote.distance,
        source,
        expiresAt: this.monotonicNow() + CONFIRM_TIMEOUT_MS,
      };
      return { kind: 'confirm', confirmationId: this.question.id, employee, direction: decision.direction, lastDirection: decision.lastDirection, lastAt };
    }
    if (this.settings.liveness === 'turn-head') {
      const check = LivenessChallenge.start(vote.employeeId, at, this.options.random ?? Math.random);
      this.challenge = { check, employeeId: vote.employeeId, direction: decision.direction, distance: vote.distance, source, face: Float32Array.from(descriptor) };
      return { kind: 'turn-head', direction: check.direction, employee };
    }
    const punch = this.recordPunch({
      employeeId: vote.employeeId,
      direction: decision.direction,
      method: 'face',
      matchDistance: vote.distance,
      at,
    });
    this.present = { employeeId: vote.employeeId, direction: punch.direction, at: punch.at };
    log.info('punch recorded', { direction: punch.direction, source });
    return { kind: 'punched', punch, employee, source };
  }

  /**
   * The answer to a "Clock OUT?" question: yes records the punch it asked about (with the recognition's distance), no
   * or a stale id records nothing. Null when there is no such question any more (answered, expired, superseded).
   */
  confirmPunch(confirmationId: string, yes: boolean): { punch: StoredPunch; employee: EmployeeSummary; source: 'cache' | 'central' } | null {
    const q = this.question;
    if (!q || q.id !== confirmationId || this.monotonicNow() > q.expiresAt) return null;
    this.question = null;
    if (!yes) return null;
    const punch = this.recordPunch({ employeeId: q.employeeId, direction: q.direction, method: 'face', matchDistance: q.distance, at: this.now() });
    this.present = { employeeId: q.employeeId, direction: punch.direction, at: punch.at };
    log.info('punch recorded', { direction: punch.direction, source: q.source, confirmed: true });
    return { punch, employee: this.employee(q.employeeId), source: q.source };
  }

  /** Frames with nobody in them, and long pauses in analysis, end the presentation of the last person decided on. */
  private notePresence(empty: boolean): void {
    const t = this.monotonicNow();
    if (t - this.lastFrameAt > PRESENCE_GAP_MS) this.present = null;
    this.lastFrameAt = t;
    this.emptyFrames = empty ? this.emptyFrames + 1 : 0;
    if (this.emptyFrames >= DEPARTURE_FRAMES) this.present = null;
  }

  /** A frame during the head-turn check: the same person (or nobody recognisable) must turn as asked, in time. */
  private continueChallenge(descriptor: Float32Array | null, yaw: number | null): FrameOutcome {
    const challenge = this.challenge;
    if (!challenge) throw new Error('no head-turn check in progress');
    const hits = descriptor ? this.localHits(descriptor) : [];
    const verdict = descriptor ? judgeFrame(hits, this.policy) : null;
    const named = verdict?.kind === 'candidate' ? verdict.employeeId : null;
    // The turned face must be the recognised one: close to the frame that started the check (seconds ago, same
    // light), or to the person's own templates. An unrecognised face is nobody else, but it is not them either.
    const sameFace =
      descriptor !== null &&
      (euclideanDistance(descriptor, challenge.face) <= this.policy.threshold ||
        hits.some((h) => h.employeeId === challenge.employeeId && h.distance <= this.policy.threshold));
    const state = challenge.check.onFrame({ employeeId: named, yaw, sameFace }, this.now());
    const employee = this.employee(challenge.employeeId);
    if (state.kind === 'waiting') return { kind: 'turn-head', direction: state.direction, employee };
    this.challenge = null;
    this.voter.reset();
    if (state.kind === 'failed') {
      log.info('head-turn check failed', { reason: state.reason });
      return { kind: 'turn-failed', reason: state.reason };
    }
    const punch = this.recordPunch({
      employeeId: challenge.employeeId,
      direction: challenge.direction,
      method: 'face',
      matchDistance: challenge.distance,
      liveness: 'passed',
      at: this.now(),
    });
    this.present = { employeeId: challenge.employeeId, direction: punch.direction, at: punch.at };
    log.info('punch recorded', { direction: punch.direction, source: challenge.source, liveness: 'passed' });
    return { kind: 'punched', punch, employee, source: challenge.source };
  }

  /**
   * Enrols faces on central (its duplicate-face guard and limits decide), then syncs so that the person is recognised
   * here at once. A failed sync only delays that (the next one brings the faces) and is logged; central's refusals
   * are thrown with their codes.
   */
  async enrol(request: EnrolRequest): Promise<EnrolOutcome> {
    const outcome = await this.central.enrol(request);
    if (!outcome.duplicateOf) {
      await this.syncRoster(5_000).catch((e: unknown) => {
        log.warn('roster sync after enrolment failed; the next sync brings the new faces', { code: centralErrorCode(e), error: (e as Error).message });
      });
    }
    return outcome;
  }

  /** The PIN lock-outs, kept in this kiosk's database and timed on its clock. */
  pinGuard(options: PinGuardOptions): PinGuard {
    return new PinGuard(this.db, options, this.clock);
  }

  /** The cached employee a typed number names (see RosterCache.employeeByNumber). */
  employeeByNumber(typed: string): CachedEmployee | undefined {
    return this.sync.cache.employeeByNumber(typed);
  }

  /** Changes settings (admin mode) and writes them to the kiosk folder; the gateway reads the new URL at its next connection. */
  saveSettings(change: Partial<Pick<KioskSettings, 'adminPinHash' | 'policy' | 'url'>>): void {
    Object.assign(this.settings, change);
    writeKioskSettings(this.dir, this.settings);
  }

  /**
   * Keeps the audit snapshot of a face punch made here within the last 30 s, once, for the next upload. The caller
   * checks that this kiosk takes snapshots and that the bytes are a JPEG.
   */
  attachSnapshot(punchId: string, jpeg: Buffer): 'stored' | 'no-recent-punch' | 'already' {
    const at = facePunchTime(this.db, punchId);
    if (!at || this.now().getTime() - at.getTime() > SNAPSHOT_WINDOW_MS) return 'no-recent-punch';
    return this.uploader.snapshots.add(punchId, jpeg) ? 'stored' : 'already';
  }

  /** "Worked today" for the clock-out screen (see workedMinutesToday), on the kiosk's clock and its site's zone. */
  workedToday(employeeId: number): number | null {
    return workedMinutesToday(this.db, employeeId, this.now(), getMeta(this.db, 'site_time_zone'));
  }

  /**
   * The employee's last punch as the policy should see it at `now`. When that punch was made by this process, its
   * time is re-expressed on the current wall clock through the monotonic clock (now minus the real time elapsed):
   * after the clock jumped forward a week, a second look 10 s later is still "already clocked in" (not a new IN
   * for a "forgotten" clock-out), and after it jumped back an hour the next punch still alternates IN/OUT and is
   * debounced on real seconds. A punch from before a restart keeps its recorded time; if that lies in the future,
   * decidePunch records the new punch rather than drop it as "already".
   */
  lastPunchFor(employeeId: number, now: Date): (LastPunch & { recordedAt: Date }) | null {
    const last = lastPunchOf(this.db, employeeId);
    if (!last) return null;
    const here = this.punchedHere.get(employeeId);
    if (!here || here.at !== last.at.toISOString() || here.direction !== last.direction) return { ...last, recordedAt: last.at };
    const elapsed = Math.max(0, this.monotonicNow() - here.monotonicMs);
    return { direction: last.direction, at: new Date(now.getTime() - elapsed), recordedAt: last.at };
  }

  /** The punch into SQLite (punch + outbox, one transaction), then into the journal; both before the UI confirms. */
  recordPunch(punch: NewPunch): StoredPunch {
    const stored = recordPunch(this.db, punch);
    this.punchedHere.set(stored.employeeId, { direction: stored.direction, at: stored.at.toISOString(), monotonicMs: this.monotonicNow() });
    try {
      this.journal.append(stored);
    } catch (e) {
      // The punch is safe in SQLite; only the second copy is missing. Loud, but not a reason to refuse the punch.
      log.error('punch journal write failed', { error: (e as Error).message });
    }
    return stored;
  }

  /**
   * Forget the frames seen so far (the screen went back to the camera, or the person left). Who was last decided on
   * is kept: only frames without them (DEPARTURE_FRAMES) or a pause in analysis end that.
   */
  resetFrames(): void {
    this.voter.reset();
    this.challenge = null;
  }

  /** The cache's verdict on one descriptor. */
  judgeLocally(descriptor: Float32Array): FrameVerdict {
    return judgeFrame(this.localHits(descriptor), this.policy);
  }

  /** The cache's nearest templates, by person, nearest first; see judgeLocally. */
  private localHits(descriptor: Float32Array): TemplateHit[] {
    const cache = this.sync.cache;
    for (let k = NEIGHBOURS; ; k *= 4) {
      const hits = this.index.search(descriptor, k);
      const named: TemplateHit[] = [];
      for (const h of hits) {
        // A hit the table no longer has was removed by a sync the index has not caught up with: not a match.
        const employeeId = cache.ownerOf(h.templateId);
        if (employeeId !== undefined) named.push({ employeeId, distance: h.distance });
      }
      // The margin rule needs the nearest *other* person. When every hit is one person's (someone enrolled many
      // times) and the farthest hit is still within the margin of the nearest, a look-alike colleague could sit just
      // beyond the k hits: look further before judging, so that many templates cannot turn "ambiguous" into a match.
      const first = named[0];
      const last = named.at(-1);
      const onePerson = first !== undefined && named.every((n) => n.employeeId === first.employeeId);
      // As far as the widest margin a rule asks for: a single-frame decision wants the next person that far off.
      const reach = Math.max(this.policy.margin, this.policy.singleFrame?.minMargin ?? 0);
      const mayHideRival = onePerson && last !== undefined && last.distance < first.distance + reach;
      if (!mayHideRival || hits.length < k || k >= MAX_NEIGHBOURS) return named;
    }
  }

  /**
   * Central's hnsw index, for the sites this kiosk serves; null when central cannot be reached. A person waits at
   * the screen meanwhile, so the attempt is short, and after a failure central is not asked again for a while.
   */
  private async judgeCentrally(descriptor: Float32Array): Promise<FrameVerdict | null> {
    // Monotonic: after a failure with the wall clock then set back a day, the pause must still be 30 s.
    const t = this.monotonicNow();
    if (t < this.fallbackPausedUntil || t - this.lastFruitlessFallbackAt < FALLBACK_INTERVAL_MS) return null;
    try {
      const people = await this.central.nearestPeople(descriptor);
      for (const p of people) this.centralNames.set(p.employeeId, { id: p.employeeId, employeeNo: p.employeeNo, fullName: p.fullName });
      const verdict = judgeFrame(people.map((p) => ({ employeeId: p.employeeId, distance: p.distance })), this.policy);
      // Someone central knows is being recognised: keep asking on the next frames (the policy wants N of M).
      if (verdict.kind !== 'candidate') this.lastFruitlessFallbackAt = this.monotonicNow();
      return verdict;
    } catch (e) {
      this.fallbackPausedUntil = this.monotonicNow() + FALLBACK_PAUSE_MS;
      log.info('central fallback search unavailable', { code: centralErrorCode(e) });
      return null;
    }
  }

  private employee(id: number): EmployeeSummary {
    const row = this.sync.cache.employee(id);
    if (row) return { id, employeeNo: row.employee_no, fullName: row.full_name };
    return this.centralNames.get(id) ?? { id, employeeNo: `#${id}`, fullName: 'unknown' };
  }

  status(): KioskStatus {
    const counts = this.sync.counts();
    const upload = this.uploader.getStatus();
    return {
      kioskName: this.settings.kioskName,
      kioskId: this.settings.kioskId,
      site: this.settings.site,
      siteName: getMeta(this.db, 'site_name'),
      siteTimeZone: getMeta(this.db, 'site_time_zone'),
      engine: this.index.engine,
      engineChosenBecause: this.index.chosenBecause,
      modelId: getMeta(this.db, 'roster_model_id') ?? FACE_MODEL_ID,
      employees: counts.employees,
      templates: counts.templates,
      indexed: this.index.count(),
      rosterWatermark: getMeta(this.db, 'roster_watermark'),
      lastSyncAt: getMeta(this.db, 'last_sync_at'),
      pendingPunches: upload.pending,
      oldestPendingAt: this.uploader.punches.oldestPendingAt(),
      upload,
      clockOffsetMs: this.clockOffsetMs,
      recovery: this.recovery,
    };
  }

  close(): void {
    this.index.close();
    this.db.close();
  }
}
