import { Command } from 'commander';
import { ClockfaceError } from '../../../shared/errors.js';
import { readJsonObjectFile, setSchedule, showSchedule, type ScheduleOwner, type ScheduleView } from '../../timesheets/site-settings.js';
import { withCentralOption, type CentralOptions } from '../central-option.js';
import { printJson, printLine } from '../output.js';
import { describeSchedule, withCentralForStaff } from './timesheet-format.js';

type OwnerOptions = CentralOptions & { site?: string; employee?: string; json?: boolean };

function ownerOf(options: OwnerOptions): ScheduleOwner {
  if ((options.site === undefined) === (options.employee === undefined)) {
    throw new ClockfaceError('INVALID_ARGUMENT', 'give either --site or --employee');
  }
  return options.site !== undefined ? { site: options.site } : { employeeNo: options.employee ?? '' };
}

function print(view: ScheduleView, json: boolean | undefined): void {
  if (json) {
    printJson(view);
    return;
  }
  if (view.employeeNo === null) {
    printLine(`site ${view.site ?? ''}: ${describeSchedule(view.schedule)}`);
    return;
  }
  printLine(
    `employee ${view.employeeNo}: own schedule ${describeSchedule(view.schedule)}; in force: ${describeSchedule(view.effective)}` +
      ` (${view.source === 'employee' ? 'their own' : view.source === 'site' ? `site ${view.site ?? ''}'s` : 'none'})`,
  );
}

export function scheduleCommand(): Command {
  const schedule = new Command('schedule').description('scheduled shifts, for late, left early and absent: a site\'s, or one employee\'s');

  withCentralOption(
    schedule
      .command('set')
      .description('set (or --clear) the week schedule of a site or of one employee; checked before anything is written')
      .argument('[file]', 'JSON object of weekdays: { "monday": { "start": "08:00", "end": "16:30" }, … }')
      .option('--site <code>', "the site's schedule (its employees' default)")
      .option('--employee <employee-no>', "one employee's schedule (instead of the site's)")
      .option('--clear', 'remove the schedule (an employee then follows the site\'s)')
      .option('--json', 'print the schedule now in force as JSON'),
  ).action(async (file: string | undefined, options: OwnerOptions & { clear?: boolean }) => {
    const owner = ownerOf(options);
    if ((file === undefined) === !options.clear) throw new ClockfaceError('INVALID_ARGUMENT', 'give either a FILE or --clear');
    const value = file === undefined ? null : { path: file, value: readJsonObjectFile(file) };
    await withCentralForStaff(options, async (client) => print(await setSchedule(client, owner, value), options.json));
  });

  withCentralOption(
    schedule
      .command('show')
      .description('the week schedule of a site, or the one in force for an employee')
      .option('--site <code>', 'a site')
      .option('--employee <employee-no>', 'an employee')
      .option('--json', 'print JSON'),
  ).action(async (options: OwnerOptions) => {
    const owner = ownerOf(options);
    await withCentralForStaff(options, async (client) => print(await showSchedule(client, owner), options.json));
  });
  return schedule;
}
