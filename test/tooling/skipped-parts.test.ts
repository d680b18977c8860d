import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * A test that needs a system part shows as SKIPPED, named with what is missing and how to get it, where the part is
 * not there (and CI does not require it): not as a placeholder that passes, and not as a file with no test at all.
 */
function runWithout(file: string, config: string, env: Record<string, string | undefined>): Array<{ title: string; status: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'clockface-skipped-'));
  try {
    const out = join(dir, 'report.json');
    const merged: Record<string, string | undefined> = { ...process.env, CLOCKFACE_REQUIRE_SYSTEM_PARTS: undefined, ...env };
    const childEnv = Object.fromEntries(Object.entries(merged).filter(([, v]) => v !== undefined));
    const run = spawnSync(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', '--config', config, file, '--reporter=json', `--outputFile=${out}`], {
      encoding: 'utf8',
      env: childEnv,
      timeout: 240_000,
    });
    expect(run.status, run.stderr.slice(-2000)).toBe(0);
    const report = JSON.parse(readFileSync(out, 'utf8')) as { testResults: Array<{ assertionResults: Array<{ title: string; status: string }> }> };
    return report.testResults.flatMap((t) => t.assertionResults.map(({ title, status }) => ({ title, status })));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('tests that need a system part, where it is missing', () => {
  it('without Chromium the kiosk screen test shows as skipped, saying what is missing and how to get it', () => {
    const results = runWithout('test/e2e/kiosk-browser.test.ts', 'vitest.config.ts', { CLOCKFACE_CHROMIUM: '/nonexistent/chromium' });
    expect(results).toEqual([
      { title: expect.stringMatching(/the kiosk screen end to end in Chromium: not tested here, missing Chromium \(\/nonexistent\/chromium\) \(CLOCKFACE_CHROMIUM=.* is not a file/), status: 'skipped' },
    ]);
  });

  it('without a PostgreSQL server a server-only fault file shows a skipped test, not "No test suite found"', () => {
    const results = runWithout('test/faults/central-abuse.test.ts', 'vitest.faults.config.ts', { CLOCKFACE_TEST_DATABASE_URL: undefined });
    expect(results).toEqual([
      { title: expect.stringMatching(/: not tested here, missing real PostgreSQL \+ pgvector .*install-postgres\.sh/), status: 'skipped' },
    ]);
  });
});
