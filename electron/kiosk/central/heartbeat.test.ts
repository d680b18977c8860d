import { describe, expect, it } from 'vitest';
import { CLOCK_REPORT_REFRESH_MS, CLOCK_REPORT_STEP_MS, ClockOffsetReports } from './heartbeat.js';

describe('ClockOffsetReports', () => {
  it('tells the first offset, then only one that moved by a step, and at least once per refresh period', () => {
    const r = new ClockOffsetReports();
    expect(r.due('a', 40, 0)).toBe(true);
    r.reported('a', 40, 0);
    expect(r.due('a', 40 + CLOCK_REPORT_STEP_MS - 1, 1_000)).toBe(false);
    expect(r.due('a', 40 - CLOCK_REPORT_STEP_MS + 1, 1_000)).toBe(false);
    expect(r.due('a', 40 + CLOCK_REPORT_STEP_MS, 1_000)).toBe(true);
    expect(r.due('a', 40 - CLOCK_REPORT_STEP_MS, 1_000)).toBe(true);
    expect(r.due('a', 40, CLOCK_REPORT_REFRESH_MS - 1)).toBe(false);
    expect(r.due('a', 40, CLOCK_REPORT_REFRESH_MS)).toBe(true);
  });

  it('tells another central afresh, and keeps asking until a report succeeds', () => {
    const r = new ClockOffsetReports();
    expect(r.due('a', 0, 0)).toBe(true);
    // No reported(): the report failed, so the next heartbeat tries again.
    expect(r.due('a', 0, 30_000)).toBe(true);
    r.reported('a', 0, 30_000);
    expect(r.due('b', 0, 30_000)).toBe(true);
  });
});
