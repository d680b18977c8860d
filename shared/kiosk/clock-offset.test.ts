import { describe, expect, it } from 'vitest';
import { describeClockOffset } from './clock-offset.js';

describe('describeClockOffset', () => {
  it('says "in step" within a round trip, and the direction otherwise', () => {
    expect(describeClockOffset(0)).toBe('in step');
    expect(describeClockOffset(-1_999)).toBe('in step');
    expect(describeClockOffset(2_000)).toBe('2 s ahead');
    expect(describeClockOffset(-5_400)).toBe('5 s behind');
  });

  it('names the two largest units, skipping zeros', () => {
    expect(describeClockOffset(90 * 60_000)).toBe('1 h 30 min ahead');
    expect(describeClockOffset(-3_600_000)).toBe('1 h behind');
    expect(describeClockOffset(-(86_400_000 + 3 * 3_600_000 + 17_000))).toBe('1 d 3 h behind');
    expect(describeClockOffset(7 * 86_400_000 + 59_000)).toBe('7 d ahead');
    expect(describeClockOffset(61_000)).toBe('1 min 1 s ahead');
  });

  it('says "unknown" for a value that is not a number', () => {
    expect(describeClockOffset(Number.NaN)).toBe('unknown');
  });
});
