import { Command } from 'commander';
import { migrateCentral } from '../../central/migrate.js';
import { centralStatus, type CentralStatus } from '../../central/status.js';
import { redactUrl } from '../../config/central-url.js';
import { withCentral, withCentralOption, type CentralOptions } from '../central-option.js';

function printStatus(url: string, s: CentralStatus): void {
  const lines = [
    `central:          ${url}`,
    `server:           ${s.server}`,
    `pgvector:         ${s.pgvector ?? 'not installed in this database'}`,
    `schema version:   ${s.schemaVersion} (this build: ${s.latestKnownVersion}, pending: ${s.pendingMigrations})`,
  ];
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
  console.log(lines.join('\n'));
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
        console.log(`central ${where} is up to date at schema version ${result.version}; nothing applied`);
      } else {
        for (const m of result.applied) console.log(`applied ${String(m.version).padStart(4, '0')}_${m.name}`);
        console.log(`central ${where} is now at schema version ${result.version}`);
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
      if (options.json) console.log(JSON.stringify({ url: redactUrl(target.url), ...status }, null, 2));
      else printStatus(redactUrl(target.url), status);
    }, { schema: 'any' });
  });

  return db;
}
