import type pg from 'pg';
import { ClockfaceError } from '../../shared/errors.js';
import type { FaceEngine } from '../../shared/face/engine.js';
import { analyzePhoto, EnrolmentRefused, sha256, storeTemplateGuarded } from './enrol-photos.js';
import { findEmployees } from './roster-store.js';

/** One photo to enrol: its bytes, or why they could not be read (a missing file, an upload over the limit). */
export type PhotoInput = { name: string; bytes: Buffer } | { name: string; unreadable: { code: string; reason: string } };

export interface PhotoOutcome {
  photo: string;
  status: 'added' | 'already-enrolled' | 'refused';
  code?: string;
  reason?: string;
}

/**
 * Adds face templates to one employee from photos, each on its own: the enrolment quality gates (one face, SSD, every
 * gate), then the duplicate-face guard and the insert in one transaction, so a refused photo leaves the others in.
 * `clockface enroll` and the console's employee page both call this.
 */
export async function enrolEmployeePhotos(
  client: pg.ClientBase,
  engine: FaceEngine,
  employeeNo: string,
  photos: readonly PhotoInput[],
  options: { allowDuplicateFace: boolean },
): Promise<PhotoOutcome[]> {
  const employee = (await findEmployees(client, [employeeNo])).get(employeeNo);
  if (!employee) throw new ClockfaceError('EMPLOYEE_NOT_FOUND', `no employee ${employeeNo}`);
  const outcomes: PhotoOutcome[] = [];
  for (const photo of photos) {
    if ('unreadable' in photo) {
      outcomes.push({ photo: photo.name, status: 'refused', ...photo.unreadable });
      continue;
    }
    const verdict = await analyzePhoto(engine, photo.bytes);
    if (!verdict.ok) {
      outcomes.push({ photo: photo.name, status: 'refused', code: verdict.code, reason: verdict.reason });
      continue;
    }
    await client.query('BEGIN');
    try {
      const added = await storeTemplateGuarded(
        client,
        { id: employee.id, employeeNo },
        { photo: photo.name, photoSha256: sha256(photo.bytes), descriptor: verdict.descriptor, quality: verdict.quality, source: 'enrol' },
        { allowDuplicateFace: options.allowDuplicateFace },
      );
      await client.query('COMMIT');
      outcomes.push({ photo: photo.name, status: added ? 'added' : 'already-enrolled' });
    } catch (e) {
      await client.query('ROLLBACK');
      if (!(e instanceof EnrolmentRefused)) throw e;
      outcomes.push({ photo: photo.name, status: 'refused', code: e.code, reason: e.message });
    }
  }
  return outcomes;
}
