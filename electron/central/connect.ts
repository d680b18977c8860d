import pg from 'pg';
import { ClockfaceError } from '../../shared/errors.js';
import { createLogger } from '../../shared/logger.js';
import { redactUrl, type CentralTarget } from '../config/central-url.js';
import { TLS_ERROR_CODES, UNREACHABLE_ERROR_CODES } from './sql-errors.js';

const log = createLogger('central.connect');

function errorCode(e: unknown): string | undefined {
  if (typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string') return e.code;
  return undefined;
}

/**
 * Turns a low-level connection failure into one that names the URL tried and what to do. Returns the original
 * error when it is not a connection problem.
 */
export function explainConnectError(e: unknown, target: CentralTarget): unknown {
  const code = errorCode(e);
  const shown = redactUrl(target.url);
  if (code !== undefined && UNREACHABLE_ERROR_CODES.has(code)) {
    const hint = target.embeddedDefault
      ? 'Start the embedded central with `npx clockface central start` (or `npm start`), ' +
        'or set CLOCKFACE_DATABASE_URL to a PostgreSQL server with pgvector.'
      : 'Check that the server at that address is running and reachable (for a kiosk: the url, or the read ' +
        "replica's rosterUrl, in its kiosk.json); for the IT tool, unset CLOCKFACE_DATABASE_URL to use the embedded " +
        'central (`npx clockface central start`).';
    return new ClockfaceError('CENTRAL_UNREACHABLE', `cannot reach the central database at ${shown} (${code})`, {
      hint,
      cause: e,
    });
  }
  if (code !== undefined && TLS_ERROR_CODES.has(code)) {
    return new ClockfaceError('CENTRAL_TLS_FAILED', `the central database at ${shown} did not prove who it is (${code})`, {
      hint:
        'With sslmode=verify-full the host name in the URL must be in the server certificate, and the certificate must ' +
        'be signed by the CA in sslrootcert. Check both; never switch verification off to make this go away.',
      cause: e,
    });
  }
  const message = e instanceof Error ? e.message : '';
  if (message.includes('does not support SSL')) {
    return new ClockfaceError('CENTRAL_TLS_FAILED', `the central database at ${shown} does not offer TLS, and the URL requires it`, {
      hint: 'Turn ssl on in the server, or fix the URL (sslmode) if this server is not the one meant.',
      cause: e,
    });
  }
  if (code === '28000' && message.includes('no encryption')) {
    return new ClockfaceError('CENTRAL_AUTH_FAILED', `the central database at ${shown} accepts encrypted connections only`, {
      hint: 'Add sslmode=verify-full&sslrootcert=<the CA file> to the URL.',
      cause: e,
    });
  }
  // PgBouncer's word for a login its auth lookup does not return (unknown, disabled: a revoked kiosk behind the pooler).
  if (code === '28P01' || code === '28000' || message === 'no such user') {
    return new ClockfaceError('CENTRAL_AUTH_FAILED', `the central database at ${shown} refused the login`, {
      hint: 'Check the user name and password in the URL; a revoked kiosk can no longer log in.',
      cause: e,
    });
  }
  return e;
}

/**
 * How long a kiosk waits on central, per connection attempt and per query, before giving up on that connection.
 *
 * Why a client-side limit: a link can stall with nothing erroring (a NAT or firewall silently dropping packets, a
 * half-dead Wi-Fi): the socket stays open, no reset arrives, and TCP keepalive only probes an idle socket. Without
 * a limit here the uploader's query, or the roster sync's, waits forever, and with it every later upload and sync
 * of that kiosk (the follower never overlaps syncs). A server-side statement_timeout cannot help: its error would
 * travel back over the same stalled link. The query limit is generous because a snapshot page of 5,000 templates
 * (about 2.5 MB) must get through a slow link; a punch never waits on it (the kiosk punches locally).
 */
export const KIOSK_CONNECT_TIMEOUT_MS = 10_000;
export const KIOSK_QUERY_TIMEOUT_MS = 60_000;

/**
 * A kiosk whose link stalls in the middle of a roster sync leaves its read transaction open on central until TCP
 * gives up (hours). The change feed hands out only transactions older than the oldest open one, so that one kiosk
 * would hold every kiosk's sync back. Central ends such a transaction after this long idle (a sync's reads follow one
 * another without pauses; the kiosk's own work happens after it has committed): twice the query limit, 2 min.
 */
export const KIOSK_IDLE_IN_TRANSACTION_FACTOR = 2;

/** Options of {@link connectCentral}. */
export interface ConnectOptions {
  applicationName?: string;
  /** Connection attempt (TCP, TLS and login), client side. Default 10 s. */
  timeoutMs?: number;
  /** Server-side statement_timeout: stops runaway statements on central (it cannot detect a stalled link). */
  statementTimeoutMs?: number;
  /**
   * Client-side limit on each query's answer, and on closing the connection: past it the query fails with
   * "Query read timeout" and the socket is destroyed, so a stalled link ends in an error instead of a hang.
   * Also turns TCP keepalive on, so that a peer that vanished is noticed on an idle connection. Off when absent.
   */
  queryTimeoutMs?: number;
  /**
   * Through a pooler in transaction mode (PgBouncer): no startup `options` (PgBouncer refuses the parameter). The
   * session settings and a kiosk's server-side limits then come from the pooler, which runs
   * public.clockface_pooled_session() on each server session (migration 0160, resources/pgbouncer/pgbouncer.ini).
   */
  pooled?: boolean;
}

/**
 * Session settings Clockface relies on, sent with every login (the startup packet overrides role defaults). Behind a
 * transaction pooler the pooler applies the same list through clockface_pooled_session() (migration 0160): change both.
 *
 * Why: every login may `ALTER ROLE current_user SET …` its own defaults, and PostgreSQL cannot forbid it. Someone
 * holding a kiosk's password could make the real kiosk's next sessions read-only, move its search_path, cut the
 * precision of the floats it reads (templates), turn off synchronous commit (a punch confirmed by central but lost
 * in a crash), or change the date format its driver parses. Setting them here makes every session start as Clockface
 * expects whatever the role says; `kiosk revoke` and `kiosk rekey` also reset the role's defaults.
 */
export const SESSION_SETTINGS: ReadonlyArray<[string, string]> = [
  ['search_path', 'public'],
  ['default_transaction_read_only', 'off'],
  ['default_transaction_isolation', 'read committed'],
  ['synchronous_commit', 'on'],
  ['row_security', 'on'],
  ['DateStyle', 'ISO, MDY'],
  ['IntervalStyle', 'postgres'],
  ['extra_float_digits', '1'],
  ['bytea_output', 'hex'],
];

/** A kiosk connection waits at most this long for a lock on central (its role default, set again at connect). */
const KIOSK_LOCK_TIMEOUT_MS = 30_000;

/** `-c name=value` options for the startup packet (spaces and backslashes escaped as libpq expects). */
function startupOptions(settings: ReadonlyArray<[string, string | number]>): string {
  return settings.map(([name, value]) => `-c ${name}=${String(value).replace(/([\\ ])/g, '\\$1')}`).join(' ');
}

/** Opens one client connection to central, with errors that say which URL failed and why. */
export async function connectCentral(target: CentralTarget, options?: ConnectOptions): Promise<pg.Client> {
  const queryTimeoutMs = options?.queryTimeoutMs;
  // A kiosk connection (it has client-side limits) also fixes the server-side ones its role could have switched off.
  const kioskLimits: Array<[string, number]> = queryTimeoutMs
    ? [
        ['statement_timeout', options?.statementTimeoutMs ?? queryTimeoutMs],
        ['lock_timeout', Math.min(KIOSK_LOCK_TIMEOUT_MS, queryTimeoutMs)],
        ['idle_in_transaction_session_timeout', KIOSK_IDLE_IN_TRANSACTION_FACTOR * queryTimeoutMs],
      ]
    : options?.statementTimeoutMs
      ? [['statement_timeout', options.statementTimeoutMs]]
      : [];
  const config: pg.ClientConfig = {
    connectionString: target.url,
    application_name: options?.applicationName ?? 'clockface',
    connectionTimeoutMillis: options?.timeoutMs ?? 10_000,
    ...(options?.pooled ? {} : { options: startupOptions([...SESSION_SETTINGS, ...kioskLimits]) }),
    ...(queryTimeoutMs ? { query_timeout: queryTimeoutMs, keepAlive: true, keepAliveInitialDelayMillis: 10_000 } : {}),
  };
  const client = queryTimeoutMs ? new BoundedClient(config, queryTimeoutMs) : new pg.Client(config);
  // An idle connection the server drops (restart, revoked kiosk) emits 'error'; unheard, it would kill the
  // process. The next query on the client fails and its caller decides what to do.
  client.on('error', (e) => log.warn('central connection lost', { error: e.message, url: redactUrl(target.url) }));
  try {
    await client.connect();
  } catch (e) {
    await client.end().catch(() => undefined);
    throw explainConnectError(e, target);
  }
  return client;
}

/**
 * A client whose end() cannot hang. pg's end() sends Terminate and waits for the server to close the socket; on a
 * stalled link that close never comes (and the FIN is never answered), so callers that end a connection in a
 * `finally` would wait forever. After `endTimeoutMs` the socket is destroyed, which pg reports as ended.
 */
class BoundedClient extends pg.Client {
  constructor(
    config: pg.ClientConfig,
    private readonly endTimeoutMs: number,
  ) {
    super(config);
  }

  override end(): Promise<void>;
  override end(callback: (err: Error) => void): void;
  override end(callback?: (err: Error) => void): Promise<void> | void {
    const timer = setTimeout(() => this.connection.stream.destroy(), this.endTimeoutMs);
    timer.unref();
    const ended = super.end().finally(() => clearTimeout(timer));
    if (!callback) return ended;
    ended.then(
      () => undefined,
      (e: unknown) => callback(e instanceof Error ? e : new Error(String(e))),
    );
  }
}
