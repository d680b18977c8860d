import { Option, type Command } from 'commander';
import { resolveCentralUrl, type CentralTarget } from '../config/central-url.js';
import { connectCentral } from '../central/connect.js';
import { requireMigrated } from '../central/migrate.js';
import type pg from 'pg';

export interface CentralOptions {
  databaseUrl?: string;
}

/** Every command that talks to central takes the same option, with the same fallbacks. */
export function withCentralOption(command: Command): Command {
  return command.addOption(
    new Option('--database-url <url>', 'central PostgreSQL URL (default: $CLOCKFACE_DATABASE_URL, else the embedded central)'),
  );
}

/**
 * Connects, refuses a database whose schema is not exactly this build's (unless `schema: 'any'`, for the `db`
 * commands that inspect or fix it), runs `body`, and always closes the connection.
 */
export async function withCentral<T>(
  options: CentralOptions,
  body: (client: pg.Client, target: CentralTarget) => Promise<T>,
  check: { schema: 'current' | 'any' } = { schema: 'current' },
): Promise<T> {
  const target = resolveCentralUrl(options.databaseUrl);
  const client = await connectCentral(target, { applicationName: 'clockface-cli' });
  try {
    if (check.schema === 'current') await requireMigrated(client);
    return await body(client, target);
  } finally {
    await client.end();
  }
}
