import pg from 'pg';
import { ClockfaceError } from '../../shared/errors.js';
import { createLogger } from '../../shared/logger.js';
import { redactUrl, type CentralTarget } from '../config/central-url.js';

const log = createLogger('central.connect');

const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', 'EHOSTUNREACH', 'ECONNRESET', 'EAI_AGAIN']);
const AUTH_SQLSTATES = new Set(['28P01', '28000']);

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
  if (code !== undefined && UNREACHABLE_CODES.has(code)) {
    const hint = target.embeddedDefault
      ? 'Start the embedded central with `npx clockface central start` (or `npm start`), ' +
        'or set CLOCKFACE_DATABASE_URL to a PostgreSQL server with pgvector.'
      : 'Check that the server is running and reachable, or unset CLOCKFACE_DATABASE_URL to use the embedded ' +
        'central (`npx clockface central start`).';
    return new ClockfaceError('CENTRAL_UNREACHABLE', `cannot reach the central database at ${shown} (${code})`, {
      hint,
      cause: e,
    });
  }
  if (code !== undefined && AUTH_SQLSTATES.has(code)) {
    return new ClockfaceError('CENTRAL_AUTH_FAILED', `the central database at ${shown} refused the login`, {
      hint: 'Check the user name and password in the URL; a revoked kiosk can no longer log in.',
      cause: e,
    });
  }
  return e;
}

/** Opens one client connection to central, with errors that say which URL failed and why. */
export async function connectCentral(
  target: CentralTarget,
  options?: { applicationName?: string; timeoutMs?: number; statementTimeoutMs?: number },
): Promise<pg.Client> {
  const client = new pg.Client({
    connectionString: target.url,
    application_name: options?.applicationName ?? 'clockface',
    connectionTimeoutMillis: options?.timeoutMs ?? 10_000,
    ...(options?.statementTimeoutMs ? { statement_timeout: options.statementTimeoutMs } : {}),
  });
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
