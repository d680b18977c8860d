import { DESCRIPTOR_LENGTH } from '../../shared/face-model.js';
import type { VectorRow } from '../../electron/kiosk/vector-index/types.js';

/**
 * Seeded synthetic descriptors shaped like face-model output, for the vector-index tests and the kiosk benchmark
 * (no real roster of 100k faces exists to measure with). Each person has a centre drawn N(0, centreSd) per
 * dimension and each template is the centre plus N(0, sampleSd) per dimension, so in 128-D two templates of one
 * person lie about sampleSd·√256 apart and two people about √256·√(centreSd² + sampleSd²): with the defaults
 * ~0.40 (genuine) and ~0.80 (impostor), where the model's match threshold is ~0.55. Clustered data matters:
 * uniform random vectors have no near neighbours and flatter every index.
 */
export interface FaceLikeOptions {
  people: number;
  samplesPerPerson: number;
  seed: number;
  centreSd?: number;
  sampleSd?: number;
  /** Template id of the first row; ids then run consecutively, person by person. */
  firstId?: number;
}

export interface FaceLikeSet {
  rows: VectorRow[];
  /** Person index of each row, in row order. */
  personOfRow: number[];
  centres: Float32Array[];
  sampleSd: number;
}

/** mulberry32: small, fast and good enough to make test data repeatable. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal deviate (Box–Muller). */
export function gaussian(random: () => number): number {
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** `centre` plus N(0, sd) per dimension: a new photo of the same person. */
export function noisySample(centre: Float32Array, sd: number, random: () => number): Float32Array {
  const out = new Float32Array(DESCRIPTOR_LENGTH);
  for (let d = 0; d < DESCRIPTOR_LENGTH; d++) out[d] = (centre[d] ?? 0) + sd * gaussian(random);
  return out;
}

export function randomCentre(sd: number, random: () => number): Float32Array {
  const out = new Float32Array(DESCRIPTOR_LENGTH);
  for (let d = 0; d < DESCRIPTOR_LENGTH; d++) out[d] = sd * gaussian(random);
  return out;
}

export function faceLikeSet(options: FaceLikeOptions): FaceLikeSet {
  const random = seededRandom(options.seed);
  const centreSd = options.centreSd ?? 0.043;
  const sampleSd = options.sampleSd ?? 0.025;
  let id = options.firstId ?? 1;
  const rows: VectorRow[] = [];
  const personOfRow: number[] = [];
  const centres: Float32Array[] = [];
  for (let p = 0; p < options.people; p++) {
    const centre = randomCentre(centreSd, random);
    centres.push(centre);
    for (let s = 0; s < options.samplesPerPerson; s++) {
      rows.push({ templateId: id++, descriptor: noisySample(centre, sampleSd, random) });
      personOfRow.push(p);
    }
  }
  return { rows, personOfRow, centres, sampleSd };
}
