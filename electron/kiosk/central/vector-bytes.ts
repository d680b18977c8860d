import { ClockfaceError } from '../../../shared/errors.js';
import { DESCRIPTOR_LENGTH } from '../../../shared/face-model.js';

/**
 * pgvector's binary form (`vector_send`): int16 dimension, int16 unused, then float32 values, all big-endian.
 * Fetching templates this way is a quarter of the bytes of the text form and needs no float parsing, which is most
 * of the cost of a 100k-template snapshot. Returns the kiosk's layout: 128 little-endian float32 (512 bytes).
 */
export function fromVectorSend(bytes: Buffer): Buffer {
  const dim = bytes.length >= 4 ? bytes.readInt16BE(0) : -1;
  if (dim !== DESCRIPTOR_LENGTH || bytes.length !== 4 + dim * 4) {
    throw new ClockfaceError('INVALID_DESCRIPTOR', `central sent a vector of ${dim} dimensions (${bytes.length} bytes)`);
  }
  const out = Buffer.allocUnsafe(dim * 4);
  for (let i = 0; i < dim; i++) {
    const value = bytes.readFloatBE(4 + i * 4);
    if (!Number.isFinite(value)) throw new ClockfaceError('INVALID_DESCRIPTOR', 'central sent a vector with a non-finite value');
    out.writeFloatLE(value, i * 4);
  }
  return out;
}
