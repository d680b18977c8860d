import { Command, Option } from 'commander';
import { decideCorrection, listCorrections, type CorrectionListing } from '../../timesheets/corrections.js';
import { localTime } from '../../timesheets/timesheet-view.js';
import { withCentralOption, type CentralOptions } from '../central-option.js';
import { printJson, printLine } from '../output.js';
import { withCentralForStaff } from './timesheet-format.js';

function describe(c: CorrectionListing): string {
  const local = (iso: string | null) => (iso ? localTime(new Date(iso), c.timeZone) : '?');
  const what =
    c.kind === 'add'
      ? `add ${c.direction?.toUpperCase() ?? ''} at ${local(c.at)}`
      : c.kind === 'move'
        ? `move ${c.direction?.toUpperCase() ?? 'punch'}${c.punchAt ? ` of ${local(c.punchAt)}` : ''} to ${local(c.at)}`
        : `void ${c.direction?.toUpperCase() ?? 'punch'}${c.punchAt ? ` of ${local(c.punchAt)}` : ''}`;
  const decided = c.decidedBy ? ` by ${c.decidedBy}${c.decisionReason ? ` ("${c.decisionReason}")` : ''}` : '';
  return `${c.id}  ${c.status}${decided}  ${c.employeeNo} (${c.fullName}), site ${c.site}: ${what}; punch ${c.punchId}; asked by ${c.requestedBy} at ${c.requestedAt}: "${c.reason}"`;
}

export function correctionCommand(): Command {
  const correction = new Command('correction').description('corrections of punches: list, approve, reject');

  withCentralOption(
    correction
      .command('list')
      .description('corrections, oldest first (the newest 1000 by default)')
      .option('--site <code>', 'only employees of this site')
      .addOption(new Option('--status <status>', 'only this status').choices(['pending', 'approved', 'rejected']))
      .option('--employee <employee-no>', 'only this employee')
      .option('--json', 'print JSON'),
  ).action(async (options: CentralOptions & { site?: string; status?: string; employee?: string; json?: boolean }) => {
    await withCentralForStaff(options, async (client) => {
      const list = await listCorrections(client, {
        ...(options.site !== undefined ? { site: options.site } : {}),
        ...(options.status !== undefined ? { status: options.status } : {}),
        ...(options.employee !== undefined ? { employeeNo: options.employee } : {}),
      });
      if (options.json) printJson(list);
      else printLine(list.length === 0 ? 'no corrections' : list.map(describe).join('\n'));
    });
  });

  for (const [name, approve, description] of [
    ['approve', true, 'approve a pending correction (under the two-person rule, not one you asked for)'],
    ['reject', false, 'reject a pending correction: it stays on record and changes nothing'],
  ] as const) {
    withCentralOption(
      correction
        .command(name)
        .description(description)
        .argument('<id>', 'correction id (as `clockface correction list` shows it)')
        .option('--reason <text>', 'why (kept with the decision and in the audit log)')
        .option('--json', 'print { id, status } as JSON'),
    ).action(async (id: string, options: CentralOptions & { reason?: string; json?: boolean }) => {
      await withCentralForStaff(options, async (client) => {
        const decided = await decideCorrection(client, { id, approve, ...(options.reason !== undefined ? { reason: options.reason } : {}) });
        if (options.json) printJson(decided);
        else printLine(`correction ${decided.id} ${decided.status}`);
      });
    });
  }
  return correction;
}
