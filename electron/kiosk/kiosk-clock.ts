import { performance } from 'node:perf_hooks';

/**
 * The kiosk's two clocks, always handed around together: a kiosk (or a test) that moves one and forgets the other
 * gets a debounce that disagrees with its punch times.
 */
export interface KioskClock {
  /** The wall clock: punch times, PIN locks, retry dates. It may jump (NTP, a flat RTC battery, someone setting it). */
  now(): Date;
  /**
   * Milliseconds on a clock that never jumps: elapsed time (debounce and direction of repeat punches made here, the
   * fallback's pauses, admin sessions), never dates.
   */
  monotonicNow(): number;
}

export const systemClock: KioskClock = {
  now: () => new Date(),
  monotonicNow: () => performance.now(),
};
