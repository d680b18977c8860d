import { Command, Option } from 'commander';
import { DEFAULT_EMBEDDED_HOST, embeddedPort } from '../../config/central-url.js';
import { defaultEmbeddedCentralDir } from '../../config/paths.js';
import { startMigratedEmbeddedCentral, stopOnSignal } from '../../central/serve-embedded.js';
import { parsePort } from '../parse.js';
import { printLine } from '../output.js';

interface StartOptions {
  port: number;
  host: string;
  dataDir?: string;
  memory?: boolean;
  migrate: boolean;
}

export function centralCommand(): Command {
  const central = new Command('central').description('the embedded central database (PGlite + pgvector)');

  central
    .command('start')
    .description('run the embedded central database until Ctrl-C; clients connect with any PostgreSQL driver')
    .addOption(new Option('--port <port>', 'TCP port to listen on').default(embeddedPort()).argParser(parsePort))
    .addOption(new Option('--host <host>', 'address to bind').default(DEFAULT_EMBEDDED_HOST))
    .addOption(new Option('--data-dir <dir>', `database folder (default: ${defaultEmbeddedCentralDir()})`))
    .addOption(new Option('--memory', 'keep the database in memory only (lost on exit)').conflicts('dataDir'))
    .option('--no-migrate', 'do not apply pending schema migrations at start')
    .action(async (options: StartOptions) => {
      const dataDir = options.memory ? null : (options.dataDir ?? defaultEmbeddedCentralDir());
      const { central: running, schemaVersion } = await startMigratedEmbeddedCentral({
        dataDir,
        port: options.port,
        host: options.host,
        migrate: options.migrate,
      });
      printLine(`embedded central listening on ${running.host}:${running.port}`);
      printLine(`  data:   ${dataDir ?? 'in memory (lost on exit)'}`);
      printLine(`  schema: ${schemaVersion === null ? 'not migrated (--no-migrate)' : `version ${schemaVersion}`}`);
      printLine(`  url:    ${running.url}`);
      if (running.port !== embeddedPort() || running.host !== DEFAULT_EMBEDDED_HOST) {
        printLine(`  other shells: export CLOCKFACE_DATABASE_URL=${running.url}`);
      }
      printLine('Press Ctrl-C to stop.');
      stopOnSignal(running, () => printLine('embedded central stopped'));
    });

  return central;
}
