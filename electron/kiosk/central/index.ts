/**
 * The kiosk's gateway to central: every statement a kiosk runs on central, and nothing else of the kiosk speaks SQL to
 * it (lint keeps `pg` out of the rest of electron/kiosk). CentralGateway opens the sessions; the statement files
 * beside it each hold one conversation. See docs/architecture.md.
 */
export { CentralGateway, DEFAULT_WATCH_SECONDS, FALLBACK_TIMEOUT_MS, type GatewayLimits, type GatewaySettings } from './gateway.js';
export { CycleSession, closeSession, withCycle, type CentralSession, type OpenCentralSession } from './session.js';
export { enrolAtCentral, type EnrolOutcome, type EnrolRequest } from './enrol.js';
export { ClockOffsetReports, sendHeartbeat, type HeartbeatHealth, type HeartbeatReport } from './heartbeat.js';
export { readLastPunches, type CentralLastPunch } from './last-punches.js';
export { listenForRoster, ROSTER_CHANNEL, type RosterListener, type RosterListenerEvents } from './listen.js';
export { insertPunches, punchesCentralHolds, type PunchUpload } from './punches.js';
export { lookUpKioskId, registerFirstRunKiosk } from './registration.js';
export {
  readRosterDelta,
  rosterTarget,
  type HomeSite,
  type RosterCacheView,
  type RosterDelta,
  type RosterEmployee,
  type RosterReadOptions,
  type RosterTemplate,
} from './roster-read.js';
export { readRosterHead, watchRosterHead, type RosterPosition, type RosterWatchOptions } from './watch.js';
export { sendSnapshot, type SnapshotOutcome } from './snapshots.js';
export { fromVectorSend } from './vector-bytes.js';
