import { mkdirSync, openSync, readFileSync, rmSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { ClockfaceError } from '../../shared/errors.js';
import { createLogger } from '../../shared/logger.js';
import { DEFAULT_EMBEDDED_HOST, embeddedCentralUrl } from '../config/central-url.js';

const log = createLogger('central.embedded');

/**
 * The embedded central: PostgreSQL compiled to WASM (PGlite) with pgvector, served over the PostgreSQL wire
 * protocol so every client uses `pg` exactly as with a real server.
 *
 * What it does not do (measured, see docs/operations.md "The embedded central"): it ignores the login role (every connection is
 * the superuser, so row-level security keyed on the kiosk's login does not apply), LISTEN/NOTIFY does not cross
 * connections, and one client's open transaction makes every other client wait. Use a real PostgreSQL server for
 * more than one site.
 */
export interface EmbeddedCentral {
  url: string;
  port: number;
  host: string;
  /** Folder of the database files, or null for an in-memory database. */
  dataDir: string | null;
  stop(): Promise<void>;
}

export interface EmbeddedCentralOptions {
  /** Folder for the database files; null keeps everything in memory (tests). */
  dataDir: string | null;
  /** 0 picks a free port. */
  port: number;
  host?: string;
  /** For tests of the "no pgvector" path: start without the vector extension. */
  withoutVector?: boolean;
}

const LOCK_FILE = 'clockface-central.pid';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return typeof e === 'object' && e !== null && 'code' in e && e.code === 'EPERM';
  }
}

/** PGlite has no lock of its own: two processes on one folder would corrupt it. */
function lockDataDir(dataDir: string): () => void {
  const path = join(dataDir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (e) {
      if (!(typeof e === 'object' && e !== null && 'code' in e && e.code === 'EEXIST')) throw e;
      const holder = Number(readFileSync(path, 'utf8').trim());
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isAlive(holder)) {
        throw new ClockfaceError(
          'EMBEDDED_CENTRAL_LOCKED',
          `the embedded central in ${dataDir} is already running (process ${holder})`,
          { hint: 'Connect to the running one, or stop it first.' },
        );
      }
      rmSync(path, { force: true }); // stale lock of a process that died
    }
  }
  throw new ClockfaceError('EMBEDDED_CENTRAL_LOCKED', `could not lock ${dataDir}`);
}

export async function startEmbeddedCentral(options: EmbeddedCentralOptions): Promise<EmbeddedCentral> {
  const host = options.host ?? DEFAULT_EMBEDDED_HOST;
  let unlock = (): void => undefined;
  if (options.dataDir !== null) {
    mkdirSync(options.dataDir, { recursive: true });
    unlock = lockDataDir(options.dataDir);
  }
  try {
    const db = await PGlite.create({
      ...(options.dataDir !== null ? { dataDir: options.dataDir } : {}),
      extensions: options.withoutVector ? {} : { vector },
    });
    const server = new PGLiteSocketServer({ db, port: options.port, host, maxConnections: 256 });
    await server.start();
    const port = Number(server.getServerConn().split(':').at(-1));
    log.info('embedded central listening', { host, port, persistent: options.dataDir !== null });
    let stopped = false;
    return {
      url: embeddedCentralUrl(port, host),
      port,
      host,
      dataDir: options.dataDir,
      async stop() {
        if (stopped) return;
        stopped = true;
        await server.stop();
        await db.close();
        unlock();
      },
    };
  } catch (e) {
    unlock();
    throw e;
  }
}
