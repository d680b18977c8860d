import { Command } from 'commander';
import {
  eraseEmployee,
  listEmployees,
  setActive,
  showEmployee,
  type EmployeeDetails,
} from '../../roster/employee-admin.js';
import { withCentral, withCentralOption, type CentralOptions } from '../central-option.js';
import { isoTime, printJson, printLine } from '../output.js';

function line(e: EmployeeDetails): string {
  const state = e.erasedAt ? 'erased' : e.active ? 'active' : 'inactive';
  return `${e.employeeNo}  ${e.fullName}  ${e.site}${e.department ? `/${e.department}` : ''}  ${state}  ${e.templates === null ? '(templates not visible to this login)' : `${e.templates} templates`}`;
}

export function employeeCommand(): Command {
  const employee = new Command('employee').description('employees: list, show, deactivate, activate, erase');

  withCentralOption(
    employee
      .command('list')
      .description('list employees')
      .option('--site <code>', 'only this site')
      .option('--all', 'include inactive employees')
      .option('--json', 'print JSON'),
  ).action(async (options: CentralOptions & { site?: string; all?: boolean; json?: boolean }) => {
    await withCentral(options, async (client) => {
      const list = await listEmployees(client, {
        includeInactive: options.all ?? false,
        ...(options.site !== undefined ? { site: options.site } : {}),
      });
      if (options.json) printJson(list);
      else printLine(list.length === 0 ? 'no employees' : list.map(line).join('\n'));
    });
  });

  withCentralOption(
    employee.command('show').description('one employee').argument('<employee-no>').option('--json', 'print JSON'),
  ).action(async (no: string, options: CentralOptions & { json?: boolean }) => {
    await withCentral(options, async (client) => {
      const e = await showEmployee(client, no);
      if (options.json) {
        printJson(e);
        return;
      }
      printLine(
        [
          line(e),
          `PIN: ${e.pinSet === null ? 'not visible to this login' : e.pinSet ? 'set' : 'none'}; punches: ${e.punches}${e.lastPunchAt ? `, last ${isoTime(e.lastPunchAt)}` : ''}`,
          e.erasedAt ? `biometric data erased ${isoTime(e.erasedAt)}` : '',
        ]
          .filter(Boolean)
          .join('\n'),
      );
    });
  });

  for (const [name, active, description] of [
    ['deactivate', false, 'stop recognising an employee (kiosks drop them at their next sync); data is kept'],
    ['activate', true, 'recognise a deactivated employee again'],
  ] as const) {
    withCentralOption(employee.command(name).description(description).argument('<employee-no>')).action(
      async (no: string, options: CentralOptions) => {
        await withCentral(options, async (client) => {
          await setActive(client, no, active);
          printLine(`${no} ${active ? 'activated' : 'deactivated'}`);
        });
      },
    );
  }

  withCentralOption(
    employee
      .command('erase')
      .description('right to erasure: delete face templates, PIN and snapshots everywhere; punches stay for payroll')
      .argument('<employee-no>'),
  ).action(async (no: string, options: CentralOptions) => {
    await withCentral(options, async (client) => {
      const r = await eraseEmployee(client, no);
      printLine(
        `${no}: ${r.templatesDeleted} face templates, ${r.snapshotsDeleted} snapshots deleted` +
          `${r.pinCleared ? ', PIN cleared' : ''}; kiosk caches drop them at their next sync`,
      );
    });
  });
  return employee;
}
