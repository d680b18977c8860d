import { Command, InvalidArgumentError } from 'commander';
import { readAudit, type AuditEntry } from '../../timesheets/audit.js';
import { withCentralOption, type CentralOptions } from '../central-option.js';
import { printJson, printLine } from '../output.js';
import { withCentralForStaff } from './timesheet-format.js';

function describe(a: AuditEntry): string {
  const about = [a.site ? `site ${a.site}` : '', a.employeeNo ? `employee ${a.employeeNo}` : '', a.subject ?? ''].filter(Boolean).join(', ');
  return `${a.id}  ${a.at}  ${a.login}  ${a.kind}${about ? `  ${about}` : ''}${a.reason ? `: "${a.reason}"` : ''}`;
}

function parseLimit(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 100_000) throw new InvalidArgumentError('expected a whole number from 1 to 100000');
  return n;
}

export function auditCommand(): Command {
  return withCentralOption(
    new Command('audit')
      .description('central\'s audit log: corrections and decisions, rules and schedules, employees, kiosks, supervisors; who, when, what')
      .option('--employee <employee-no>', 'only rows about this employee')
      .option('--since <date|iso-time>', 'only rows from then on (a date is midnight UTC)')
      .option('--kind <kind>', 'only this kind (correction.approved), or family (correction)')
      .option('--site <code>', 'only rows about this site')
      .option('--limit <n>', 'the newest n rows (default 1000)', parseLimit)
      .option('--json', 'print JSON'),
  ).action(async (options: CentralOptions & { employee?: string; since?: string; kind?: string; site?: string; limit?: number; json?: boolean }) => {
    await withCentralForStaff(options, async (client) => {
      const rows = await readAudit(client, {
        ...(options.employee !== undefined ? { employeeNo: options.employee } : {}),
        ...(options.since !== undefined ? { since: options.since } : {}),
        ...(options.kind !== undefined ? { kind: options.kind } : {}),
        ...(options.site !== undefined ? { site: options.site } : {}),
        ...(options.limit !== undefined ? { limit: options.limit } : {}),
      });
      if (options.json) printJson(rows);
      else printLine(rows.length === 0 ? 'no audit rows' : rows.map(describe).join('\n'));
    });
  });
}
