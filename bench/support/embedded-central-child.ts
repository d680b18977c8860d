/**
 * An in-memory embedded central (PGlite + pgvector behind pglite-socket) in a process of its own, as
 * `clockface central start --memory` runs it: a kiosk talks to it over TCP and does not share its event loop or
 * its CPU time with it. Prints `{"url": …}` on one line once listening; stops on SIGTERM, SIGINT or when the parent
 * closes stdin (so that a crashed benchmark leaves no orphan behind).
 */
import { startEmbeddedCentral } from '../../electron/central/embedded.js';

const central = await startEmbeddedCentral({ dataDir: null, port: 0 });
process.stdout.write(`${JSON.stringify({ url: central.url })}\n`);

let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  central
    .stop()
    .catch((e: unknown) => console.error('embedded central did not stop cleanly', e))
    .finally(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.resume();
