import { stringify } from 'csv-stringify/sync';
import { DAY_FLAGS } from '../../shared/timesheet/index.js';
import type { DailyRow, PayrollRow } from '../timesheets/timesheet-view.js';
import type { HoursRow } from './hours-report.js';

/** The CSV files payroll and HR open in a spreadsheet: one writer each, for the CLI and the console alike. */

/**
 * A cell that starts with = + - @ (or a tab or CR before one) is run as a formula when the report is opened in a
 * spreadsheet: a name like `=HYPERLINK(…)` typed into the roster would become a live link or command in payroll's
 * Excel (CSV injection). Such cells get a leading apostrophe, which spreadsheets show as text (OWASP's advice). The
 * JSON format stays byte-exact.
 */
export function spreadsheetSafe(cell: string): string {
  return /^[=+\-@\t\r]/.test(cell) ? `'${cell}` : cell;
}

export function hoursCsv(rows: readonly HoursRow[]): string {
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

export function payrollCsv(rows: readonly PayrollRow[]): string {
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


/** One row per person and day under the site's rules (the console's daily timesheet export). */
export function dailyCsv(rows: readonly DailyRow[]): string {
  return stringify(
    rows.map((r) =>
      [
        r.employeeNo,
        r.fullName,
        r.site,
        r.day,
        r.firstIn ?? '',
        r.lastOut ?? '',
        String(Math.round(r.workedMinutes)),
        String(Math.round(r.breakMinutes)),
        String(r.regularMinutes),
        String(r.overtimeMinutes),
        String(r.paidMinutes),
        hours(r.paidMinutes),
        r.flags.join(';'),
      ].map(spreadsheetSafe),
    ),
    {
      header: true,
      columns: ['employee_no', 'full_name', 'site', 'day', 'first_in', 'last_out', 'worked_minutes', 'break_minutes', 'regular_minutes', 'overtime_minutes', 'paid_minutes', 'paid_hours', 'flags'],
    },
  );
}
