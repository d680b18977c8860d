import { Command, InvalidArgumentError, Option } from 'commander';
import { findDuplicateFaces } from '../../roster/duplicate-faces.js';
import { importRoster, type ImportSummary } from '../../roster/import-roster.js';
import { DEFAULT_MIRROR_MAX_SHARE, mirrorRefusal } from '../../roster/roster-mirror.js';
import { failureLine } from '../failure.js';
import { DEFAULT_MATCH_THRESHOLD } from '../../../shared/face/match-defaults.js';
import { withCentral, withCentralOption, type CentralOptions } from '../central-option.js';
import { createProgress } from '../progress.js';
import { printJson, printLine } from '../output.js';

interface ImportCliOptions extends CentralOptions {
  photos?: string;
  dryRun?: boolean;
  allowDuplicateFace?: boolean;
  json?: boolean;
  mirror?: boolean;
  mirrorMaxShare?: number;
  allowMassDeactivation?: boolean;
}

function printSummary(s: ImportSummary): void {
  const lines: string[] = [];
  for (const e of s.errors) {
    lines.push(`line ${e.line}${e.employeeNo ? ` (${e.employeeNo})` : ''}: ${e.code}: ${e.reason}`);
  }
  if (s.sitesCreated.length > 0) {
    lines.push(`new sites (time zone UTC until set): ${s.sitesCreated.join(', ')}`);
  }
  if (s.mirror) {
    const verb = s.dryRun || s.mirror.refused ? 'would deactivate' : 'deactivated';
    for (const d of s.mirror.deactivations) lines.push(`mirror: ${verb} ${d.employeeNo} (${d.fullName}, site ${d.site})`);
    // On a dry run the refusal the real run would meet, as the same line it would print.
    if (s.mirror.refused) lines.push(failureLine(mirrorRefusal(s.mirror)));
  }
  lines.push(
    `${s.dryRun ? 'dry run, nothing written: ' : ''}${s.rows} rows: ${s.created} created, ${s.updated} updated, ` +
      `${s.unchanged} unchanged, ${s.failed} failed; ${s.templatesAdded} face templates added` +
      (s.mirror ? `; mirror: ${s.dryRun ? s.mirror.deactivations.length : s.mirror.deactivated} ${s.dryRun ? 'to deactivate' : 'deactivated'}` : ''),
  );
  printLine(lines.join('\n'));
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
      .option('--mirror', "the file is the whole roster of its sites: deactivate (never erase) their active employees it lacks")
      .option(
        '--mirror-max-share <percent>',
        `with --mirror: refuse, writing nothing, when a site would lose more than this share of its active employees`,
        parsePercent,
        DEFAULT_MIRROR_MAX_SHARE,
      )
      .option('--allow-mass-deactivation', 'with --mirror: deactivate even over --mirror-max-share (the file is known to be complete)')
      .option('--json', 'print the summary as JSON'),
  ).action(async (file: string, options: ImportCliOptions, command: Command) => {
    // Commander fills in the default share, so only the override can tell that a mirror flag came without --mirror.
    if (!options.mirror && (options.allowMassDeactivation || command.getOptionValueSource('mirrorMaxShare') === 'cli')) {
      command.error('error: --mirror-max-share and --allow-mass-deactivation go with --mirror', { exitCode: 2 });
    }
    await withCentral(options, async (client) => {
      const progress = options.json ? null : createProgress('importing');
      const summary = await importRoster(client, file, {
        dryRun: options.dryRun ?? false,
        allowDuplicateFace: options.allowDuplicateFace ?? false,
        ...(options.mirror
          ? { mirror: { maxSharePercent: options.mirrorMaxShare ?? DEFAULT_MIRROR_MAX_SHARE, allowMassDeactivation: options.allowMassDeactivation ?? false } }
          : {}),
        ...(options.photos !== undefined ? { photosDir: options.photos } : {}),
        ...(progress ? { onProgress: (d: number, t: number) => progress.update(d, t) } : {}),
      });
      progress?.stop();
      if (options.json) printJson(summary);
      else printSummary(summary);
      if (summary.failed > 0 || summary.mirror?.refused) process.exitCode = 1;
    });
  });
  withCentralOption(
    roster
      .command('duplicates')
      .description("list employees whose faces look alike across all sites (kiosks check only their own sites' faces)")
      .option('--all', 'check every template, not only those added at kiosks')
      .option('--threshold <distance>', "how close counts as the same face (default: central's duplicate threshold)", parseThreshold)
      .option('--json', 'print JSON'),
  ).action(async (options: CentralOptions & { all?: boolean; threshold?: number; json?: boolean }) => {
    await withCentral(options, async (client) => {
      const report = await findDuplicateFaces(client, {
        all: options.all ?? false,
        ...(options.threshold !== undefined ? { threshold: options.threshold } : {}),
      });
      if (options.json) {
        printJson(report);
        return;
      }
      for (const p of report.pairs) {
        const where = p.enrolledAtKiosk ? `, enrolled at kiosk ${p.enrolledAtKiosk}` : '';
        printLine(
          `${p.employeeNo} (${p.fullName}, site ${p.site}${where}) looks like ${p.otherEmployeeNo} (${p.otherFullName}, ` +
            `site ${p.otherSite}): distance ${p.distance.toFixed(3)}`,
        );
      }
      printLine(
        `${report.pairs.length} pair(s) of employees within ${report.threshold} of each other; ` +
          `${report.templatesChecked} ${options.all ? '' : 'kiosk-enrolled '}template(s) checked`,
      );
    });
  });
  return roster;
}

function parsePercent(value: string): number {
  const p = Number(value);
  if (value.trim() === '' || !Number.isFinite(p) || p < 0 || p > 100) throw new InvalidArgumentError('a share in % from 0 to 100, e.g. 10');
  return p;
}

function parseThreshold(value: string): number {
  const t = Number(value);
  if (!Number.isFinite(t) || t <= 0 || t > 2) throw new InvalidArgumentError('a distance between 0 and 2, e.g. 0.55');
  return t;
}
