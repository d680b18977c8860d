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

  it('several faces: refused for enrolment; the kiosk refuses a group of equals', async () => {
    const group = await decodeImage(`${GROUP_DIR}/bbt1.jpg`);
    const enrol = await engine.analyze(group, ENROL);
    expect(enrol.facesFound).toBeGreaterThan(1);
    expect(issuesOf(enrol)[0]).toBe('MULTIPLE_FACES');
    for (const n of [1, 2, 3, 4, 5]) {
      // as a kiosk camera sees them: 640×480
      const frame = await sharp(`${GROUP_DIR}/bbt${n}.jpg`).resize(640, 480, { fit: 'cover' }).png().toBuffer();
      const kiosk = await engine.analyze(await decodeImage(frame), KIOSK);
      expect(kiosk.facesFound, `bbt${n}.jpg`).toBeGreaterThan(1);
      expect(issuesOf(kiosk)[0], `bbt${n}.jpg`).toBe('MULTIPLE_FACES');
    }
  });
});

const KIOSK: AnalyzeOptions = { detector: 'tiny416', padding: 0, purpose: 'kiosk' };

/** A 640×480 camera frame: grey, with each photo scaled to `height` px and its top-left corner at (left, top). */
async function cameraFrame(people: { photo: string; height: number; left: number; top: number }[]): Promise<Buffer> {
  const layers = await Promise.all(
    people.map(async (p) => ({ input: await sharp(p.photo).resize({ height: p.height }).toBuffer(), left: p.left, top: p.top })),
  );
  return sharp({ create: { width: 640, height: 480, channels: 3, background: { r: 128, g: 128, b: 128 } } })
    .composite(layers)
    .png()
    .toBuffer();
}

describe('kiosk frames: who is in front, and who is too far (issue 15)', () => {
  it('two people side by side, the same size: "one person at a time", nobody named', async () => {
    for (const [a, b] of [[bbtPhoto('amy', 2), bbtPhoto('raj', 1)], [bbtPhoto('leonard', 2), bbtPhoto('penny', 5)]] as const) {
      const frame = await cameraFrame([
        { photo: a, height: 170, left: 60, top: 150 },
        { photo: b, height: 160, left: 380, top: 160 },
      ]);
      const result = await engine.analyze(await decodeImage(frame), KIOSK);
      expect(result.facesFound, `${a} + ${b}`).toBe(2);
      expect(result.ok).toBe(false);
      expect(issuesOf(result)[0]).toBe('MULTIPLE_FACES');
    }
  });

  it('one person in front, another well behind: the one in front, and no complaint', async () => {
    const frame = await cameraFrame([
      { photo: bbtPhoto('leonard', 2), height: 240, left: 200, top: 120 },
      { photo: bbtPhoto('penny', 5), height: 110, left: 500, top: 20 },
    ]);
    const result = await engine.analyze(await decodeImage(frame), KIOSK);
    expect(result.facesFound).toBe(2);
    expect(issuesOf(result)).toEqual([]);
    expect(result.face?.box.x).toBeGreaterThan(150); // leonard's face, not penny's in the corner
    expect(result.face?.box.x).toBeLessThan(450);
  });

  it('a face 40-55 px tall: no face for the detector, "too small" from the centre probe, never a descriptor to match', async () => {
    for (const person of ['amy', 'howard', 'raj', 'sheldon'] as const) {
      for (const height of [36, 46]) {
        const frame = await decodeImage(await cameraFrame([{ photo: bbtPhoto(person, 1), height, left: 320 - height / 2, top: 240 - height / 2 }]));
        const plain = await engine.analyze(frame, KIOSK);
        expect(plain.facesFound, `${person} at ${height} px`).toBe(0);
        const probed = await engine.analyze(frame, { ...KIOSK, probeSmallFaces: true });
        expect(probed.ok).toBe(false);
        expect(issuesOf(probed)[0], `${person} at ${height} px`).toBe('FACE_TOO_SMALL');
        expect(probed.face?.box.width).toBeGreaterThan(30);
        expect(probed.face?.box.width).toBeLessThan(64);
        expect(Math.abs((probed.face?.box.x ?? 0) + (probed.face?.box.width ?? 0) / 2 - 320)).toBeLessThan(20); // frame coordinates
      }
    }
    const nobody = await decodeImage(await cameraFrame([]));
    expect(await engine.analyze(nobody, { ...KIOSK, probeSmallFaces: true })).toMatchObject({ issues: ['NO_FACE'], facesFound: 0 });
  });
});
