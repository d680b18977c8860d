import { performance } from 'node:perf_hooks';
import type { KioskClock } from '../../electron/kiosk/kiosk-clock.js';

/**
 * A kiosk clock that moves only when the test moves it. `elapse(ms)` is time passing: the wall clock and the monotonic
 * clock move together (the kiosk's debounce and admin sessions run on the latter). `jump(ms)` is someone setting the
 * wall clock: only it moves. One object for both, so a test cannot move one and forget the other.
 */
export class TestClock implements KioskClock {
  private wallMs: number;
  private monotonicMs = 0;

  constructor(start: string | Date) {
    this.wallMs = new Date(start).getTime();
  }

  readonly now = (): Date => new Date(this.wallMs);
  readonly monotonicNow = (): number => this.monotonicMs;

  elapse(ms: number): void {
    this.wallMs += ms;
    this.monotonicMs += ms;
  }

  jump(ms: number): void {
    this.wallMs += ms;
  }
}

/** The machine's clocks with the wall clock `offsetMs` ahead (behind when negative): a kiosk whose clock is wrong. */
export function offsetClock(offsetMs: number): KioskClock {
  return { now: () => new Date(Date.now() + offsetMs), monotonicNow: () => performance.now() };
}

/**
 * The Monday `weeksAgo` weeks before this week's, at `time` (UTC, "HH:MM"), as ISO 8601: a start for a test's kiosk clock.
 * Relative to today on purpose: central refuses punches timed more than 3 years before it receives them (migration
 * 0080), so a fixed date in a test would start failing as the calendar moves on.
 */
export function mondayWeeksAgo(weeksAgo: number, time: string): string {
  const now = new Date();
  const monday = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - ((now.getUTCDay() + 6) % 7) - 7 * weeksAgo));
  return `${monday.toISOString().slice(0, 10)}T${time}:00.000Z`;
}
