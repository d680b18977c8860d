import { Command } from 'commander';
import { migrateCentral } from '../../central/migrate.js';
import { centralStatus, type CentralStatus } from '../../central/status.js';
import { redactUrl } from '../../config/central-url.js';
import { withCentral, withCentralOption, type CentralOptions } from '../central-option.js';
import { printJson, printLine } from '../output.js';

function printStatus(url: string, s: CentralStatus): void {
  const lines = [
    `central:          ${url}`,
    `server:           ${s.server}`,
    `pgvector:         ${s.pgvector ?? 'not installed in this database'}`,
    `schema version:   ${s.schemaVersion} (this build: ${s.latestKnownVersion}, pending: ${s.pendingMigrations})`,
  ];
  if (s.roles) {
    lines.push(
      `IT group:         ${s.roles.admin} (grant it to IT logins; they need no CREATEROLE)`,
      `kiosk group:      ${s.roles.kiosk}`,
    );
    if (s.roles.adminsWithCreaterole.length > 0) {
      lines.push(
        `WARNING:          ${s.roles.adminsWithCreaterole.join(', ')} can create roles, which on PostgreSQL 15 reaches superuser; ` +
          'ALTER ROLE … NOCREATEROLE (docs/security.md)',
      );
    }
  }
  if (s.counts) {
    lines.push(
      `sites:            ${s.counts.sites}`,
      `employees:        ${s.counts.employeesActive} active, ${s.counts.employeesInactive} inactive`,
      `face templates:   ${s.counts.faceTemplates}`,
      `kiosks:           ${s.counts.kiosks}`,
      `punches:          ${s.counts.punches}`,
      `roster changes:   ${s.counts.rosterChanges}`,
    );
  } else {
    lines.push('schema:           not created yet: run `npx clockface db migrate`');
  }
  printLine(lines.join('\n'));
}

export function dbCommand(): Command {
  const db = new Command('db').description('central database schema: migrate and inspect');

  withCentralOption(
    db
      .command('migrate')
      .description('apply pending schema migrations to central (idempotent; refuses a newer database)'),
  ).action(async (options: CentralOptions) => {
    await withCentral(options, async (client, target) => {
      const result = await migrateCentral(client);
      const where = redactUrl(target.url);
      if (result.applied.length === 0) {
        printLine(`central ${where} is up to date at schema version ${result.version}; nothing applied`);
      } else {
        for (const m of result.applied) printLine(`applied ${String(m.version).padStart(4, '0')}_${m.name}`);
        printLine(`central ${where} is now at schema version ${result.version}`);
      }
    }, { schema: 'any' });
  });

  withCentralOption(
    db
      .command('status')
      .description('show the schema version and row counts of central')
      .option('--json', 'print machine-readable JSON'),
  ).action(async (options: CentralOptions & { json?: boolean }) => {
    await withCentral(options, async (client, target) => {
      const status = await centralStatus(client);
      if (options.json) printJson({ url: redactUrl(target.url), ...status });
      else printStatus(redactUrl(target.url), status);
    }, { schema: 'any' });
  });

  return db;
}
