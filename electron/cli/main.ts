import { Command, CommanderError } from 'commander';
import { installNodeLogSink } from '../logging.js';
import { reportFailure } from './failure.js';
import { centralCommand } from './commands/central.js';
import { dbCommand } from './commands/db.js';
import { evalFacesCommand } from './commands/eval-faces.js';
import { rosterCommand } from './commands/roster.js';
import { searchCommand } from './commands/search.js';
import { employeeCommand } from './commands/employee.js';
import { enrollCommand } from './commands/enroll.js';
import { kioskCommand } from './commands/kiosk.js';
import { reportCommand } from './commands/report.js';
import { snapshotsCommand } from './commands/snapshots.js';
import { startCommand } from './commands/start.js';
import { supervisorCommand } from './commands/supervisor.js';
import { punchCommand } from './commands/punch.js';
import { correctionCommand } from './commands/correction.js';
import { timesheetCommand } from './commands/timesheet.js';
import { rulesCommand } from './commands/rules.js';
import { scheduleCommand } from './commands/schedule.js';
import { auditCommand } from './commands/audit.js';
import { consoleCommand } from './commands/console.js';

/** Exit codes: 0 ok, 1 the operation failed, 2 the command line was wrong (as in most Unix tools). */
export const EXIT_USAGE = 2;

const USAGE_ERRORS = new Set([
  'commander.unknownCommand',
  'commander.unknownOption',
  'commander.missingArgument',
  'commander.optionMissingArgument',
  'commander.missingMandatoryOptionValue',
  'commander.excessArguments',
  'commander.invalidArgument',
  'commander.conflictingOption',
  // A group command (`db`) run without its subcommand: commander prints the group's help.
  'commander.help',
]);

export function buildProgram(): Command {
  const program = new Command('clockface')
    .description('Clockface: face-recognition attendance. Central database, kiosks and IT tooling.')
    .version(process.env['npm_package_version'] ?? '0.1.0');

  program.addCommand(startCommand());
  program.addCommand(centralCommand());
  program.addCommand(dbCommand());
  program.addCommand(evalFacesCommand());
  program.addCommand(rosterCommand());
  program.addCommand(searchCommand());
  program.addCommand(enrollCommand());
  program.addCommand(employeeCommand());
  program.addCommand(kioskCommand());
  program.addCommand(reportCommand());
  program.addCommand(timesheetCommand());
  program.addCommand(punchCommand());
  program.addCommand(correctionCommand());
  program.addCommand(rulesCommand());
  program.addCommand(scheduleCommand());
  program.addCommand(supervisorCommand());
  program.addCommand(auditCommand());
  program.addCommand(snapshotsCommand());
  program.addCommand(consoleCommand());

  // Commands built with `new Command` do not inherit settings, so apply them to the whole tree.
  const configure = (command: Command): void => {
    command.exitOverride().showHelpAfterError(true).showSuggestionAfterError(true);
    command.commands.forEach(configure);
  };
  configure(program);

  return program;
}

/** Runs the CLI. Resolves once the command's work is done (long-running servers keep the process alive). */
export async function runCli(argv: string[]): Promise<void> {
  installNodeLogSink();
  const program = buildProgram();
  if (argv.length <= 2) {
    program.outputHelp({ error: true });
    process.exitCode = EXIT_USAGE;
    return;
  }
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version were already printed by commander; usage errors get exit code 2.
      process.exitCode = USAGE_ERRORS.has(e.code) ? EXIT_USAGE : e.exitCode;
      return;
    }
    reportFailure(e);
    process.exitCode = 1;
  }
}
