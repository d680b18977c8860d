import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { createLogger } from '../../shared/logger.js';

const log = createLogger('console.sessions');

/** What a signed-in person may be: IT (a member of the admin group) or a supervisor of some sites. */
export type ConsoleRole = 'admin' | 'supervisor';

export interface ConsoleSession {
  readonly id: string;
  readonly login: string;
  readonly role: ConsoleRole;
  /**
   * The person's own connection to central, made with the password they typed (which is not kept anywhere else):
   * every page and every change runs on it, so central's row-level security decides what they see and do.
   */
  readonly client: pg.Client;
  lastSeen: number;
  /** A one-line message for the next page shown (after a change, the page it redirects to). */
  flash: { kind: 'ok' | 'error'; text: string } | null;
  /** Whether the session's connection LISTENs for new punches (the Now page's push, on a server). */
  listening: boolean;
  /** Runs `work` after the session's earlier requests: one connection carries one conversation at a time. */
  serial<T>(work: (client: pg.Client) => Promise<T>): Promise<T>;
}

export interface SessionStoreOptions {
  /** A session unused this long is ended (its connection closed). */
  idleMs: number;
  now?: () => number;
}

/**
 * Signed-in sessions, in memory. Not a session plugin's store: a session here owns a live connection, which no
 * store can serialise, and a restart of the console must sign everyone out anyway (the passwords are gone with it).
 */
export class SessionStore {
  private readonly sessions = new Map<string, ConsoleSession>();
  private readonly sweeper: NodeJS.Timeout;
  private readonly now: () => number;

  constructor(private readonly options: SessionStoreOptions) {
    this.now = options.now ?? Date.now;
    this.sweeper = setInterval(() => void this.sweep(), Math.min(60_000, Math.max(1_000, options.idleMs / 4)));
    this.sweeper.unref();
  }

  create(login: string, role: ConsoleRole, client: pg.Client): ConsoleSession {
    const id = randomBytes(32).toString('base64url');
    let tail: Promise<unknown> = Promise.resolve();
    const session: ConsoleSession = {
      id,
      login,
      role,
      client,
      lastSeen: this.now(),
      flash: null,
      listening: false,
      serial<T>(work: (c: pg.Client) => Promise<T>): Promise<T> {
        const run = tail.then(
          () => work(client),
          () => work(client),
        );
        tail = run.catch(() => undefined);
        return run;
      },
    };
    // A connection central drops (restart, the login revoked) must not take the console down; the next request
    // on it fails and signs the person out.
    client.on('error', (e) => {
      log.warn('a console session lost its central connection', { error: e.message });
      void this.end(id);
    });
    this.sessions.set(id, session);
    return session;
  }

  /** The live session with this id, touched; null when there is none or it has been idle too long (then ended). */
  async get(id: string | undefined): Promise<ConsoleSession | null> {
    if (id === undefined) return null;
    const session = this.sessions.get(id);
    if (!session) return null;
    if (this.now() - session.lastSeen > this.options.idleMs) {
      await this.end(id);
      return null;
    }
    session.lastSeen = this.now();
    return session;
  }

  async end(id: string): Promise<void> {
    const session = this.sessions.get(id);
    if (!session) return;
    this.sessions.delete(id);
    await session.client.end().catch(() => undefined);
  }

  get size(): number {
    return this.sessions.size;
  }

  private async sweep(): Promise<void> {
    const cutoff = this.now() - this.options.idleMs;
    for (const [id, s] of [...this.sessions]) if (s.lastSeen < cutoff) await this.end(id);
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    for (const id of [...this.sessions.keys()]) await this.end(id);
  }
}
