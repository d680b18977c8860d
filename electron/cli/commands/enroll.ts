import { Command } from 'commander';
import { ClockfaceError } from '../../../shared/errors.js';
import { nodeFaceEngine } from '../../face/node-face-engine.js';
import { analyzePhoto, EnrolmentRefused, sha256, storeTemplateGuarded } from '../../roster/enrol-photos.js';
import { findEmployees } from '../../roster/roster-store.js';
import { withCentral, withCentralOption, type CentralOptions } from '../central-option.js';
import { readImageFile } from '../../face/decode-image.js';
import { printJson, printLine } from '../output.js';

interface PhotoOutcome {
  photo: string;
  status: 'added' | 'already-enrolled' | 'refused';
  code?: string;
  reason?: string;
}

export function enrollCommand(): Command {
  return withCentralOption(
    new Command('enroll')
      .description('add face templates to one employee from photos (same checks as roster import)')
      .argument('<employee-no>')
      .argument('<photos...>', 'one or more photos, each with exactly one good face')
      .option('--allow-duplicate-face', "store a face even when it matches another employee's")
      .option('--json', 'print JSON'),
  ).action(async (employeeNo: string, photos: string[], options: CentralOptions & { allowDuplicateFace?: boolean; json?: boolean }) => {
    await withCentral(options, async (client) => {
      const employee = (await findEmployees(client, [employeeNo])).get(employeeNo);
      if (!employee) throw new ClockfaceError('EMPLOYEE_NOT_FOUND', `no employee ${employeeNo}`);
      const engine = await nodeFaceEngine();
      const outcomes: PhotoOutcome[] = [];
      for (const photo of photos) {
        let bytes: Buffer;
        try {
          // The same guarded read as roster import: regular files only, size-capped, before any decoding.
          bytes = readImageFile(photo);
        } catch (e) {
          outcomes.push({ photo, status: 'refused', code: 'PHOTO_MISSING', reason: (e as Error).message });
          continue;
        }
        const verdict = await analyzePhoto(engine, bytes);
        if (!verdict.ok) {
          outcomes.push({ photo, status: 'refused', code: verdict.code, reason: verdict.reason });
          continue;
        }
        await client.query('BEGIN');
        try {
          const added = await storeTemplateGuarded(
            client,
            { id: employee.id, employeeNo },
            { photo, photoSha256: sha256(bytes), descriptor: verdict.descriptor, quality: verdict.quality, source: 'enrol' },
            { allowDuplicateFace: options.allowDuplicateFace ?? false },
          );
          await client.query('COMMIT');
          outcomes.push({ photo, status: added ? 'added' : 'already-enrolled' });
        } catch (e) {
          await client.query('ROLLBACK');
          if (!(e instanceof EnrolmentRefused)) throw e;
          outcomes.push({ photo, status: 'refused', code: e.code, reason: e.message });
        }
      }
      if (options.json) printJson({ employeeNo, outcomes });
      else for (const o of outcomes) printLine(`${o.photo}: ${o.status}${o.code ? ` (${o.code}: ${o.reason})` : ''}`);
      if (outcomes.some((o) => o.status === 'refused')) process.exitCode = 1;
    });
  });
}
