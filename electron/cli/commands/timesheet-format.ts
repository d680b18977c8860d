/**
 * How the timesheet commands print for people (the `--json` forms print the values as they are). Not a command:
 * shared by timesheet.ts, rules.ts, schedule.ts, punch.ts and correction.ts.
 */
import { hoursMinutes } from '../../timesheets/timesheet-view.js';
import type { Command } from 'commander';
import { requireMigrated } from '../../central/migrate.js';
import { sqlState } from '../../central/sql-errors.js';
import type { CentralTarget } from '../../config/central-url.js';
import { WEEKDAYS, type TimesheetRules, type WeekSchedule } from '../../../shared/timesheet/index.js';
import type { CorrectionOutcome } from '../../timesheets/corrections.js';
import { localTime, type DayView, type TimesheetView } from '../../timesheets/timesheet-view.js';
import { withCentral, type CentralOptions } from '../central-option.js';
import type pg from 'pg';

/**
 * `withCentral` for the timesheet commands, which a supervisor's login runs too (timesheet, punch, correction, audit,
 * rules, schedule). A supervisor may not read the migration ledger, so for it the schema check is skipped: central's
 * functions and row-level security still decide what it may do, and what it may not (`rules set`) is refused by
 * central in its own words ("only IT may change rules") rather than as a refused read of the ledger. Everyone else
 * gets the full check.
 */
export async function withCentralForStaff<T>(
  options: CentralOptions,
  body: (client: pg.Client, target: CentralTarget) => Promise<T>,
): Promise<T> {
  return withCentral(
    options,
    async (client, target) => {
      try {
        await requireMigrated(client);
      } catch (e) {
        if (sqlState(e) !== '42501') throw e;
      }
      return body(client, target);
    },
    { schema: 'any' },
  );
}

/** Commander's collector for an option given several times (`--site a --site b`). */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}


/** The rules in words, one clause each. */
export function describeRules(rules: TimesheetRules): string[] {
  return [
    rules.autoBreak
      ? `automatic unpaid break of ${rules.autoBreak.breakMinutes} min once a day's work passes ${hoursMinutes(rules.autoBreak.afterWorkedMinutes)} (unless one was taken)`
      : 'no automatic break',
    rules.rounding.toMinutes === 0 ? 'worked time to the whole minute' : `worked time rounded to the nearest ${rules.rounding.toMinutes} min`,
    rules.dailyOvertimeAfterMinutes === null ? 'no daily overtime' : `daily overtime after ${hoursMinutes(rules.dailyOvertimeAfterMinutes)}`,
    rules.weeklyOvertimeAfterMinutes === null ? 'no weekly overtime' : `weekly overtime after ${hoursMinutes(rules.weeklyOvertimeAfterMinutes)}`,
    `weeks start on ${WEEKDAYS[rules.weekStartsOn] ?? rules.weekStartsOn}`,
    `late after ${rules.graceLateMinutes} min of grace, left early ${rules.graceLeftEarlyMinutes} min before the end`,
    `an OUT more than ${hoursMinutes(rules.maxShiftMinutes)} after its IN is not paired`,
    rules.lowMarginDistance === null ? 'no low-margin flag' : `face matches at distance ${rules.lowMarginDistance} or more are flagged low_margin`,
  ];
}

export function describeSchedule(schedule: WeekSchedule | null): string {
  if (!schedule) return 'none';
  const days = WEEKDAYS.flatMap((day) => {
    const shift = schedule[day];
    return shift ? [`${day} ${shift.start}-${shift.end}`] : [];
  });
  return days.length === 0 ? 'no working days' : days.join(', ');
}

/** What a correction command prints: the id and status, and what the person should know next. */
export function describeOutcome(what: string, outcome: CorrectionOutcome): string {
  const when = outcome.at
    ? ` at ${outcome.readIn ? `${localTime(outcome.at, outcome.readIn)} (${outcome.readIn})` : outcome.at.toISOString()}`
    : '';
  const next = outcome.status === 'pending' ? ' (the site has the two-person rule: another login decides it with `clockface correction approve` or `reject`)' : '';
  return `correction ${outcome.id} ${outcome.status}: ${what}${when}${outcome.punchId ? `, punch ${outcome.punchId}` : ''}${next}`;
}

