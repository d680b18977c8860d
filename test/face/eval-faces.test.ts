import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { FaceEvaluation } from '../../electron/face/eval-faces.js';
import { BBT_DIR, bbtPhoto } from '../support/faces.js';
import { runCli } from '../support/run-cli.js';

describe('clockface eval-faces', () => {
  const dir = mkdtempSync(join(tmpdir(), 'clockface-eval-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('on ../shared/faces/bbt: at least 39/40 detected and rank-1 of 1.0', async () => {
    const result = await runCli(['eval-faces', BBT_DIR, '--json'], {}, 240_000);
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as FaceEvaluation;
    expect(report.images).toBe(40);
    expect(report.detected).toBeGreaterThanOrEqual(39);
    expect(report.identification?.rank1).toBe(1);
    expect(report.verification.genuine.n).toBe(80); // 8 people × C(5,2)
    expect(report.verification.impostor.n).toBe(700);
    // The default threshold (0.55) sits below every impostor pair of this set.
    expect(report.verification.atThreshold.far).toBe(0);
    expect(report.verification.operatingPoints.map((p) => p.targetFar)).toEqual([0.01, 0.001]);
  });

  it('--pairs FILE.csv: genuine and impostor pairs, paths relative to the CSV, header allowed', async () => {
    const rel = (p: string) => relative(dir, p);
    const csv = [
      'file_x,file_y,same',
      `${rel(bbtPhoto('amy', 1))},${rel(bbtPhoto('amy', 2))},Yes`,
      `${rel(bbtPhoto('raj', 1))},${rel(bbtPhoto('raj', 4))},Yes`,
      `${rel(bbtPhoto('amy', 1))},${rel(bbtPhoto('penny', 1))},No`,
      `${rel(bbtPhoto('sheldon', 2))},${rel(bbtPhoto('leonard', 2))},No`,
    ].join('\r\n');
    writeFileSync(join(dir, 'pairs.csv'), `\uFEFF${csv}\r\n`);
    const result = await runCli(['eval-faces', '--pairs', join(dir, 'pairs.csv'), '--json'], {}, 120_000);
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as FaceEvaluation;
    expect(report.mode).toBe('pairs');
    expect(report.images).toBe(7);
    expect(report.verification.genuine.n).toBe(2);
    expect(report.verification.impostor.n).toBe(2);
    expect(report.verification.genuine.max).toBeLessThan(report.verification.impostor.min);
    expect(report.identification).toBeNull();
  });

  it('a malformed pairs file and a folder without people are clear errors (exit 1); no input is a usage error', async () => {
    writeFileSync(join(dir, 'bad.csv'), 'a.png,b.png,Maybe\n');
    const bad = await runCli(['eval-faces', '--pairs', join(dir, 'bad.csv')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('line 1: expected file_x,file_y,Yes|No');
    const empty = await runCli(['eval-faces', dir]);
    expect(empty.code).toBe(1);
    expect(empty.stderr).toContain('no images in');
    const neither = await runCli(['eval-faces']);
    expect(neither.code).toBe(2);
  });
});
