import { performance } from 'node:perf_hooks';

/** Waits `ms` of real time. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls `check` every `intervalMs` until it holds; throws "timed out waiting for <what>" after `timeoutMs`. Returns
 * how long it waited (ms), for the figures some tests report. Tests assert behaviour, never this number.
 */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000, intervalMs = 20): Promise<number> {
  const started = performance.now();
  if (!(await holdsWithin(check, timeoutMs, intervalMs))) throw new Error(`timed out waiting for ${what} (${Math.round(timeoutMs / 1000)} s)`);
  return performance.now() - started;
}

/**
 * Polls `check` every `intervalMs` until it holds (true) or `timeoutMs` has passed (false): for a caller that measures
 * on when something did not happen in time (the fleet bench records what was still waiting) instead of failing.
 */
export async function holdsWithin(check: () => boolean | Promise<boolean>, timeoutMs: number, intervalMs: number): Promise<boolean> {
  const started = performance.now();
  while (!(await check())) {
    if (performance.now() - started > timeoutMs) return false;
    await sleep(intervalMs);
  }
  return true;
}
