import { ClockfaceError } from '../../shared/errors.js';
import { DESCRIPTOR_LENGTH } from '../../shared/face-model.js';

/**
 * A descriptor as pgvector's text input ('[0.1,0.2,…]'). Checked here too, so a bad descriptor fails with a clear
 * code before it reaches the database (which would refuse it anyway).
 */
export function toVectorLiteral(descriptor: ArrayLike<number>, length: number = DESCRIPTOR_LENGTH): string {
  if (descriptor.length !== length) {
    throw new ClockfaceError('INVALID_DESCRIPTOR', `a descriptor has ${length} values, got ${descriptor.length}`);
  }
  const parts: string[] = new Array<string>(descriptor.length);
  for (let i = 0; i < descriptor.length; i++) {
    const v = descriptor[i];
    if (v === undefined || !Number.isFinite(v)) {
      throw new ClockfaceError('INVALID_DESCRIPTOR', `descriptor value ${i} is not a finite number`);
    }
    parts[i] = String(v);
  }
  return `[${parts.join(',')}]`;
}

/** Parses pgvector's text output back into numbers. */
export function fromVectorLiteral(text: string): Float32Array {
  const inner = text.trim().replace(/^\[/, '').replace(/\]$/, '');
  return Float32Array.from(inner.split(',').map(Number));
}
