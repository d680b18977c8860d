import { closeSession, type OpenCentralSession } from './session.js';

/** The channel central notifies on every committing statement that touches the roster (resources/sql/central/0090). */
export const ROSTER_CHANNEL = 'clockface_roster';

/** A session listening for roster notifications; closing it ends the session. */
export interface RosterListener {
  close(): Promise<void>;
}

export interface RosterListenerEvents {
  /** Something committed on central's roster. */
  notified: () => void;
  /** The session ended or failed: notifications are lost until a new listener is opened. Called at most once. */
  lost: (why: string) => void;
}

/**
 * LISTEN on `session` (the primary: NOTIFY is not replicated to read replicas) and report notifications and the
 * session's end. The session then belongs to the listener.
 */
export async function listenForRoster(session: OpenCentralSession, events: RosterListenerEvents): Promise<RosterListener> {
  let open = true;
  const lost = (why: string): void => {
    if (!open) return;
    open = false;
    void closeSession(session);
    events.lost(why);
  };
  session.on('notification', (n) => {
    if (n.channel === ROSTER_CHANNEL) events.notified();
  });
  session.on('error', (e) => lost(e.message));
  session.on('end', () => lost('connection ended'));
  try {
    await session.query(`LISTEN ${ROSTER_CHANNEL}`);
  } catch (e) {
    open = false;
    await closeSession(session);
    throw e;
  }
  return {
    close: async () => {
      open = false;
      await closeSession(session);
    },
  };
}
