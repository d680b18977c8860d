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

/**
 * One primary session shared by the steps of a sync-and-upload cycle (roster read, punches, heartbeat, snapshots),
 * opened by the first step that needs it: one connection and one authentication per cycle instead of one per step.
 * A fleet pays that per kiosk every poll, on central or on PgBouncer, which authenticates every client on its one
 * thread (issue 19's fleet benchmark). A step that fails discards the session (the link may be gone, or a transaction
 * left aborted) and the next step opens a new one. Steps run one after another; the owner closes it at the end.
 */
export class CycleSession {
  private session: OpenCentralSession | null = null;

  constructor(private readonly connect: () => Promise<OpenCentralSession>) {}

  async use<T>(step: (session: CentralSession) => Promise<T>): Promise<T> {
    const session = (this.session ??= await this.connect());
    try {
      return await step(session);
    } catch (e) {
      if (this.session === session) this.session = null;
      await closeSession(session);
      throw e;
    }
  }

  close(): Promise<void> {
    const session = this.session;
    this.session = null;
    return closeSession(session);
  }
}

/**
 * Runs `work` on `source` when it is a cycle's session (its owner closes it), or else on a cycle session of its own,
 * opened with `source` and closed when `work` ends: every step can join a cycle or stand alone the same way.
 */
export async function withCycle<T>(
  source: CycleSession | (() => Promise<OpenCentralSession>),
  work: (cycle: CycleSession) => Promise<T>,
): Promise<T> {
  if (source instanceof CycleSession) return work(source);
  const own = new CycleSession(source);
  try {
    return await work(own);
  } finally {
    await own.close();
  }
}
