import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import type pg from 'pg';
import { isClockfaceError } from '../../shared/errors.js';
import type { FaceEngine } from '../../shared/face/engine.js';
import { DEFAULT_MATCH_THRESHOLD } from '../../shared/face/match-defaults.js';
import { decodeImage } from '../face/decode-image.js';
import type { RowErrorCode } from './roster-csv.js';
import { nearestPeople } from '../central/face-search.js';
import { addTemplate, type NewTemplate } from './roster-store.js';

/** Why a photo or template was refused, with the code the roster report uses. */
export class EnrolmentRefused extends Error {
  constructor(
    readonly code: RowErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

export type PhotoVerdict =
  | { ok: true; descriptor: Float32Array; quality: number }
  | { ok: false; code: RowErrorCode; reason: string };

/** Enrolment standard: SSD, tight crops padded, one face only, every quality gate passed. */
export async function analyzePhoto(engine: FaceEngine, bytes: Buffer): Promise<PhotoVerdict> {
  try {
    const result = await engine.analyze(await decodeImage(bytes), { detector: 'ssd', padding: 'auto', purpose: 'enrol' });
    if (result.ok) return { ok: true, descriptor: result.face.descriptor.values, quality: result.face.score };
    const [first] = result.issues;
    if (first === 'NO_FACE') return { ok: false, code: 'NO_FACE', reason: 'no face found' };
    if (first === 'MULTIPLE_FACES') return { ok: false, code: 'MULTIPLE_FACES', reason: `${result.facesFound} faces` };
    return { ok: false, code: 'POOR_QUALITY', reason: `poor quality: ${result.issues.join(', ')}` };
  } catch (e) {
    if (isClockfaceError(e)) return { ok: false, code: 'PHOTO_UNREADABLE', reason: e.message };
    throw e;
  }
}

export interface GuardOptions {
  allowDuplicateFace: boolean;
  threshold?: number;
}

/**
 * Stores a template unless the same face already belongs to someone else: the duplicate-face guard against double
 * enrolment and a colleague's photo under the wrong name (k-NN on central's hnsw index, in the caller's
 * transaction, so templates stored earlier in it count). Returns whether a row was added.
 */
export async function storeTemplateGuarded(
  client: pg.ClientBase,
  employee: { id: number; employeeNo: string },
  template: NewTemplate & { photo: string },
  options: GuardOptions,
): Promise<boolean> {
  const threshold = options.threshold ?? DEFAULT_MATCH_THRESHOLD;
  // Everyone else, deactivated people included: a face enrolled again under a new number is still a duplicate.
  const [nearest] = await nearestPeople(client, template.descriptor, 1, { excludeEmployeeNo: employee.employeeNo, includeInactive: true });
  if (nearest && nearest.distance <= threshold && !options.allowDuplicateFace) {
    throw new EnrolmentRefused(
      'DUPLICATE_FACE',
      `${basename(template.photo)}: the same face as employee ${nearest.employeeNo} ` +
        `(distance ${nearest.distance.toFixed(3)} ≤ ${threshold}); use --allow-duplicate-face if that is right`,
    );
  }
  return addTemplate(client, employee.id, template);
}
