/**
 * `argv` run by /bin/sh after `ulimit -n limit` (soft and hard limit; exec keeps the process id): hundreds of kiosks in
 * one process, or a pooler in front of a thousand of them, need more open files than the default 1,024.
 */
export function withFileLimit(limit: number, argv: readonly string[]): string[] {
  return ['/bin/sh', '-c', `ulimit -n ${limit} && exec "$0" "$@"`, ...argv];
}