const COLUMNS = ['day       ', 'worked', ' break', '  paid', 'regular', 'overtime', 'flags'];

function dayLine(d: DayView): string {
  const empty = d.punches.length === 0 && d.flags.length === 0 && d.workedMinutes === 0;
  const figures = empty
    ? ['', '', '', '', '']
    : [d.workedMinutes, d.breakMinutes, d.roundedMinutes, d.regularMinutes, d.overtimeMinutes].map(hoursMinutes);
  const cells = [d.day, ...figures.map((f, i) => f.padStart((COLUMNS[i + 1] ?? '').length)), d.flags.join(' ')];
  return cells.join('  ').trimEnd();
}

/** The timesheet as a table: a line per day, then its punches, voided punches and corrections, then the totals. */
export function timesheetText(t: TimesheetView): string {
  const lines = [
    `timesheet of ${t.employeeNo} (${t.fullName}), site ${t.site} (${t.timeZone}), ${t.from} to ${t.to}`,
    `rules: ${describeRules(t.rules).join('; ')}; two-person rule ${t.secondApproval ? 'on' : 'off'}`,
    `schedule: ${describeSchedule(t.schedule)}`,
    '',
    COLUMNS.join('  '),
  ];
  for (const d of t.days) {
    lines.push(dayLine(d));
    if (d.scheduled) lines.push(`    scheduled ${d.scheduled.start} to ${d.scheduled.end}`);
    for (const p of d.punches) {
      const how =
        p.origin === 'added'
          ? `added by correction ${p.corrections.join(', ')}`
          : [
              p.method === 'face' ? `face${p.matchDistance === null ? '' : ` ${p.matchDistance.toFixed(2)}`}` : (p.method ?? ''),
              `kiosk ${p.kiosk ?? (p.kioskId === null ? 'none' : `#${p.kioskId}`)}`,
              p.origin === 'moved' ? `moved from ${p.originalLocal ?? '?'} by correction ${p.corrections.join(', ')}` : '',
            ]
              .filter(Boolean)
              .join(', ');
      lines.push(`    ${p.direction.toUpperCase().padEnd(3)} ${p.local}  ${how}  punch ${p.id}`);
    }
    for (const v of d.voidedPunches) {
      lines.push(`    ${v.direction.toUpperCase().padEnd(3)} ${v.local}  VOIDED by correction ${v.voidedBy}  punch ${v.id}`);
    }
    for (const c of d.corrections) {
      const what = c.kind === 'add' ? `add ${c.direction?.toUpperCase() ?? ''} at ${c.local ?? ''}` : c.kind === 'move' ? `move ${c.punchId} to ${c.local ?? ''}` : `void ${c.punchId}`;
      const decided = c.decidedBy ? ` by ${c.decidedBy}${c.decisionReason ? ` ("${c.decisionReason}")` : ''}` : '';
      lines.push(`    correction ${c.id}: ${what}, ${c.status}${decided}; asked by ${c.requestedBy}: "${c.reason}"`);
    }
  }
  const s = t.totals;
  const flags = Object.entries(s.flagDays)
    .filter(([, n]) => n > 0)
    .map(([flag, n]) => `${flag} ${n}`);
  lines.push(
    '',
    `total: ${s.daysWorked} day${s.daysWorked === 1 ? '' : 's'} worked; worked ${hoursMinutes(s.workedMinutes)}, break ${hoursMinutes(s.breakMinutes)}, ` +
      `paid ${hoursMinutes(s.roundedMinutes)} = regular ${hoursMinutes(s.regularMinutes)} + daily overtime ${hoursMinutes(s.dailyOvertimeMinutes)} ` +
      `+ weekly overtime ${hoursMinutes(s.weeklyOvertimeMinutes)}${flags.length ? `; flags: ${flags.join(', ')}` : ''}`,
  );
  for (const u of t.unappliedCorrections) {
    lines.push(`note: approved correction ${u.id} changed nothing (${u.reason.replace(/_/g, ' ')})`);
  }
  return lines.join('\n');
}

/** Adds `--json` to a command. */
export function withJson(command: Command, what = 'print JSON'): Command {
  return command.option('--json', what);
}
