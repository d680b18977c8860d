import sharp, { type Sharp } from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeImage } from '../../electron/face/decode-image.js';
import { nodeFaceEngine } from '../../electron/face/node-face-engine.js';
import type { AnalyzeOptions, AnalyzeResult, FaceEngine } from '../../shared/face/engine.js';
import { DEFAULT_QUALITY } from '../../shared/face/quality.js';
import { bbtPhoto, GROUP_DIR } from '../support/faces.js';

const ENROL: AnalyzeOptions = { detector: 'ssd', padding: 'auto', purpose: 'enrol' };

let engine: FaceEngine;
beforeAll(async () => {
  engine = await nodeFaceEngine();
});

/** A real photo, changed by `edit` (sharp), through the whole Node path: decode, engine, gates. */
async function analyzeEdited(path: string, edit: (s: Sharp) => Sharp, options = ENROL): Promise<AnalyzeResult> {
  const buffer = await edit(sharp(path)).png().toBuffer();
  return engine.analyze(await decodeImage(buffer), options);
}

function issuesOf(result: AnalyzeResult): string[] {
  return result.ok ? [] : result.issues;
}

describe('quality gates on real photos (../shared/faces)', () => {
  it('accepts the untouched photos the variants below are made from', async () => {
    for (const path of [bbtPhoto('amy', 2), bbtPhoto('sheldon', 1), bbtPhoto('leonard', 2), bbtPhoto('penny', 5)]) {
      const result = await analyzeEdited(path, (s) => s);
      expect(issuesOf(result), path).toEqual([]);
    }
  });

  it('too dark: the photo at a quarter of its brightness', async () => {
    for (const path of [bbtPhoto('amy', 2), bbtPhoto('sheldon', 1), bbtPhoto('penny', 5)]) {
      expect(issuesOf(await analyzeEdited(path, (s) => s.linear(0.25, 0))), path).toContain('TOO_DARK');
    }
  });

  it('too bright: the photo washed out', async () => {
    for (const path of [bbtPhoto('raj', 3), bbtPhoto('howard', 2)]) {
      expect(issuesOf(await analyzeEdited(path, (s) => s.linear(1, 150))), path).toContain('TOO_BRIGHT');
    }
  });

  it('face too small: the photo shrunk to 40 pixels wide (move closer)', async () => {
    for (const path of [bbtPhoto('amy', 2), bbtPhoto('leonard', 2)]) {
      const result = await analyzeEdited(path, (s) => s.resize(40));
      expect(result.face?.box.width ?? 0).toBeLessThan(DEFAULT_QUALITY.minFaceSize);
      expect(issuesOf(result), path).toContain('FACE_TOO_SMALL');
    }
  });

  it('blurred: a Gaussian blur of sigma 2', async () => {
    for (const path of [bbtPhoto('amy', 2), bbtPhoto('sheldon', 1), bbtPhoto('leonard', 2)]) {
      const result = await analyzeEdited(path, (s) => s.blur(2));
      expect(result.face, path).not.toBeNull();
      expect(issuesOf(result), path).toContain('BLURRED');
    }
  });

  it('head tilted: the photo rotated by 30 degrees', async () => {
    for (const path of [bbtPhoto('sheldon', 1), bbtPhoto('leonard', 2)]) {
      const result = await analyzeEdited(path, (s) => s.rotate(30, { background: '#808080' }));
      expect(Math.abs(result.face?.pose.roll ?? 0)).toBeGreaterThan(DEFAULT_QUALITY.maxRoll);
      expect(issuesOf(result), path).toContain('HEAD_TILTED');
    }
  });

  it('head turned: a three-quarter view, and its mirror image turns the other way', async () => {
    const turned = await analyzeEdited(bbtPhoto('stuart', 5), (s) => s);
    expect(issuesOf(turned)).toContain('HEAD_TURNED');
    const mirrored = await analyzeEdited(bbtPhoto('stuart', 5), (s) => s.flop());
    expect(Math.sign(mirrored.face?.pose.yaw ?? 0)).toBe(-Math.sign(turned.face?.pose.yaw ?? 0));
  });

  it('head pitched and low detection score, at stricter thresholds than the defaults', async () => {
    const strict = { ...ENROL, quality: { ...DEFAULT_QUALITY, maxPitch: 5, minScore: 0.95 } };
    const pitched = await analyzeEdited(bbtPhoto('leonard', 5), (s) => s, strict); // looks down/up by ~17°
    expect(issuesOf(pitched)).toContain('HEAD_PITCHED');
    const faint = await analyzeEdited(bbtPhoto('stuart', 4), (s) => s, strict); // detected at score ~0.67
    expect(issuesOf(faint)).toContain('LOW_SCORE');
  });

  it('no face: a photo of nothing', async () => {
    const result = await analyzeEdited(bbtPhoto('amy', 1), (s) => s.blur(60));
    expect(result).toMatchObject({ ok: false, issues: ['NO_FACE'], face: null, facesFound: 0 });
  });

  it('several faces: refused for enrolment, the largest taken by the kiosk', async () => {
    const group = await decodeImage(`${GROUP_DIR}/bbt1.jpg`);
    const enrol = await engine.analyze(group, ENROL);
    expect(enrol.facesFound).toBeGreaterThan(1);
    expect(issuesOf(enrol)[0]).toBe('MULTIPLE_FACES');
    const kiosk = await engine.analyze(group, { detector: 'ssd', padding: 0, purpose: 'kiosk' });
    expect(kiosk.face).not.toBeNull();
    expect(issuesOf(kiosk)).not.toContain('MULTIPLE_FACES');
    expect(kiosk.face?.box.width).toBe(enrol.face?.box.width); // the same, largest face
  });
});
