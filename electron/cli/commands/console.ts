import { Command, Option } from 'commander';
import { redactUrl } from '../../config/central-url.js';
import { isEmbeddedCentral } from '../../console/central-kind.js';
import { startConsoleServer, type ConsoleServer } from '../../console/server.js';
import type { ConsoleCentral } from '../../console/sign-in.js';
import { withCentral, withCentralOption } from '../central-option.js';
import { printLine } from '../output.js';
import { parsePort } from '../parse.js';

export const DEFAULT_CONSOLE_PORT = 5190;

interface ServeOptions {
  databaseUrl?: string;
  port: number;
  host: string;
  tlsCert?: string;
  tlsKey?: string;
  idleMinutes: string;
}

/**
 * Which central the console serves, and whether it is the embedded one. Connects once with the configured URL to
 * check the schema; the URL's own user and password are never used for a page (people sign in with theirs).
 */
export async function consoleCentral(databaseUrl: string | undefined): Promise<ConsoleCentral> {
  return withCentral(databaseUrl === undefined ? {} : { databaseUrl }, async (client, target) => {
    const embedded = await isEmbeddedCentral(client);
    const url = new URL(target.url);
    if (!embedded) {
      url.username = '';
      url.password = '';
    }
    return { url: url.toString(), embedded };
  });
}

/** Starts the console and says where it is. */
export async function serveConsole(central: ConsoleCentral, options: { host: string; port: number; tlsCert?: string; tlsKey?: string; idleMs?: number }): Promise<ConsoleServer> {
  const server = await startConsoleServer({
    central,
    host: options.host,
    port: options.port,
    ...(options.tlsCert && options.tlsKey ? { tls: { certFile: options.tlsCert, keyFile: options.tlsKey } } : {}),
    ...(options.idleMs ? { idleMs: options.idleMs } : {}),
  });
  return server;
}

export function consoleCommand(): Command {
  const command = new Command('console').description('the back office for supervisors, HR and IT (a web console)');
  withCentralOption(
    command
      .command('serve')
      .description('serve the back office until Ctrl-C; people sign in with their own central logins')
      .addOption(new Option('--port <port>', 'TCP port').default(DEFAULT_CONSOLE_PORT).argParser(parsePort))
      .addOption(new Option('--host <host>', 'address to bind (0.0.0.0 for other machines: then use TLS)').default('127.0.0.1'))
      .addOption(new Option('--tls-cert <file>', 'serve HTTPS with this certificate (PEM)'))
      .addOption(new Option('--tls-key <file>', 'the certificate\'s private key (PEM)'))
      .addOption(new Option('--idle-minutes <n>', 'sign people out after this long without use').default('30')),
  ).action(async (options: ServeOptions) => {
    if (Boolean(options.tlsCert) !== Boolean(options.tlsKey)) throw new Error('give both --tls-cert and --tls-key, or neither');
    const idle = Number(options.idleMinutes);
    if (!Number.isInteger(idle) || idle < 1 || idle > 24 * 60) throw new Error('--idle-minutes is a whole number from 1 to 1440');
    const central = await consoleCentral(options.databaseUrl);
    const server = await serveConsole(central, {
      host: options.host,
      port: options.port,
      idleMs: idle * 60_000,
      ...(options.tlsCert ? { tlsCert: options.tlsCert } : {}),
      ...(options.tlsKey ? { tlsKey: options.tlsKey } : {}),
    });
    printLine(`Back office (console): open ${server.url}`);
    printLine(
      central.embedded
        ? '  central: the embedded one (one admin account, chosen on first sign-in; supervisors need a PostgreSQL server)'
        : `  central: ${redactUrl(central.url)} (sign in with an IT or supervisor login)`,
    );
    await new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
    await server.close();
  });
  return command;
}
