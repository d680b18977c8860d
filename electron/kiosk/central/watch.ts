import type { RosterListener, RosterListenerEvents } from './listen.js';
import { closeSession, type CentralSession, type OpenCentralSession } from './session.js';

/** Where the kiosk's roster cache stands: its watermark and the sites it was built for (null before the first sync). */
export interface RosterPosition {
  watermark: string | null;
  sites: readonly string[] | null;
}

export interface RosterWatchOptions {
  /** Mean time between looks; each wait is drawn from ±25 % of it, so a fleet started together spreads out. */
  intervalMs: number;
  position: () => RosterPosition;
  /** [0, 1): Math.random unless a test fixes it. */
  random?: () => number;
  /** The session is the shared watch login's (roster_watch_head), not the kiosk's own (roster_head). */
  shared?: boolean;
}

/**
 * The id of the latest roster change of these sites that the feed already hands out: central's roster_head (0160) on
 * the kiosk's own login, roster_watch_head (0170) on the shared watch login.
 */
export async function readRosterHead(session: CentralSession, sites: readonly string[], shared = false): Promise<bigint> {
  const fn = shared ? 'roster_watch_head' : 'roster_head';
  const { rows } = await session.query<{ head: string }>(`SELECT ${fn}($1::text[])::text AS head`, [sites]);
  return BigInt(rows[0]?.head ?? '0');
}

/**
 * The roster follower's notifications where LISTEN cannot work: behind a pooler in transaction mode (each transaction
 * may run on another server session, and none keeps listening). Looks at central's roster head on `session` every
 * `intervalMs` (jittered) and says `notified` when a change the cache has not read is there: a head at or above the
 * cache's watermark (the feed's watermark is the first transaction not yet read). One indexed step per site on central;
 * through the pooler the session holds a server connection only for the length of that one statement.
 *
 * Before the first sync there is nothing to compare with, and the follower syncs anyway. A failed look ends the watch
 * (`lost`); the follower polls until it opens a new one. The first look happens before this resolves, so a central
 * without roster_head (older than migration 0160) refuses here, as a refused LISTEN would.
 */
export async function watchRosterHead(session: OpenCentralSession, events: RosterListenerEvents, options: RosterWatchOptions): Promise<RosterListener> {
  const random = options.random ?? Math.random;
  let open = true;
  let timer: NodeJS.Timeout | null = null;
  const lost = (why: string): void => {
    if (!open) return;
    open = false;
    if (timer) clearTimeout(timer);
    void closeSession(session);
    events.lost(why);
  };
  const look = async (): Promise<void> => {
    const { watermark, sites } = options.position();
    if (watermark === null || sites === null || sites.length === 0) return;
    if ((await readRosterHead(session, sites, options.shared)) >= BigInt(watermark)) events.notified();
  };
  const next = (): void => {
    if (!open) return;
    timer = setTimeout(() => {
      look().then(next, (e: unknown) => lost(e instanceof Error ? e.message : String(e)));
    }, options.intervalMs * (0.75 + 0.5 * random()));
    timer.unref();
  };
  session.on('error', (e) => lost(e.message));
  session.on('end', () => lost('connection ended'));
  try {
    await look();
  } catch (e) {
    open = false;
    await closeSession(session);
    throw e;
  }
  next();
  return {
    close: async () => {
      open = false;
      if (timer) clearTimeout(timer);
      await closeSession(session);
    },
  };
}
