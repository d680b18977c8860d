import { Command, Option } from 'commander';
import { importRoster, type ImportSummary } from '../../roster/import-roster.js';
import { DEFAULT_MATCH_THRESHOLD } from '../../../shared/face/match-defaults.js';
import { withCentral, withCentralOption, type CentralOptions } from '../central-option.js';
import { createProgress } from '../progress.js';

interface ImportCliOptions extends CentralOptions {
  photos?: string;
  dryRun?: boolean;
  allowDuplicateFace?: boolean;
  json?: boolean;
}

function printSummary(s: ImportSummary): void {
  const lines: string[] = [];
  for (const e of s.errors) {
    lines.push(`line ${e.line}${e.employeeNo ? ` (${e.employeeNo})` : ''}: ${e.code}: ${e.reason}`);
  }
  if (s.sitesCreated.length > 0) {
    lines.push(`new sites (time zone UTC until set): ${s.sitesCreated.join(', ')}`);
  }
  lines.push(
    `${s.dryRun ? 'dry run, nothing written: ' : ''}${s.rows} rows: ${s.created} created, ${s.updated} updated, ` +
      `${s.unchanged} unchanged, ${s.failed} failed; ${s.templatesAdded} face templates added`,
  );
  console.log(lines.join('\n'));
}

export function rosterCommand(): Command {
  const roster = new Command('roster').description('bulk roster operations');
  withCentralOption(
    roster
      .command('import')
      .description('import employees from a CSV (employee_no, full_name, department, site, photos, pin) and enrol photos')
      .argument('<file.csv>', 'UTF-8 CSV with a header row; photos are paths relative to --photos separated by ";"')
      .option('--photos <dir>', 'folder the photo paths are relative to (paths may not leave it)')
      .option('--dry-run', 'check everything, enrol photos, then roll back: nothing is written')
      .addOption(
        new Option(
          '--allow-duplicate-face',
          `store a face even when it is within ${DEFAULT_MATCH_THRESHOLD} of another employee (twins, a re-hired person)`,
        ),
      )
      .option('--json', 'print the summary as JSON'),
  ).action(async (file: string, options: ImportCliOptions) => {
    await withCentral(options, async (client) => {
      const progress = options.json ? null : createProgress('importing');
      const summary = await importRoster(client, file, {
        dryRun: options.dryRun ?? false,
        allowDuplicateFace: options.allowDuplicateFace ?? false,
        ...(options.photos !== undefined ? { photosDir: options.photos } : {}),
        ...(progress ? { onProgress: (d: number, t: number) => progress.update(d, t) } : {}),
      });
      progress?.stop();
      if (options.json) console.log(JSON.stringify(summary, null, 2));
      else printSummary(summary);
      if (summary.failed > 0) process.exitCode = 1;
    });
  });
  return roster;
}
