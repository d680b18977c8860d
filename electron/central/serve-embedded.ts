import { createLogger } from '../../shared/logger.js';
import { connectCentral } from './connect.js';
import { startEmbeddedCentral, type EmbeddedCentral, type EmbeddedCentralOptions } from './embedded.js';
import { migrateCentral } from './migrate.js';

const log = createLogger('central.embedded');

/** Starts the embedded central and, unless told not to, brings its schema up to date. */
export async function startMigratedEmbeddedCentral(
  options: EmbeddedCentralOptions & { migrate: boolean },
): Promise<{ central: EmbeddedCentral; schemaVersion: number | null }> {
  const central = await startEmbeddedCentral(options);
  if (!options.migrate) return { central, schemaVersion: null };
  try {
    const client = await connectCentral({ url: central.url, embeddedDefault: false });
    try {
      const result = await migrateCentral(client);
      return { central, schemaVersion: result.version };
    } finally {
      await client.end();
    }
  } catch (e) {
    await central.stop();
    throw e;
  }
}

/** Keeps the process alive until SIGINT/SIGTERM, then closes the database cleanly so nothing is lost. */
export function stopOnSignal(central: EmbeddedCentral, onStopped?: () => void): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    log.info('stopping embedded central', { signal });
    central
      .stop()
      .then(() => onStopped?.())
      .catch((e: unknown) => {
        log.error('embedded central did not stop cleanly', { error: e instanceof Error ? e.message : String(e) });
        process.exitCode = 1;
      });
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
