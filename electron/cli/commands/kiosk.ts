import { Command } from 'commander';
import { registerKiosk, revokeKiosk } from '../../central/kiosk-registry.js';
import { describeClockOffset } from '../../../shared/kiosk/clock-offset.js';
import { addKioskDeviceCommands } from './kiosk-device.js';
import { withCentral, withCentralOption, type CentralOptions } from '../central-option.js';

export function kioskCommand(): Command {
  const kiosk = new Command('kiosk').description('kiosks: register, list, revoke');

  withCentralOption(
    kiosk
      .command('add')
      .description("register a kiosk and create its own database login; prints its connection settings once")
      .argument('<name>', 'kiosk name (letters, digits, _ . -)')
      .requiredOption('--site <code>', 'the site it stands at')
      .option('--json', 'print the settings as JSON (for `clockface kiosk init`)'),
  ).action(async (name: string, options: CentralOptions & { site: string; json?: boolean }) => {
    await withCentral(options, async (client, target) => {
      const { id, settings } = await registerKiosk(client, target.url, { name, site: options.site });
      if (options.json) {
        console.log(JSON.stringify({ ...settings, kioskId: id }, null, 2));
      } else {
        console.log(`kiosk ${settings.kioskName} registered at site ${settings.site}, database role ${settings.roleName}`);
        console.log(`connection URL (shown once; central keeps only a verifier): ${settings.url}`);
      }
    });
  });

  withCentralOption(kiosk.command('list').description('list kiosks').option('--json', 'print JSON')).action(
    async (options: CentralOptions & { json?: boolean }) => {
      await withCentral(options, async (client) => {
        const { rows } = await client.query<{
          name: string;
          site: string;
          role_name: string;
          created_at: Date;
          last_seen_at: Date | null;
          app_version: string | null;
          clock_offset_ms: number | null;
          revoked_at: Date | null;
        }>(
          `SELECT name, site, role_name, created_at, last_seen_at, app_version, clock_offset_ms::float8 AS clock_offset_ms, revoked_at
           FROM kiosks ORDER BY name`,
        );
        if (options.json) {
          console.log(JSON.stringify(rows, null, 2));
          return;
        }
        if (rows.length === 0) console.log('no kiosks registered');
        for (const k of rows) {
          const seen = k.last_seen_at ? `last seen ${k.last_seen_at.toISOString()}` : 'never seen';
          const state = k.revoked_at ? `REVOKED ${k.revoked_at.toISOString()}` : seen;
          // As measured at the last heartbeat: a kiosk clock that is off shows here before anyone reads a report.
          const clock = k.clock_offset_ms === null ? '' : `  clock ${describeClockOffset(k.clock_offset_ms)}`;
          console.log(`${k.name}  site ${k.site}  ${state}${k.app_version ? `  v${k.app_version}` : ''}${clock}`);
        }
      });
    },
  );

  withCentralOption(
    kiosk.command('revoke').description('stop a kiosk from logging in; its punches stay').argument('<name>', 'kiosk name'),
  ).action(async (name: string, options: CentralOptions) => {
    await withCentral(options, async (client) => {
      await revokeKiosk(client, name);
      console.log(`kiosk ${name} revoked: its login is disabled and its open sessions ended`);
    });
  });
  addKioskDeviceCommands(kiosk);
  return kiosk;
}
