import type pg from 'pg';

/**
 * A connection to central, as the gateway's statements take it. Code outside this folder may hold one (open it,
 * hand it back, end it) but never runs SQL on it: every statement a kiosk runs on central is in this folder.
 */
export type CentralSession = pg.ClientBase;

/** A session its opener must end (`end()`); what the gateway's connect methods return. */
export type OpenCentralSession = pg.Client;

/** Ends a session without waiting on a stalled link to say goodbye, and without throwing. */
export function closeSession(session: OpenCentralSession | null | undefined): Promise<void> {
  return session ? session.end().catch(() => undefined) : Promise.resolve();
}
