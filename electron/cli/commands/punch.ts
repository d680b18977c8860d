import { Command } from 'commander';
import { addPunch, movePunch, voidPunch, type CorrectionOutcome } from '../../timesheets/corrections.js';
import { withCentralOption, type CentralOptions } from '../central-option.js';
import { printJson, printLine } from '../output.js';
import { describeOutcome, withCentralForStaff } from './timesheet-format.js';

const AT_HELP = 'ISO time: without an offset it is read on the wall clock of the employee\'s site (2026-03-10T18:00), else as given (2026-03-10T17:00Z)';

function print(outcome: CorrectionOutcome, what: string, json: boolean | undefined): void {
  if (json) printJson({ id: outcome.id, status: outcome.status, ...(outcome.punchId ? { punchId: outcome.punchId } : {}) });
  else printLine(describeOutcome(what, outcome));
}

export function punchCommand(): Command {
  const punch = new Command('punch').description('correct punches: add a forgotten one, move one, void one (each with a reason, audited)');

  withCentralOption(
    punch
      .command('add')
      .description('add a punch someone forgot (a missing OUT); approved at once unless the site has the two-person rule')
      .argument('<employee-no>', 'employee number')
      .requiredOption('--direction <in|out>', 'in or out')
      .requiredOption('--at <iso-time>', AT_HELP)
      .requiredOption('--reason <text>', 'why (kept with the correction and in the audit log)')
      .option('--json', 'print { id, status, punchId } as JSON'),
  ).action(async (employeeNo: string, options: CentralOptions & { direction: string; at: string; reason: string; json?: boolean }) => {
    await withCentralForStaff(options, async (client) => {
      const outcome = await addPunch(client, { employeeNo, direction: options.direction, at: options.at, reason: options.reason });
      print(outcome, `${options.direction.toUpperCase()} added for ${employeeNo}`, options.json);
    });
  });

  withCentralOption(
    punch
      .command('move')
      .description('move a punch to another time (the kiosk punch stays as evidence)')
      .argument('<punch-id>', 'the punch (as `clockface timesheet` shows it)')
      .requiredOption('--at <iso-time>', AT_HELP)
      .requiredOption('--reason <text>', 'why (kept with the correction and in the audit log)')
      .option('--json', 'print { id, status } as JSON'),
  ).action(async (punchId: string, options: CentralOptions & { at: string; reason: string; json?: boolean }) => {
    await withCentralForStaff(options, async (client) => {
      const outcome = await movePunch(client, { punchId, at: options.at, reason: options.reason });
      print(outcome, `punch ${punchId}${outcome.employeeNo ? ` of ${outcome.employeeNo}` : ''} moved`, options.json);
    });
  });

  withCentralOption(
    punch
      .command('void')
      .description('void a punch (a double punch, someone else): it stays, and stops counting')
      .argument('<punch-id>', 'the punch (as `clockface timesheet` shows it)')
      .requiredOption('--reason <text>', 'why (kept with the correction and in the audit log)')
      .option('--json', 'print { id, status } as JSON'),
  ).action(async (punchId: string, options: CentralOptions & { reason: string; json?: boolean }) => {
    await withCentralForStaff(options, async (client) => {
      const outcome = await voidPunch(client, { punchId, reason: options.reason });
      print(outcome, `punch ${punchId}${outcome.employeeNo ? ` of ${outcome.employeeNo}` : ''} voided`, options.json);
    });
  });
  return punch;
}
