import { Command } from 'commander';
import { nodeFaceEngine } from '../../face/node-face-engine.js';
import { enrolEmployeePhotos, type PhotoInput } from '../../roster/enrol-employee.js';
import { withCentral, withCentralOption, type CentralOptions } from '../central-option.js';
import { readImageFile } from '../../face/decode-image.js';
import { printJson, printLine } from '../output.js';

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
      const engine = await nodeFaceEngine();
      const inputs: PhotoInput[] = photos.map((photo) => {
        try {
          // The same guarded read as roster import: regular files only, size-capped, before any decoding.
          return { name: photo, bytes: readImageFile(photo) };
        } catch (e) {
          return { name: photo, unreadable: { code: 'PHOTO_MISSING', reason: (e as Error).message } };
        }
      });
      const outcomes = await enrolEmployeePhotos(client, engine, employeeNo, inputs, { allowDuplicateFace: options.allowDuplicateFace ?? false });
      if (options.json) printJson({ employeeNo, outcomes });
      else for (const o of outcomes) printLine(`${o.photo}: ${o.status}${o.code ? ` (${o.code}: ${o.reason})` : ''}`);
      if (outcomes.some((o) => o.status === 'refused')) process.exitCode = 1;
    });
  });
}
