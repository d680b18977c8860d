import { isClockfaceError } from '../../shared/errors.js';
import { explainSqlError, sqlState } from '../central/sql-errors.js';
import { printError } from './output.js';

/**
 * How a failed `clockface` command tells a person what went wrong: one line with what failed, its error code, and what
 * to do. Never a stack trace: that is for whoever debugs Clockface, and appears only with CLOCKFACE_LOG_LEVEL=debug.
 *
 *   error: no site "mars" [SITE_NOT_FOUND]
 *   error: the central database at postgres://it:***@db/clockface refused the login [CENTRAL_AUTH_FAILED]. Check the …
 */
export function failureLine(e: unknown): string {
  const explained = explainSqlError(e);
  if (isClockfaceError(explained)) {
    return `error: ${explained.message} [${explained.code}]${explained.hint ? `. ${explained.hint}` : ''}`;
  }
  // Not a failure Clockface knows how to explain: say so, without pretending it is the user's doing.
  const state = sqlState(e);
  const message = e instanceof Error ? e.message : String(e);
  return (
    `error: ${message} [INTERNAL${state ? ` SQLSTATE ${state}` : ''}]. ` +
    'This was not expected; run the command again with CLOCKFACE_LOG_LEVEL=debug and send what it prints to your Clockface support.'
  );
}

/** Prints the failure (and, at CLOCKFACE_LOG_LEVEL=debug, its stack and causes) on standard error. */
export function reportFailure(e: unknown): void {
  printError(failureLine(e));
  if (process.env['CLOCKFACE_LOG_LEVEL'] !== 'debug') return;
  for (let cause: unknown = e, depth = 0; cause instanceof Error && depth < 5; cause = cause.cause, depth++) {
    printError(cause.stack ?? `${cause.name}: ${cause.message}`);
  }
}
