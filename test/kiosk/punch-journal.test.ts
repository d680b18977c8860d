import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PunchJournal } from '../../electron/kiosk/store/punch-journal.js';
import { TestClock } from '../support/test-clock.js';

describe('the punch journal', () => {
  const dir = mkdtempSync(join(tmpdir(), 'clockface-journal-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes to the month of its clock, and an old month is pruned only once none of its punches is still waiting', () => {
    // A kiosk whose clock was set back a year: its lines go to that year's file.
    const clock = new TestClock('2025-11-20T08:00:00Z');
    const journal = new PunchJournal(join(dir, 'j'), clock);
    const punch = { id: '7f0c3c2e-0f5b-4a4e-9d3e-3b1f2f6b8d11', employeeId: 1, direction: 'in' as const, method: 'pin' as const, matchDistance: null, liveness: 'not_checked' as const, at: clock.now() };
    journal.append(punch);
    expect(readdirSync(join(dir, 'j'))).toEqual(['punches-2025-11.jsonl']);
    // The clock is corrected: that month is now past the kept window, but its punch has not reached central yet.
    const corrected = new Date('2026-12-06T08:00:00Z');
    journal.prune(corrected, (id) => id === punch.id);
    expect(journal.readAll().map((e) => e.id)).toEqual([punch.id]);
    // Uploaded since: the old month goes.
    journal.prune(corrected, () => false);
    expect(readdirSync(join(dir, 'j'))).toEqual([]);
  });
});
