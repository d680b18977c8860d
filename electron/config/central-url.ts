/**
 * Which central database to talk to. CLOCKFACE_DATABASE_URL (a real PostgreSQL) wins; otherwise the embedded
 * central on its default port. The embedded central ignores the user name and password (see README), so the
 * default URL carries none.
 */
export const DEFAULT_EMBEDDED_PORT = 5488;
export const DEFAULT_EMBEDDED_HOST = '127.0.0.1';

/** The embedded central's port: CLOCKFACE_CENTRAL_PORT when set (a second instance, a busy 5488), else 5488. */
export function embeddedPort(env: NodeJS.ProcessEnv = process.env): number {
  const wanted = Number(env['CLOCKFACE_CENTRAL_PORT']);
  return Number.isInteger(wanted) && wanted > 0 && wanted < 65536 ? wanted : DEFAULT_EMBEDDED_PORT;
}

export function embeddedCentralUrl(port: number = embeddedPort(), host: string = DEFAULT_EMBEDDED_HOST): string {
  return `postgres://postgres@${host}:${port}/postgres`;
}

export interface CentralTarget {
  url: string;
  /** True when the URL is the embedded default, so error messages can say how to start it. */
  embeddedDefault: boolean;
}

export function resolveCentralUrl(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): CentralTarget {
  if (explicit) return { url: explicit, embeddedDefault: false };
  const fromEnv = env['CLOCKFACE_DATABASE_URL'];
  if (fromEnv) return { url: fromEnv, embeddedDefault: false };
  return { url: embeddedCentralUrl(), embeddedDefault: true };
}

/** The URL with its password removed, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable database URL)';
  }
}
