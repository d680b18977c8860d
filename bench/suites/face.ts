import sharp from 'sharp';
import { decodeImage } from '../../electron/face/decode-image.js';
import { nodeFaceEngine } from '../../electron/face/node-face-engine.js';
import type { AnalyzeOptions } from '../../shared/face/engine.js';
import { FACE_DETECTORS, type FaceDetector, type RgbImage } from '../../shared/face/types.js';
import { distribution } from '../../shared/stats/distribution.js';
import type { BenchResult } from '../report.js';
import type { BenchSuite } from '../run.js';
import { browserFaceBench } from './face-browser.js';
import { chromiumPart } from '../../test/support/chromium.js';
import { requirePart } from '../support/missing-parts.js';

const FACES = new URL('../../../shared/faces/', import.meta.url);

/** Camera-like 640×480 frames: one person at kiosk distance, and a crowd (the kiosk takes the largest face). */
export async function cameraFrames(): Promise<RgbImage[]> {
  const people = ['amy/amy1', 'sheldon/sheldon2', 'penny/penny5', 'raj/raj1', 'leonard/leonard4'];
  const frames: RgbImage[] = [];
  for (const p of people) {
    const face = await sharp(new URL(`bbt/${p}.png`, FACES).pathname).resize(220).png().toBuffer();
    const frame = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#6b7280' } })
      .composite([{ input: face, left: 210, top: 110 }])
      .png()
      .toBuffer();
    frames.push(await decodeImage(frame));
  }
  for (const g of ['bbt1.jpg', 'bbt3.jpg']) {
    const frame = await sharp(new URL(`bbt-group/${g}`, FACES).pathname).resize(640, 480, { fit: 'cover' }).png().toBuffer();
    frames.push(await decodeImage(frame));
  }
  return frames;
}

export function kioskOptions(detector: FaceDetector): AnalyzeOptions {
  return { detector, padding: 0, purpose: 'kiosk' };
}

/** p50/p95 per detector, plus how much faster each is than SSD: one runtime's rows. */
export function latencyRows(runtime: string, perDetector: Map<FaceDetector, number[]>): BenchResult[] {
  const rows: BenchResult[] = [];
  const ssd = distribution(perDetector.get('ssd') ?? []);
  for (const [detector, samples] of perDetector) {
    const d = distribution(samples);
    const name = `${runtime} ${detector}`;
    rows.push(
      { suite: 'face', case: name, metric: 'frame p50', value: d.median, unit: 'ms' },
      { suite: 'face', case: name, metric: 'frame p95', value: d.p95, unit: 'ms' },
      { suite: 'face', case: name, metric: 'speed vs ssd', value: ssd.median / d.median, unit: 'x' },
    );
  }
  return rows;
}

export const faceSuite: BenchSuite = {
  name: 'face',
  description: 'per-frame latency of the whole pipeline (detect, landmarks, descriptor, gates) on 640×480 frames',
  async run({ full }) {
    const frames = await cameraFrames();
    const rounds = full ? 15 : 4;
    const engine = await nodeFaceEngine();
    const node = new Map<FaceDetector, number[]>();
    for (const detector of FACE_DETECTORS) {
      await engine.analyze(frames[0] as RgbImage, kioskOptions(detector)); // warm-up
      const samples: number[] = [];
      for (let r = 0; r < rounds; r++) {
        for (const frame of frames) {
          const t = performance.now();
          await engine.analyze(frame, kioskOptions(detector));
          samples.push(performance.now() - t);
        }
      }
      node.set(detector, samples);
    }
    const results = latencyRows('node wasm', node);
    if (!requirePart('face', chromiumPart(), 'the pipeline in Chromium (and its ratio to Node)')) return results;
    const browser = await browserFaceBench(frames, rounds);
    results.push(...latencyRows('chromium wasm', browser));
    for (const detector of FACE_DETECTORS) {
      const n = distribution(node.get(detector) ?? []).median;
      const b = distribution(browser.get(detector) ?? []).median;
      results.push({ suite: 'face', case: `chromium vs node ${detector}`, metric: 'p50 ratio', value: b / n, unit: 'x' });
    }
    return results;
  },
};
