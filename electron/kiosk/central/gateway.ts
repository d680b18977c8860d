import { nearestPeople, type NearPerson } from '../../central/face-search.js';
import { KIOSK_CONNECT_TIMEOUT_MS, KIOSK_QUERY_TIMEOUT_MS, connectCentral } from '../../central/connect.js';
import { enrolAtCentral, type EnrolOutcome, type EnrolRequest } from './enrol.js';
import { ClockOffsetReports, sendHeartbeat, type HeartbeatReport } from './heartbeat.js';
import { readLastPunches, type CentralLastPunch } from './last-punches.js';
import { listenForRoster, type RosterListener, type RosterListenerEvents } from './listen.js';
import { watchRosterHead, type RosterPosition } from './watch.js';
import { insertPunches, punchesCentralHolds, type PunchUpload } from './punches.js';
import { readRosterDelta, rosterTarget, type RosterCacheView, type RosterDelta, type RosterReadOptions } from './roster-read.js';
import { closeSession, type CentralSession, type OpenCentralSession } from './session.js';
import { sendSnapshot, type SnapshotOutcome } from './snapshots.js';

/** Where this kiosk's central is, read at each connection: admin mode may change the host while the kiosk runs. */
export interface GatewaySettings {
  kioskName: string;
  kioskId: number;
  /** The primary: punches, heartbeats, enrolment, notifications. */
  url: string;
  /** Roster reads and the fallback search: a read replica when set. */
  rosterUrl?: string | undefined;
  /**
   * 'transaction': both URLs lead through a pooler in transaction mode (PgBouncer). Sessions then carry no startup
   * options and no state between statements, and roster changes are found by looking at central's roster head every
   * `watchSeconds` instead of LISTEN. Absent or 'none': direct sessions.
   */
  pooler?: 'none' | 'transaction' | undefined;
  watchSeconds?: number | undefined;
  /** Behind the pooler: the shared login the roster head is watched with (kiosk.json `watchLogin`). */
  watchLogin?: { user: string; password: string } | undefined;
}

export interface GatewayLimits {
  /** Connection attempt and each query (defaults in electron/central/connect.ts). */
  connectMs?: number;
  queryMs?: number;
}

/** Seconds between looks at the roster head behind a transaction pooler (kiosk.json `watchSeconds`). */
export const DEFAULT_WATCH_SECONDS = 2;

/** How long a frame may wait for central's fallback search: a person is standing at the screen. */
export const FALLBACK_TIMEOUT_MS = 1_500;

/**
 * Everything a kiosk does on central, in one place: the only kiosk code that speaks SQL to central (the kiosk's own
 * SQLite is electron/kiosk/store/). KioskCore holds one and decides when to call it; the statements themselves live
 * in the files beside this one, one file per conversation. Errors leave as thrown values whose SQLSTATEs map to codes
 * through electron/central/sql-errors.ts (centralErrorCode), the one table the CLI uses too.
 *
 * Every connection has client-side limits: a stalled link ends in an error, never in a hang.
 */
export class CentralGateway {
  /** What this kiosk last told central about its clock: an unchanged offset is not told at every heartbeat. */
  private readonly clockReports = new ClockOffsetReports();

  constructor(
    private readonly settings: () => GatewaySettings,
    private readonly limits: GatewayLimits = {},
  ) {}

  private get kioskId(): number {
    return this.settings().kioskId;
  }

  private get pooled(): boolean {
    return this.settings().pooler === 'transaction';
  }

  private connect(url: string, purpose: string, limits?: { timeoutMs: number; queryTimeoutMs: number; statementTimeoutMs?: number }): Promise<OpenCentralSession> {
    const name = purpose ? `clockface-kiosk:${this.settings().kioskName}:${purpose}` : `clockface-kiosk:${this.settings().kioskName}`;
    return connectCentral(
      { url, embeddedDefault: false },
      {
        applicationName: name,
        pooled: this.pooled,
        ...(limits ?? {
          timeoutMs: this.limits.connectMs ?? KIOSK_CONNECT_TIMEOUT_MS,
          queryTimeoutMs: this.limits.queryMs ?? KIOSK_QUERY_TIMEOUT_MS,
        }),
      },
    );
  }

  /** A session on the primary, for punches, heartbeats, snapshots. The caller ends it (closeSession). */
  connectPrimary(): Promise<OpenCentralSession> {
    return this.connect(this.settings().url, '');
  }

