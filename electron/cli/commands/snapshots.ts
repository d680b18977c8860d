import { Command, InvalidArgumentError, Option } from 'commander';
import { withCentral, withCentralOption, type CentralOptions } from '../central-option.js';
import { printLine } from '../output.js';

function parseDays(value: string): number {
  const days = Number(value);
  if (!Number.isInteger(days) || days < 0 || days > 3650) throw new InvalidArgumentError('expected whole days from 0 to 3650');
  return days;
}

/**
 * `snapshots purge`: audit snapshots are kept on central only as long as the retention period (run it daily, e.g.
 * from cron). Erasing an employee removes theirs at once regardless.
 */
export function snapshotsCommand(): Command {
  const snapshots = new Command('snapshots').description('audit snapshots on central (only kiosks set to take them make any)');
  withCentralOption(
    snapshots
      .command('purge')
      .description('delete audit snapshots older than the retention period')
      .addOption(new Option('--keep-days <n>', 'retention in days').default(30).argParser(parseDays))
      .option('--json', 'print JSON'),
  ).action(async (options: CentralOptions & { keepDays: number; json?: boolean }) => {
    await withCentral(options, async (client) => {
      const result = await client.query(
        "DELETE FROM punch_snapshots WHERE created_at < now() - make_interval(days => $1)",
        [options.keepDays],
      );
      const remaining = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM punch_snapshots');
      const summary = { deleted: result.rowCount ?? 0, remaining: remaining.rows[0]?.n ?? 0, keepDays: options.keepDays };
      if (options.json) printLine(JSON.stringify(summary));
      else printLine(`${summary.deleted} audit snapshots older than ${summary.keepDays} days deleted; ${summary.remaining} kept`);
    });
  });
  return snapshots;
}
