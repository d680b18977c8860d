import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * `npm run bench` on a machine without a system part a suite needs (here Chromium, pointed at a path that is not
 * there): the suite says in one line what is missing and how to install it, the run goes on, nothing it did not
 * measure replaces earlier figures, and the run exits non-zero so that nobody takes it for a whole one.
 */
describe('npm run bench without Chromium', () => {
  it('names the missing part and how to get it, keeps going, and exits 1', () => {
    const dir = mkdtempSync(join(tmpdir(), 'clockface-bench-parts-'));
    try {
      const results = join(dir, 'results.json');
      const run = spawnSync(process.execPath, ['node_modules/tsx/dist/cli.mjs', 'bench/run.ts', 'kiosk-e2e', '--results', results], {
        encoding: 'utf8',
        env: { ...process.env, CLOCKFACE_CHROMIUM: join(dir, 'no-chromium-here') },
        timeout: 120_000,
      });
      expect(run.status, run.stderr).toBe(1);
      expect(run.stderr).toContain(`[kiosk-e2e] the kiosk screen not measured: Chromium (${join(dir, 'no-chromium-here')}) is missing`);
      expect(run.stderr).toMatch(/not measured \(kiosk-e2e\): Chromium .* is missing; CLOCKFACE_CHROMIUM=.* is not a file/);
      expect(run.stdout).toContain('(all 1 suites took');
      // Short, readable output: no minified dump.
      expect(run.stderr.length).toBeLessThan(2_000);
      const saved = JSON.parse(readFileSync(results, 'utf8')) as { runs: Record<string, unknown>; results: unknown[] };
      expect(saved.runs).toEqual({});
      expect(saved.results).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
