import { Command } from 'commander';
import { employeeTimesheet } from '../../timesheets/timesheet-view.js';
import { withCentralOption, type CentralOptions } from '../central-option.js';
import { printJson, printLine } from '../output.js';
import { timesheetText, withCentralForStaff } from './timesheet-format.js';

export function timesheetCommand(): Command {
  return withCentralOption(
    new Command('timesheet')
      .description("one employee's days under the site's rules and schedule: punches, corrections, worked, break, regular, overtime, flags")
      .argument('<employee-no>', 'employee number')
      .requiredOption('--from <YYYY-MM-DD>', 'first day (site time zone)')
      .requiredOption('--to <YYYY-MM-DD>', 'last day, inclusive')
      .option('--json', 'print JSON: { employeeNo, days: [{ day, workedMinutes, breakMinutes, regularMinutes, overtimeMinutes, flags, punches, corrections, … }], totals, … }'),
  ).action(async (employeeNo: string, options: CentralOptions & { from: string; to: string; json?: boolean }) => {
    await withCentralForStaff(options, async (client) => {
      const sheet = await employeeTimesheet(client, employeeNo, { from: options.from, to: options.to });
      if (options.json) printJson(sheet);
      else printLine(timesheetText(sheet));
    });
  });
}
