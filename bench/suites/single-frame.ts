import sharp from 'sharp';
import { decodeImage } from '../../electron/face/decode-image.js';
import { nodeFaceEngine } from '../../electron/face/node-face-engine.js';
import type { FaceEngine } from '../../shared/face/engine.js';
import {
  DEFAULT_MATCH_MARGIN,
  DEFAULT_MATCH_THRESHOLD,
  SINGLE_FRAME_MAX_DISTANCE,
  SINGLE_FRAME_MIN_MARGIN,
} from '../../shared/face/match-defaults.js';
import { distribution } from '../../shared/stats/distribution.js';
import { bbtPhoto, PEOPLE } from '../../test/support/faces.js';
import type { BenchResult } from '../report.js';
import type { BenchSuite } from '../run.js';

/**
 * Where one kiosk frame may decide alone (shared/face/match-defaults.ts, SINGLE_FRAME_*): every photo in
 * ../shared/faces as the kiosk sees it (centred on a grey 640×480 frame at three face sizes, tiny416, no padding)
 * against galleries enrolled as the roster import enrols (SSD, padded crops): every pair of a person's five photos
 * as the gallery (the same pair for everyone), the other three photos as looks. Each look is also made with its own
 * person left out of the gallery (a stranger at the kiosk). A look is wrong when the nearest person is not the one
 * in front of the camera. The suite reports, side by side, how many right looks each pair of cut-offs decides on
 * one frame and how many wrong looks it would have punched: the shipped pair must show 0.
 */

const SUITE = 'single-frame';
const FACE_HEIGHTS = [160, 240, 320];
/** The shipped cut-offs first; then looser and stricter pairs, and "every frame the threshold rule accepts". */
const CUTOFFS: Array<{ name: string; maxDistance: number; minMargin: number }> = [
  { name: `shipped (≤ ${SINGLE_FRAME_MAX_DISTANCE}, margin ≥ ${SINGLE_FRAME_MIN_MARGIN})`, maxDistance: SINGLE_FRAME_MAX_DISTANCE, minMargin: SINGLE_FRAME_MIN_MARGIN },
  { name: 'stricter (≤ 0.40, margin ≥ 0.25)', maxDistance: 0.4, minMargin: 0.25 },
  { name: 'looser (≤ 0.50, margin ≥ 0.15)', maxDistance: 0.5, minMargin: 0.15 },
  { name: `the frame rule alone (≤ ${DEFAULT_MATCH_THRESHOLD}, margin ≥ ${DEFAULT_MATCH_MARGIN})`, maxDistance: DEFAULT_MATCH_THRESHOLD, minMargin: DEFAULT_MATCH_MARGIN },
];

interface Look {
  right: boolean;
  nearest: number;
  margin: number;
}

function distance(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += ((a[i] ?? 0) - (b[i] ?? 0)) ** 2;
  return Math.sqrt(s);
}

async function kioskFrame(engine: FaceEngine, photo: string, height: number): Promise<Float32Array | null> {
  const face = await sharp(photo).resize({ height }).toBuffer();
  const width = (await sharp(face).metadata()).width ?? height;
  const frame = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#808080' } })
    .composite([{ input: face, left: Math.round(320 - width / 2), top: Math.round(240 - height / 2) }])
    .png()
    .toBuffer();
  const r = await engine.analyze(await decodeImage(frame), { detector: 'tiny416', padding: 0, purpose: 'kiosk' });
  return r.ok ? r.face.descriptor.values : null;
}

export async function measureLooks(): Promise<{ looks: Look[]; framesRefused: number; framesTried: number }> {
  const engine = await nodeFaceEngine();
  const enrolled = new Map<string, Float32Array>();
  const seen = new Map<string, Float32Array>();
  let framesRefused = 0;
  let framesTried = 0;
  for (const person of PEOPLE) {
    for (const n of [1, 2, 3, 4, 5] as const) {
      const e = await engine.analyze(await decodeImage(bbtPhoto(person, n)), { detector: 'ssd', padding: 'auto', purpose: 'enrol' });
      if (e.ok) enrolled.set(`${person}${n}`, e.face.descriptor.values);
      for (const h of FACE_HEIGHTS) {
        framesTried++;
        const d = await kioskFrame(engine, bbtPhoto(person, n), h);
        if (d) seen.set(`${person}${n}@${h}`, d);
        else framesRefused++;
      }
    }
  }
  const looks: Look[] = [];
  for (let a = 1; a <= 5; a++) {
    for (let b = a + 1; b <= 5; b++) {
      for (const absent of [null, ...PEOPLE]) {
        const gallery = PEOPLE.filter((p) => p !== absent).map((p) => ({
          person: p,
          templates: [enrolled.get(`${p}${a}`), enrolled.get(`${p}${b}`)].filter((t): t is Float32Array => t !== undefined),
        }));
        for (const person of absent === null ? PEOPLE : [absent]) {
          for (let n = 1; n <= 5; n++) {
            if (n === a || n === b) continue;
            for (const h of FACE_HEIGHTS) {
              const d = seen.get(`${person}${n}@${h}`);
              if (!d) continue;
              const ranked = gallery
                .filter((g) => g.templates.length > 0)
                .map((g) => ({ person: g.person, distance: Math.min(...g.templates.map((t) => distance(d, t))) }))
                .sort((x, y) => x.distance - y.distance);
              const [first, second] = ranked;
              if (!first || !second) continue;
              looks.push({ right: absent === null && first.person === person, nearest: first.distance, margin: second.distance - first.distance });
            }
          }
        }
      }
    }
  }
  return { looks, framesRefused, framesTried };
}

export const singleFrameSuite: BenchSuite = {
  name: SUITE,
  description:
    'single-frame cut-offs: every photo in ../shared/faces as kiosk frames (3 face sizes) against every pair of enrolment photos, each person also left out; right looks decided on one frame vs wrong looks that would punch',
  async run() {
    const { looks, framesRefused, framesTried } = await measureLooks();
    const right = looks.filter((l) => l.right);
    const wrong = looks.filter((l) => !l.right);
    const rows: BenchResult[] = [];
    const row = (kase: string, metric: string, value: number, unit: string): void => {
      rows.push({ suite: SUITE, case: kase, metric, value, unit });
    };
    row('looks (kiosk frame × gallery)', 'right', right.length, 'looks');
    row('looks (kiosk frame × gallery)', 'wrong (stranger, or nearest is someone else)', wrong.length, 'looks');
    row('kiosk frames refused by the quality gates (no look)', 'count', framesRefused, `of ${framesTried}`);
    row('right looks: distance to the person', 'p50', distribution(right.map((l) => l.nearest)).median, '');
    row('right looks: margin to the next person', 'p50', distribution(right.map((l) => l.margin)).median, '');
    row('wrong looks: nearest distance', 'min', Math.min(...wrong.map((l) => l.nearest)), '');
    row('wrong looks: margin to the next person', 'max', Math.max(...wrong.map((l) => l.margin)), '');
    for (const c of CUTOFFS) {
      const passes = (l: Look): boolean => l.nearest <= c.maxDistance && l.margin >= c.minMargin;
      row(`cut-offs ${c.name}`, 'right looks decided on one frame', (100 * right.filter(passes).length) / right.length, '%');
      row(`cut-offs ${c.name}`, 'wrong looks that would punch', wrong.filter(passes).length, 'looks');
    }
    return rows;
  },
};
