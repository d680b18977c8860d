import { ClockfaceError } from '../errors.js';
import { DESCRIPTOR_LENGTH } from '../face-model.js';
import type { FaceDescriptor } from './types.js';

/** Throws INVALID_DESCRIPTOR unless `values` is a 128-D vector of finite numbers. */
export function checkDescriptorValues(values: ArrayLike<number>): void {
  if (values.length !== DESCRIPTOR_LENGTH) {
    throw new ClockfaceError('INVALID_DESCRIPTOR', `a descriptor has ${DESCRIPTOR_LENGTH} values, got ${values.length}`);
  }
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) {
      throw new ClockfaceError('INVALID_DESCRIPTOR', `descriptor value ${i} is not a finite number`);
    }
  }
}

/** Euclidean distance, the metric the model was trained for and the one pgvector's `<->` computes. */
export function euclideanDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    sum += d * d;
  }
  return Math.sqrt(sum);
}

/** Distance between two descriptors; refuses to compare different models or lengths. */
export function descriptorDistance(a: FaceDescriptor, b: FaceDescriptor): number {
  if (a.modelId !== b.modelId) {
    throw new ClockfaceError(
      'MODEL_MISMATCH',
      `cannot compare descriptors of different models (${a.modelId} vs ${b.modelId})`,
    );
  }
  if (a.values.length !== b.values.length) {
    throw new ClockfaceError('INVALID_DESCRIPTOR', 'descriptors of different lengths');
  }
  return euclideanDistance(a.values, b.values);
}
