import type { Point } from './types.js';

/**
 * Rough head pose from the 68 iBUG landmarks, in degrees. Heuristics for "is the person roughly facing the
 * camera", not metric angles:
 * - roll: angle of the line through the two eye centres (positive: head tilted clockwise in the image);
 * - yaw: after removing roll, the nose tip's offset from the midpoint of the jaw ends, over half the jaw width,
 *   through asin (positive: nose towards image right);
 * - pitch: after removing roll, where the nose tip sits between the eye line and the chin, relative to a frontal
 *   baseline (the median of the bundled test crops), scaled to rough degrees (positive: looking down).
 */
export interface HeadPose {
  yaw: number;
  pitch: number;
  roll: number;
}

/** Nose-tip position between eye line (0) and chin (1) of a frontal face, measured on ../shared/faces/bbt. */
const FRONTAL_PITCH_RATIO = 0.36;
const DEG = 180 / Math.PI;

function meanOf(points: readonly Point[], from: number, to: number): Point {
  let x = 0;
  let y = 0;
  for (let i = from; i <= to; i++) {
    const p = points[i];
    if (!p) throw new Error(`missing landmark ${i}`);
    x += p.x;
    y += p.y;
  }
  const n = to - from + 1;
  return { x: x / n, y: y / n };
}

function at(points: readonly Point[], i: number): Point {
  const p = points[i];
  if (!p) throw new Error(`missing landmark ${i}`);
  return p;
}

const asinDegrees = (v: number): number => Math.asin(Math.min(1, Math.max(-1, v))) * DEG;

export function headPose(landmarks: readonly Point[]): HeadPose {
  if (landmarks.length !== 68) throw new Error(`head pose needs 68 landmarks, got ${landmarks.length}`);
  const eyeA = meanOf(landmarks, 36, 41);
  const eyeB = meanOf(landmarks, 42, 47);
  const rollRad = Math.atan2(eyeB.y - eyeA.y, eyeB.x - eyeA.x);
  const c = Math.cos(-rollRad);
  const s = Math.sin(-rollRad);
  const upright = (p: Point): Point => ({ x: p.x * c - p.y * s, y: p.x * s + p.y * c });
  const jawLeft = upright(at(landmarks, 0));
  const jawRight = upright(at(landmarks, 16));
  const nose = upright(at(landmarks, 30));
  const chin = upright(at(landmarks, 8));
  const eyes = upright({ x: (eyeA.x + eyeB.x) / 2, y: (eyeA.y + eyeB.y) / 2 });
  const halfJaw = (jawRight.x - jawLeft.x) / 2;
  const yawRatio = halfJaw === 0 ? 0 : (nose.x - (jawLeft.x + jawRight.x) / 2) / halfJaw;
  const span = chin.y - eyes.y;
  const pitchRatio = span === 0 ? FRONTAL_PITCH_RATIO : (nose.y - eyes.y) / span;
  return {
    yaw: asinDegrees(yawRatio),
    pitch: asinDegrees((pitchRatio - FRONTAL_PITCH_RATIO) * 2.5),
    roll: rollRad * DEG,
  };
}
