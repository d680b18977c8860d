import { writeFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { stringify } from 'csv-stringify/sync';
import { hoursReport, type HoursRow } from '../../reports/hours-report.js';
import { withCentral, withCentralOption, type CentralOptions } from '../central-option.js';
import { printError, safeJson, terminalSafe } from '../output.js';

interface ReportOptions extends CentralOptions {
  from: string;
  to: string;
  site?: string;
  format: 'csv' | 'json';
  out?: string;
}

/**
 * A cell that starts with = + - @ (or a tab or CR before one) is run as a formula when the report is opened in a
 * spreadsheet: a name like `=HYPERLINK(…)` typed into the roster would become a live link or command in payroll's
 * Excel (CSV injection). Such cells get a leading apostrophe, which spreadsheets show as text (OWASP's advice). The
 * JSON format stays byte-exact.
 */
function spreadsheetSafe(cell: string): string {
  return /^[=+\-@\t\r]/.test(cell) ? `'${cell}` : cell;
}

function toCsv(rows: readonly HoursRow[]): string {
  return stringify(
    rows.map((r) =>
      [r.employeeNo, r.fullName, r.site, r.day, r.firstIn ?? '', r.lastOut ?? '', r.workedHours.toFixed(2), r.flags.join(';')].map(
        spreadsheetSafe,
      ),
    ),
    { header: true, columns: ['employee_no', 'full_name', 'site', 'day', 'first_in', 'last_out', 'worked_hours', 'flags'] },
  );
}

export function reportCommand(): Command {
  return withCentralOption(
    new Command('report')
      .description('hours per employee per day: first in, last out, worked hours over in/out pairs, flags')
      .requiredOption('--from <YYYY-MM-DD>', 'first day (site time zone)')
      .requiredOption('--to <YYYY-MM-DD>', 'last day, inclusive')
      .option('--site <code>', 'only this site')
      .addOption(new Option('--format <format>', 'output format').choices(['csv', 'json']).default('csv'))
      .option('--out <file>', 'write to a file instead of stdout'),
  ).action(async (options: ReportOptions) => {
    await withCentral(options, async (client) => {
      const rows = await hoursReport(client, {
        from: options.from,
        to: options.to,
        ...(options.site !== undefined ? { site: options.site } : {}),
      });
      if (options.out) {
        writeFileSync(options.out, options.format === 'json' ? `${JSON.stringify(rows, null, 2)}\n` : toCsv(rows));
        printError(`${rows.length} rows written to ${options.out}`);
      } else {
        // On a terminal (or wherever stdout goes), names carry no control characters that a terminal would obey.
        process.stdout.write(options.format === 'json' ? `${safeJson(rows)}\n` : terminalSafe(toCsv(rows)));
      }
    });
  });
}
