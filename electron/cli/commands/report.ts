import { writeFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { hoursReport } from '../../reports/hours-report.js';
import { hoursCsv, payrollCsv } from '../../reports/report-csv.js';
import { payrollReport } from '../../timesheets/timesheet-view.js';
import { withCentralOption, type CentralOptions } from '../central-option.js';
import { withCentralForStaff } from './timesheet-format.js';
import { printError, safeJson, terminalSafe } from '../output.js';

interface ReportOptions extends CentralOptions {
  from: string;
  to: string;
  site?: string;
  format: 'csv' | 'json';
  out?: string;
  payroll?: boolean;
}

export function reportCommand(): Command {
  return withCentralOption(
    new Command('report')
      .description(
        'hours per employee per day: first in, last out, worked hours over in/out pairs, flags (approved corrections applied); ' +
          "--payroll: per employee for the period under each site's rules",
      )
      .requiredOption('--from <YYYY-MM-DD>', 'first day (site time zone)')
      .requiredOption('--to <YYYY-MM-DD>', 'last day, inclusive')
      .option('--site <code>', 'only this site')
      .addOption(new Option('--format <format>', 'output format').choices(['csv', 'json']).default('csv'))
      .option('--out <file>', 'write to a file instead of stdout')
      .option(
        '--payroll',
        "per employee for the period: days worked, regular, daily and weekly overtime, total, flag counts, under each site's rules and schedules",
      ),
  ).action(async (options: ReportOptions) => {
    // A supervisor's login runs it too, for its own sites (row-level security): see withCentralForStaff.
    await withCentralForStaff(options, async (client) => {
      if (options.payroll) {
        const rows = await payrollReport(client, {
          from: options.from,
          to: options.to,
          ...(options.site !== undefined ? { site: options.site } : {}),
        });
        const unapplied = rows.reduce((sum, r) => sum + r.unappliedCorrections, 0);
        if (unapplied > 0) printError(`note: ${unapplied} approved correction(s) changed nothing; \`clockface timesheet\` shows which`);
        emit(options, rows, () => payrollCsv(rows));
        return;
      }
      const rows = await hoursReport(client, {
        from: options.from,
        to: options.to,
        ...(options.site !== undefined ? { site: options.site } : {}),
      });
      emit(options, rows, () => hoursCsv(rows));
    });
  });
}

/** The rows to the file or stdout, as CSV or JSON. */
function emit(options: ReportOptions, rows: readonly unknown[], csv: () => string): void {
  if (options.out) {
    writeFileSync(options.out, options.format === 'json' ? `${JSON.stringify(rows, null, 2)}\n` : csv());
    printError(`${rows.length} rows written to ${options.out}`);
  } else {
    // On a terminal (or wherever stdout goes), names carry no control characters that a terminal would obey.
    process.stdout.write(options.format === 'json' ? `${safeJson(rows)}\n` : terminalSafe(csv()));
  }
}
