import { performance } from 'node:perf_hooks';

/** Waits `ms` of real time. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls `check` every `intervalMs` until it holds; throws "timed out waiting for <what>" after `timeoutMs`. Returns
 * how long it waited (ms), for the figures some tests report. Tests assert behaviour, never this number.
 */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000, intervalMs = 20): Promise<number> {
  const started = performance.now();
  while (!(await check())) {
    if (performance.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what} (${Math.round(timeoutMs / 1000)} s)`);
    await sleep(intervalMs);
  }
  return performance.now() - started;
}
