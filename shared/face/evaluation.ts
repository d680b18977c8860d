import { distribution, type Distribution } from '../stats/distribution.js';
import { euclideanDistance as euclidean } from './descriptor.js';

/**
 * Accuracy figures of a face model on a labelled set: pure arithmetic on distances, so it can be unit-tested with
 * made-up numbers and reused by benchmarks.
 */

export interface OperatingPoint {
  /** The false-accept rate asked for. */
  targetFar: number;
  /** Largest threshold whose FAR on this set is ≤ targetFar (accept when distance ≤ threshold). */
  threshold: number;
  far: number;
  tar: number;
  /** False accepts allowed by the target with this many impostor pairs (0 means "below every impostor"). */
  allowedFalseAccepts: number;
  /** Fewer impostor pairs than 1/targetFar: the FAR cannot be resolved this finely on this set. */
  underResolved: boolean;
}

export interface VerificationReport {
  genuine: Distribution;
  impostor: Distribution;
  operatingPoints: OperatingPoint[];
  atThreshold: { threshold: number; tar: number; far: number };
}

/** TAR at a target FAR: accept the k closest impostors at most, k = floor(target × impostors). */
export function operatingPoint(genuine: readonly number[], impostor: readonly number[], targetFar: number): OperatingPoint {
  const imp = [...impostor].sort((a, b) => a - b);
  const allowed = Math.floor(targetFar * imp.length);
  const next = imp[allowed]; // the first impostor that must be rejected
  const threshold = next === undefined ? Number.POSITIVE_INFINITY : next - 1e-9;
  return {
    targetFar,
    threshold,
    far: imp.length === 0 ? 0 : imp.filter((d) => d <= threshold).length / imp.length,
    tar: genuine.length === 0 ? 0 : genuine.filter((d) => d <= threshold).length / genuine.length,
    allowedFalseAccepts: allowed,
    underResolved: imp.length < 1 / targetFar,
  };
}

export function verificationReport(
  genuine: readonly number[],
  impostor: readonly number[],
  threshold: number,
  targetFars: readonly number[] = [1e-2, 1e-3],
): VerificationReport {
  return {
    genuine: distribution(genuine),
    impostor: distribution(impostor),
    operatingPoints: targetFars.map((f) => operatingPoint(genuine, impostor, f)),
    atThreshold: {
      threshold,
      tar: genuine.length === 0 ? 0 : genuine.filter((d) => d <= threshold).length / genuine.length,
      far: impostor.length === 0 ? 0 : impostor.filter((d) => d <= threshold).length / impostor.length,
    },
  };
}

export interface LabelledDescriptor {
  id: string;
  label: string;
  values: Float32Array;
}

export interface IdentificationReport {
  probes: number;
  rank1Correct: number;
  rank1: number;
  /** For correct rank-1 probes: distance to the nearest other person minus distance to the right person. */
  margin: Distribution;
  misidentified: Array<{ id: string; label: string; predicted: string; distance: number }>;
  genuine: number[];
  impostor: number[];
}

/**
 * Leave-one-out identification: each image whose person has another image is a probe against all other images.
 * Also returns every genuine (same person) and impostor (different people) pair distance.
 */
export function leaveOneOut(items: readonly LabelledDescriptor[]): IdentificationReport {
  const n = items.length;
  const dist: number[][] = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  const genuine: number[] = [];
  const impostor: number[] = [];
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const a = items[i];
      const b = items[j];
      if (!a || !b) continue;
      const d = euclidean(a.values, b.values);
      (dist[i] as number[])[j] = d;
      (dist[j] as number[])[i] = d;
      (a.label === b.label ? genuine : impostor).push(d);
    }
  }
  let probes = 0;
  let correct = 0;
  const margins: number[] = [];
  const misidentified: IdentificationReport['misidentified'] = [];
  for (let i = 0; i < n; i++) {
    const probe = items[i];
    if (!probe) continue;
    if (!items.some((o, j) => j !== i && o.label === probe.label)) continue;
    probes++;
    // Nearest distance per other label: identification is by person, not by image.
    const best = new Map<string, number>();
    for (let j = 0; j < n; j++) {
      const other = items[j];
      if (j === i || !other) continue;
      const d = dist[i]?.[j] ?? Number.POSITIVE_INFINITY;
      if (d < (best.get(other.label) ?? Number.POSITIVE_INFINITY)) best.set(other.label, d);
    }
    const ranked = [...best.entries()].sort((a, b) => a[1] - b[1]);
    const [top, second] = ranked;
    if (top && top[0] === probe.label) {
      correct++;
      if (second) margins.push(second[1] - top[1]);
    } else if (top) {
      misidentified.push({ id: probe.id, label: probe.label, predicted: top[0], distance: top[1] });
    }
  }
  return {
    probes,
    rank1Correct: correct,
    rank1: probes === 0 ? 0 : correct / probes,
    margin: distribution(margins),
    misidentified,
    genuine,
    impostor,
  };
}