  /** A session for roster reads: the read replica when configured. */
  connectRoster(): Promise<OpenCentralSession> {
    const s = this.settings();
    return this.connect(s.rosterUrl ?? s.url, 'roster');
  }

  /** See roster-read.ts. */
  rosterTarget(session: CentralSession): Promise<bigint> {
    return rosterTarget(session);
  }

  readRoster(session: CentralSession, cache: RosterCacheView, options: Omit<RosterReadOptions, 'kioskId'>): Promise<RosterDelta> {
    return readRosterDelta(session, cache, { ...options, kioskId: this.kioskId });
  }

  lastPunches(session: CentralSession, since: Date): Promise<CentralLastPunch[]> {
    return readLastPunches(session, this.kioskId, since);
  }

  insertPunches(session: CentralSession, rows: readonly PunchUpload[]): Promise<number> {
    return insertPunches(session, rows, this.kioskId);
  }

  punchesHeld(session: CentralSession, ids: readonly string[]): Promise<Set<string>> {
    return punchesCentralHolds(session, ids);
  }

  heartbeat(session: CentralSession, report: HeartbeatReport, kioskNow: () => Date): Promise<number> {
    const s = this.settings();
    return sendHeartbeat(session, s.kioskId, report, kioskNow, { to: this.clockReports, central: `${s.kioskId}@${s.url}` });
  }

  sendSnapshot(session: CentralSession, punchId: string, jpeg: Buffer): Promise<SnapshotOutcome> {
    return sendSnapshot(session, punchId, jpeg);
  }

  /** Enrolment on its own primary session (the caller maps connection failures: see KioskService.enrol). */
  async enrol(request: EnrolRequest): Promise<EnrolOutcome> {
    const session = await this.connectPrimary();
    try {
      return await enrolAtCentral(session, this.kioskId, request);
    } finally {
      await closeSession(session);
    }
  }

  /**
   * The two nearest people on central's hnsw index, over the sites this kiosk serves, active people only (the same
   * search as `clockface search`): the match rule needs the nearest and the margin to the next. Short limits
   * throughout: statement_timeout stops the search on central, and queryTimeoutMs frees the person at the screen when
   * the link stalls after connecting (the server's timeout error would never arrive).
   */
  async nearestPeople(descriptor: Float32Array): Promise<NearPerson[]> {
    const s = this.settings();
    const session = await this.connect(s.rosterUrl ?? s.url, 'search', {
      timeoutMs: FALLBACK_TIMEOUT_MS,
      statementTimeoutMs: FALLBACK_TIMEOUT_MS,
      queryTimeoutMs: FALLBACK_TIMEOUT_MS,
    });
    try {
      if (!this.pooled) return await nearestPeople(session, descriptor, 2, { kioskId: this.kioskId });
      // Through a transaction pooler: the settings and the limit hold for this one transaction (see applySearchSettings).
      await session.query(`BEGIN READ ONLY; SET LOCAL statement_timeout = ${FALLBACK_TIMEOUT_MS}`);
      const found = await nearestPeople(session, descriptor, 2, { kioskId: this.kioskId }, 'transaction');
      await session.query('COMMIT');
      return found;
    } finally {
      // Not awaited: on a stalled link closing takes its own timeout, and a person is waiting at the screen.
      void closeSession(session);
    }
  }

  /**
   * A primary session that reports roster changes: LISTEN (NOTIFY is not replicated to read replicas), or behind a
   * transaction pooler, where LISTEN hears nothing, a look at the roster head every `watchSeconds` (watch.ts).
   */
  async listen(events: RosterListenerEvents, position: () => RosterPosition): Promise<RosterListener> {
    if (!this.pooled) return listenForRoster(await this.connectPrimary(), events);
    const s = this.settings();
    const intervalMs = (s.watchSeconds ?? DEFAULT_WATCH_SECONDS) * 1000;
    if (!s.watchLogin) return watchRosterHead(await this.connectPrimary(), events, { intervalMs, position, shared: false });
    // The shared watch login: one pool on the pooler for every kiosk's looks (central 0170).
    const url = new URL(s.url);
    url.username = encodeURIComponent(s.watchLogin.user);
    url.password = encodeURIComponent(s.watchLogin.password);
    return watchRosterHead(await this.connect(url.toString(), 'watch'), events, { intervalMs, position, shared: true });
  }
}
