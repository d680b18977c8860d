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
