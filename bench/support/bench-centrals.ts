import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

/**
 * The centrals the benchmarks run against, side by side: a fresh database on the real PostgreSQL server (when
 * CLOCKFACE_TEST_DATABASE_URL is set), and the embedded central in a child process of its own (so that it does not
 * share the measuring process's event loop).
 */
export type CentralTag = 'pg-server' | 'embedded-pglite';

export interface BenchCentral {
  tag: CentralTag;
  /** Admin (superuser) URL. */
  url: string;
  describe: string;
  close(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
export const label = (n: number): string => (n >= 1000 ? `${n / 1000}k` : String(n));

/** A fresh database on the real server, dropped by close() with every kiosk role it registered. */
export async function startServerCentral(baseUrl: string, prefix = 'clockface_bench'): Promise<BenchCentral> {
  const dbName = `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
  const root = new pg.Client({ connectionString: baseUrl });
  await root.connect();
  let version = '';
  try {
    version = ((await root.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]?.v ?? '').split(' ')[0] ?? '';
    await root.query(`CREATE DATABASE ${dbName}`);
  } finally {
    await root.end();
  }
  const url = new URL(baseUrl);
  url.pathname = `/${dbName}`;
  const dbUrl = url.toString();
  return {
    tag: 'pg-server',
    url: dbUrl,
    describe: `PostgreSQL ${version} server, database ${dbName}`,
    async close() {
      // Kiosk roles are cluster-wide: drop what they own here, the database, then the roles.
      const c = new pg.Client({ connectionString: dbUrl });
      await c.connect();
      let roles: string[] = [];
      try {
        const has = await c.query<{ x: boolean }>("SELECT to_regclass('public.kiosks') IS NOT NULL AS x");
        if (has.rows[0]?.x) {
          roles = (await c.query<{ role_name: string }>('SELECT role_name FROM kiosks k JOIN pg_roles r ON r.rolname = k.role_name')).rows.map(
            (r) => r.role_name,
          );
        }
        for (const role of roles) await c.query(`DROP OWNED BY ${c.escapeIdentifier(role)}`);
      } finally {
        await c.end();
      }
      const r = new pg.Client({ connectionString: baseUrl });
      await r.connect();
      try {
        await r.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
        for (const role of roles) await r.query(`DROP ROLE IF EXISTS ${r.escapeIdentifier(role)}`);
      } finally {
        await r.end();
      }
    },
  };
}

const CHILD = fileURLToPath(new URL('./embedded-central-child.ts', import.meta.url));

/** The embedded central in a child process, as `clockface central start` runs it (not in the bench's event loop). */
export async function startEmbeddedCentralProcess(): Promise<BenchCentral> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('embedded central did not start within 60 s')), 60_000);
    createInterface({ input: child.stdout }).once('line', (line) => {
      clearTimeout(timer);
      try {
        resolve((JSON.parse(line) as { url: string }).url);
      } catch (e) {
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`embedded central exited (code ${String(code)}) before listening`));
    });
  });
  return {
    tag: 'embedded-pglite',
    url,
    describe: `embedded central (PGlite, in-memory) in child process ${String(child.pid)}`,
    async close() {
      child.stdin.end();
      const stopped = await Promise.race([exited.then(() => true), sleep(15_000).then(() => false)]);
      if (!stopped) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

/** The centrals to measure: the server when CLOCKFACE_TEST_DATABASE_URL names one that answers, and the embedded one. */
export async function eachCentral(
  suite: string,
  work: (central: BenchCentral) => Promise<void>,
  options: { serverPrefix?: string } = {},
): Promise<void> {
  const starters: Array<{ tag: CentralTag; start: () => Promise<BenchCentral> }> = [];
  const serverUrl = process.env['CLOCKFACE_TEST_DATABASE_URL'];
  if (serverUrl) starters.push({ tag: 'pg-server', start: () => startServerCentral(serverUrl, options.serverPrefix) });
  else console.warn(`[${suite} bench] CLOCKFACE_TEST_DATABASE_URL not set: no [pg-server] rows`);
  starters.push({ tag: 'embedded-pglite', start: startEmbeddedCentralProcess });
  for (const s of starters) {
    let central: BenchCentral;
    try {
      central = await s.start();
    } catch (e) {
      if (s.tag !== 'pg-server') throw e;
      console.warn(`[${suite} bench] cannot use CLOCKFACE_TEST_DATABASE_URL (${(e as Error).message}): no [pg-server] rows; see scripts/install-postgres.sh`);
      continue;
    }
    console.log(`[${suite} bench] central: ${central.describe}`);
    try {
      await work(central);
    } finally {
      await central.close();
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------

