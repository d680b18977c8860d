/**
 * One logging interface for every room. Records are structured; the sink is chosen by the runtime (pino in Node,
 * the console in the renderer).
 *
 * Privacy: descriptors, names, PINs and photos never belong in a log record. The fields type only admits scalar
 * values, and keys that name personal or biometric data are replaced before they reach a sink.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Readonly<Record<string, string | number | boolean | null | undefined>>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

export type LogSink = (record: { level: LogLevel; scope: string; message: string; fields: LogFields }) => void;

const REDACTED_KEYS = /descriptor|embedding|vector|full_?name|name_?full|pin|photo|snapshot|image|password|secret/i;

/** Replaces the values of keys that could carry personal or biometric data. */
export function redactFields(fields: LogFields): LogFields {
  const out: Record<string, string | number | boolean | null | undefined> = {};
  for (const [key, value] of Object.entries(fields)) {
    out[key] = REDACTED_KEYS.test(key) ? '[redacted]' : value;
  }
  return out;
}

let sink: LogSink = ({ level, scope, message, fields }) => {
  const line = `[${scope}] ${message}`;
  if (level === 'error') console.error(line, fields);
  else if (level === 'warn') console.warn(line, fields);
};

/** Installs the runtime's sink (call once at start-up). */
export function setLogSink(next: LogSink): void {
  sink = next;
}

export function createLogger(scope: string): Logger {
  const emit = (level: LogLevel) => (message: string, fields: LogFields = {}) =>
    sink({ level, scope, message, fields: redactFields(fields) });
  return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') };
}
