import { writeFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { stringify } from 'csv-stringify/sync';
import { hoursReport, type HoursRow } from '../../reports/hours-report.js';
import { DAY_FLAGS } from '../../../shared/timesheet/index.js';
import { payrollReport, type PayrollRow } from '../../timesheets/timesheet-view.js';
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

/** Minutes as hours with two decimals, for payroll's spreadsheet. */
const hours = (minutes: number) => (minutes / 60).toFixed(2);

function payrollCsv(rows: readonly PayrollRow[]): string {
  return stringify(
    rows.map((r) =>
      [
        r.employeeNo,
        r.fullName,
        r.site,
        String(r.daysWorked),
        String(r.regularMinutes),
        String(r.dailyOvertimeMinutes),
        String(r.weeklyOvertimeMinutes),
        String(r.totalMinutes),
        hours(r.regularMinutes),
        hours(r.dailyOvertimeMinutes + r.weeklyOvertimeMinutes),
        hours(r.totalMinutes),
        String(Math.round(r.breakMinutes)),
        ...DAY_FLAGS.map((f) => String(r.flags[f])),
      ].map(spreadsheetSafe),
    ),
    {
      header: true,
      columns: [
        'employee_no',
        'full_name',
        'site',
        'days_worked',
        'regular_minutes',
        'daily_overtime_minutes',
        'weekly_overtime_minutes',
        'total_minutes',
        'regular_hours',
        'overtime_hours',
        'total_hours',
        'break_minutes',
        ...DAY_FLAGS.map((f) => `${f}_days`),
      ],
    },
  );
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
      emit(options, rows, () => toCsv(rows));
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
