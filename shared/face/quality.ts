import type { HeadPose } from './head-pose.js';

/**
 * Why a frame or photo is not good enough. The kiosk turns these into guidance ("move closer", "face the camera");
 * enrolment refuses the photo with the reason.
 */
export type QualityIssue =
  | 'NO_FACE'
  | 'MULTIPLE_FACES'
  | 'FACE_TOO_SMALL'
  | 'LOW_SCORE'
  | 'HEAD_TURNED'
  | 'HEAD_PITCHED'
  | 'HEAD_TILTED'
  | 'TOO_DARK'
  | 'TOO_BRIGHT'
  | 'BLURRED';

export interface QualityMeasures {
  score: number;
  /** Width of the face box in pixels of the original image. */
  faceSize: number;
  pose: HeadPose;
  brightness: number;
  sharpness: number;
}

export interface QualityThresholds {
  minFaceSize: number;
  minScore: number;
  maxYaw: number;
  maxPitch: number;
  maxRoll: number;
  minBrightness: number;
  maxBrightness: number;
  minSharpness: number;
}

/**
 * Defaults, chosen from measurements on ../shared/faces (docs/kiosk.md, "Face engine"): every bundled photo passes, and
 * the darkened, shrunken, blurred and rotated variants in the tests fail with the right reason.
 */
export const DEFAULT_QUALITY: QualityThresholds = {
  minFaceSize: 56,
  minScore: 0.5,
  maxYaw: 30,
  maxPitch: 25,
  maxRoll: 20,
  minBrightness: 45,
  maxBrightness: 215,
  minSharpness: 15,
};

/** The issues of one face, worst first: the kiosk shows the first as guidance. */
export function assessQuality(m: QualityMeasures, t: QualityThresholds = DEFAULT_QUALITY): QualityIssue[] {
  const issues: QualityIssue[] = [];
  if (m.faceSize < t.minFaceSize) issues.push('FACE_TOO_SMALL');
  if (m.brightness < t.minBrightness) issues.push('TOO_DARK');
  if (m.brightness > t.maxBrightness) issues.push('TOO_BRIGHT');
  if (Math.abs(m.pose.yaw) > t.maxYaw) issues.push('HEAD_TURNED');
  if (Math.abs(m.pose.pitch) > t.maxPitch) issues.push('HEAD_PITCHED');
  if (Math.abs(m.pose.roll) > t.maxRoll) issues.push('HEAD_TILTED');
  if (m.sharpness < t.minSharpness) issues.push('BLURRED');
  if (m.score < t.minScore) issues.push('LOW_SCORE');
  return issues;
}
