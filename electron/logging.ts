import { pino } from 'pino';
import { setLogSink, type LogLevel } from '../shared/logger.js';

const LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

function levelFromEnv(): LogLevel {
  const wanted = process.env['CLOCKFACE_LOG_LEVEL'];
  return LEVELS.find((l) => l === wanted) ?? 'warn';
}

/**
 * Structured JSON logs on stderr via pino (stdout stays for command output). Fields are already redacted by
 * shared/logger.ts before they arrive here.
 */
export function installNodeLogSink(): void {
  const logger = pino({ level: levelFromEnv(), base: { pid: process.pid } }, pino.destination(2));
  setLogSink(({ level, scope, message, fields }) => {
    logger[level]({ scope, ...fields }, message);
  });
}
