import { checkDescriptorValues } from '../../shared/face/descriptor.js';

/**
 * A descriptor as pgvector's text input ('[0.1,0.2,…]'). Checked here too, so a bad descriptor fails with a clear
 * code before it reaches the database (which would refuse it anyway).
 */
export function toVectorLiteral(descriptor: ArrayLike<number>): string {
  checkDescriptorValues(descriptor);
  return `[${Array.from(descriptor, String).join(',')}]`;
}

/** Parses pgvector's text output back into numbers. */
export function fromVectorLiteral(text: string): Float32Array {
  const inner = text.trim().replace(/^\[/, '').replace(/\]$/, '');
  return Float32Array.from(inner.split(',').map(Number));
}
