import { Command } from 'commander';
import { DEFAULT_EMBEDDED_HOST, embeddedPort, redactUrl } from '../../config/central-url.js';
import { defaultEmbeddedCentralDir } from '../../config/paths.js';
import { startMigratedEmbeddedCentral, stopOnSignal } from '../../central/serve-embedded.js';
import { migrateCentral } from '../../central/migrate.js';
import { withCentral } from '../central-option.js';

/**
 * `npm start`: everything a single kiosk needs on one machine. Today that is the central database (embedded, or
 * the server named by CLOCKFACE_DATABASE_URL) with its schema up to date; the kiosk window joins it in a later
 * version (see README "Status").
 */
export function startCommand(): Command {
  return new Command('start')
    .description('start Clockface on this machine: the embedded central (unless CLOCKFACE_DATABASE_URL is set)')
    .action(async () => {
      const external = process.env['CLOCKFACE_DATABASE_URL'];
      if (external) {
        await withCentral(
          {},
          async (client, target) => {
            const result = await migrateCentral(client);
            console.log(`central ${redactUrl(target.url)} is at schema version ${result.version}`);
          },
          { schema: 'any' },
        );
        console.log('The kiosk window is not part of this version yet (README, "Status"); nothing else to start.');
        return;
      }
      const dataDir = defaultEmbeddedCentralDir();
      const { central, schemaVersion } = await startMigratedEmbeddedCentral({
        dataDir,
        port: embeddedPort(),
        host: DEFAULT_EMBEDDED_HOST,
        migrate: true,
      });
      console.log(`Clockface embedded central: ${central.url} (schema ${schemaVersion}, data in ${dataDir})`);
      console.log('In another shell: npx clockface db status');
      console.log('The kiosk window is not part of this version yet (README, "Status"). Press Ctrl-C to stop.');
      stopOnSignal(central, () => console.log('stopped'));
    });
}
