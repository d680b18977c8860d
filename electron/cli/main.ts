import { Command, CommanderError } from 'commander';
import { installNodeLogSink } from '../logging.js';
import { reportFailure } from './failure.js';

/**
 * Every top-level command, loaded on demand: a command's module pulls in what it runs (the console's web server, the
 * kiosk, the face engine's helpers), and loading all of them cost every invocation about 2 s. `clockface timesheet …`
 * loads only the timesheet command; help and unknown commands load them all.
 */
const COMMANDS: Record<string, () => Promise<Command>> = {
  start: async () => (await import('./commands/start.js')).startCommand(),
  central: async () => (await import('./commands/central.js')).centralCommand(),
  db: async () => (await import('./commands/db.js')).dbCommand(),
  'eval-faces': async () => (await import('./commands/eval-faces.js')).evalFacesCommand(),
  roster: async () => (await import('./commands/roster.js')).rosterCommand(),
  search: async () => (await import('./commands/search.js')).searchCommand(),
  enroll: async () => (await import('./commands/enroll.js')).enrollCommand(),
  employee: async () => (await import('./commands/employee.js')).employeeCommand(),
  kiosk: async () => (await import('./commands/kiosk.js')).kioskCommand(),
  report: async () => (await import('./commands/report.js')).reportCommand(),
  timesheet: async () => (await import('./commands/timesheet.js')).timesheetCommand(),
  punch: async () => (await import('./commands/punch.js')).punchCommand(),
  correction: async () => (await import('./commands/correction.js')).correctionCommand(),
  rules: async () => (await import('./commands/rules.js')).rulesCommand(),
  schedule: async () => (await import('./commands/schedule.js')).scheduleCommand(),
  supervisor: async () => (await import('./commands/supervisor.js')).supervisorCommand(),
  audit: async () => (await import('./commands/audit.js')).auditCommand(),
  snapshots: async () => (await import('./commands/snapshots.js')).snapshotsCommand(),
  console: async () => (await import('./commands/console.js')).consoleCommand(),
};

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

/**
 * The program with every command, or only `only` when it names one (what `clockface only …` needs; the command's
 * own help and errors are complete, since each command file defines its whole subtree).
 */
export async function buildProgram(only?: string): Promise<Command> {
  const program = new Command('clockface')
    .description('Clockface: face-recognition attendance. Central database, kiosks and IT tooling.')
    .version(process.env['npm_package_version'] ?? '0.1.0');

  const names = only !== undefined && Object.hasOwn(COMMANDS, only) ? [only] : Object.keys(COMMANDS);
  for (const name of names) {
    const load = COMMANDS[name];
    if (load) program.addCommand(await load());
  }

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
  const program = await buildProgram(argv[2]);
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
