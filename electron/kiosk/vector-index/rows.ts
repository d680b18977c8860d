import { ClockfaceError } from '../../../shared/errors.js';
import { checkDescriptorValues } from '../../../shared/face/descriptor.js';
import { DESCRIPTOR_LENGTH } from '../../../shared/face-model.js';
import { MAX_K, type VectorRow } from './types.js';

/** Bytes of one descriptor stored as little-endian float32, the layout every engine reads. */
export const DESCRIPTOR_BYTES = DESCRIPTOR_LENGTH * Float32Array.BYTES_PER_ELEMENT;

/** Rows checked and packed: ids in order, descriptors back to back in one array (one allocation, not n). */
export interface PackedRows {
  ids: number[];
  data: Float32Array;
}

export function checkTemplateId(id: number): void {
  if (!Number.isSafeInteger(id)) {
    throw new ClockfaceError('INVALID_ARGUMENT', `a template id is an integer, got ${String(id)}`);
  }
}

export function checkK(k: number): void {
  if (!Number.isInteger(k) || k < 1 || k > MAX_K) {
    throw new ClockfaceError('INVALID_ARGUMENT', `k must be an integer from 1 to ${MAX_K}, got ${String(k)}`);
  }
}

export function checkQuery(descriptor: Float32Array): void {
  checkDescriptorValues(descriptor);
}

/**
 * Drains `rows` and checks every one before the caller writes anything, so a bad row refuses the whole batch.
 * Draining first also lets callers pass a statement iterator on the same connection: better-sqlite3 refuses
 * writes while a read on that connection is still being iterated.
 */
export function packRows(rows: Iterable<VectorRow>): PackedRows {
  const ids: number[] = [];
  const seen = new Set<number>();
  let data = new Float32Array(DESCRIPTOR_LENGTH * 256);
  for (const row of rows) {
    checkTemplateId(row.templateId);
    if (seen.has(row.templateId)) {
      throw new ClockfaceError('INVALID_ARGUMENT', `template ${row.templateId} appears twice in one batch`);
    }
    try {
      checkDescriptorValues(row.descriptor);
    } catch (e) {
      if (e instanceof ClockfaceError) throw new ClockfaceError(e.code, `template ${row.templateId}: ${e.message}`);
      throw e;
    }
    seen.add(row.templateId);
    if ((ids.length + 1) * DESCRIPTOR_LENGTH > data.length) {
      const grown = new Float32Array(data.length * 2);
      grown.set(data);
      data = grown;
    }
    data.set(row.descriptor, ids.length * DESCRIPTOR_LENGTH);
    ids.push(row.templateId);
  }
  return { ids, data: data.subarray(0, ids.length * DESCRIPTOR_LENGTH) };
}

export function checkIds(templateIds: readonly number[]): void {
  for (const id of templateIds) checkTemplateId(id);
}

/** The i-th descriptor of `packed` as a blob view (no copy) for binding. */
export function rowBlob(packed: PackedRows, i: number): Buffer {
  const offset = packed.data.byteOffset + i * DESCRIPTOR_BYTES;
  return Buffer.from(packed.data.buffer, offset, DESCRIPTOR_BYTES);
}

export function descriptorBlob(descriptor: Float32Array): Buffer {
  return Buffer.from(descriptor.buffer, descriptor.byteOffset, descriptor.byteLength);
}

/** Sorts hits nearest first, ties by templateId, so that every engine orders equal distances alike. */
export function byDistance(a: { templateId: number; distance: number }, b: { templateId: number; distance: number }): number {
  return a.distance - b.distance || a.templateId - b.templateId;
}
