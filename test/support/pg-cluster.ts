import { execFile, execFileSync } from 'node:child_process';
import { appendFileSync, chmodSync, chownSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from './ports.js';
import { killWhenProcessEnds } from './process-end.js';
import { partsPresent, type SystemPart } from './system-parts.js';

/**
 * Throwaway PostgreSQL 15 clusters owned by one test file (issue 8): a central that can be restarted (fast or
 * immediate) mid-batch, a streaming read replica made with pg_basebackup, a server that speaks only TLS. The shared
 * cluster `15 main` is never touched: each cluster here has its own data folder in a temp dir and its own port.
 *
 * PostgreSQL refuses to run as root, so when the tests run as root (CI, this machine) every server binary runs as
 * the `postgres` OS user through `runuser`; otherwise they run as the current user. The superuser `postgres` logs
 * in over TCP with a SCRAM password, like the kiosk roles the product creates, so authentication is real.
 */

const execFileAsync = promisify(execFile);

export const PG_BIN = process.env['CLOCKFACE_PG_BIN'] ?? '/usr/lib/postgresql/15/bin';
/** The test clusters' superuser password (local, throwaway, never a secret). */
export const SUPERUSER_PASSWORD = 'clockface-test';

/** Whether the tests run as root (server binaries then run as the `postgres` OS user). */
export const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** The `postgres` OS user's ids when running as root, else null. */
export function postgresIds(): { uid: number; gid: number } | null {
  if (!asRoot) return null;
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    return Number.isInteger(uid) && Number.isInteger(gid) ? { uid, gid } : null;
  } catch {
    return null;
  }
}

/** A server binary as the user that may run it: [command, args]. */
function command(bin: string, args: string[]): [string, string[]] {
  const path = join(PG_BIN, bin);
  return asRoot ? ['runuser', ['-u', 'postgres', '--', path, ...args]] : [path, args];
}

async function run(bin: string, args: string[], timeoutMs = 120_000): Promise<string> {
  const [cmd, argv] = command(bin, args);
  try {
    const { stdout } = await execFileAsync(cmd, argv, { timeout: timeoutMs, encoding: 'utf8' });
    return stdout;
  } catch (e) {
    const err = e as Error & { stderr?: string; stdout?: string };
    throw new Error(`${bin} ${args.join(' ')} failed: ${err.message}\n${err.stderr ?? ''}${err.stdout ?? ''}`);
  }
}

/** "PostgreSQL 15 server binaries runnable as the postgres user" (as the current user when not root). */
export function pgClusterPart(): SystemPart {
  let present = false;
  try {
    const ids = asRoot ? postgresIds() : { uid: 0, gid: 0 };
    if (ids !== null && existsSync(join(PG_BIN, 'initdb')) && existsSync(join(PG_BIN, 'pg_basebackup'))) {
      const [cmd, argv] = command('postgres', ['--version']);
      present = /\(PostgreSQL\) 15/.test(execFileSync(cmd, argv, { encoding: 'utf8', timeout: 10_000 }));
    }
  } catch {
    present = false;
  }
  return {
    name: `PostgreSQL 15 server binaries runnable as the postgres user (${PG_BIN})`,
    present,
    howTo: 'run `sudo bash scripts/install-postgres.sh` (Debian: postgresql-15 + pgvector), or set CLOCKFACE_PG_BIN',
  };
}

/**
 * Labels for `describe.each`: one when the binaries are there, none when not (said once by global-setup); with
 * CLOCKFACE_REQUIRE_SYSTEM_PARTS=1 a missing part fails instead.
 */
export function clusterSuites(label: string, alsoNeeded: SystemPart[] = []): string[] {
  // Missing parts show as one skipped test naming them (an error under CLOCKFACE_REQUIRE_SYSTEM_PARTS=1).
  return partsPresent(label, [pgClusterPart(), ...alsoNeeded]) ? [label] : [];
}

export type StopMode = 'fast' | 'immediate';

export interface ClusterOptions {
  /** ssl = on with these files (copied into the data folder, owned by the server's user, mode 0600). */
  ssl?: { certFile: string; keyFile: string };
  /** pg_hba.conf lines replacing the default (SCRAM over TCP for everyone, replication included). */
  hba?: string[];
  /** Extra postgresql.conf settings. */
  conf?: Record<string, string | number | boolean>;
  /** For temp dir names and messages. */
  name?: string;
  /**
   * How the test's own clients reach the server: host name and URL parameters (e.g. sslmode=verify-full and
   * sslrootcert for a server that takes TLS only). Default 127.0.0.1, no parameters.
   */
  client?: { host?: string; params?: Record<string, string> };
}

const live = new Set<PgCluster>();
let exitHookInstalled = false;

/** Alive and not a zombie (an exited postmaster waits for init to reap it, which can take seconds here). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc (not Linux): the signal test is all there is
  }
}

/**
 * Whatever happens to the test process, no postmaster outlives it: immediate shutdown, data folder removed
 * (test/support/process-end.ts). Registered once, for every cluster live at the end.
 */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  killWhenProcessEnds(() => {
    for (const c of live) c.killNow();
  });
}

function confValue(v: string | number | boolean): string {
  if (typeof v === 'number') return String(v);
  if (typeof v === 'boolean') return v ? 'on' : 'off';
  return `'${v.replace(/'/g, "''")}'`;
}

const DEFAULT_HBA = [
  'host all all 127.0.0.1/32 scram-sha-256',
  'host all all ::1/128 scram-sha-256',
  'host replication all 127.0.0.1/32 scram-sha-256',
  'host replication all ::1/128 scram-sha-256',
];

export class PgCluster {
  constructor(
    readonly name: string,
    /** The temp dir holding the data folder and the log; removed by destroy(). */
    readonly root: string,
    readonly port: number,
    private readonly client: { host?: string; params?: Record<string, string> } = {},
  ) {}

  get dataDir(): string {
    return join(this.root, 'data');
  }

  get logFile(): string {
    return join(this.root, 'server.log');
  }

  /** A URL to this server (the client host and parameters of its options), as the superuser unless told. */
  url(db = 'postgres', user = 'postgres', password = SUPERUSER_PASSWORD): string {
    const url = new URL(`postgres://${this.client.host ?? '127.0.0.1'}:${this.port}/${db}`);
    url.username = encodeURIComponent(user);
    url.password = encodeURIComponent(password);
    for (const [k, v] of Object.entries(this.client.params ?? {})) url.searchParams.set(k, v);
    return url.toString();
  }

  /** A superuser client (the caller ends it). */
  async connect(db = 'postgres'): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: this.url(db), application_name: 'clockface-test-admin' });
    client.on('error', () => undefined); // a restart drops idle admin sessions; the next query says so
    await client.connect();
    return client;
  }

  /** Runs one statement as the superuser on a fresh connection. */
  async query<R extends pg.QueryResultRow>(sql: string, params: unknown[] = [], db = 'postgres'): Promise<R[]> {
    const client = await this.connect(db);
    try {
      return (await client.query<R>(sql, params)).rows;
    } finally {
      await client.end();
    }
  }

  postmasterPid(): number | null {
    const file = join(this.dataDir, 'postmaster.pid');
    if (!existsSync(file)) return null;
    const pid = Number(readFileSync(file, 'utf8').split('\n')[0]);
    if (!Number.isInteger(pid) || pid <= 0) return null;
    return alive(pid) ? pid : null;
  }

  get running(): boolean {
    return this.postmasterPid() !== null;
  }

  async start(): Promise<void> {
    await run('pg_ctl', ['-D', this.dataDir, '-l', this.logFile, '-w', '-t', '120', 'start']);
  }

  /**
   * Stops the server the way `pg_ctl stop -m MODE` does, by signalling the postmaster directly (SIGINT: fast, open
   * transactions rolled back; SIGQUIT: immediate, every process killed, crash recovery at the next start), so that
   * the moment of the stop is the moment the test chose, not that plus the start-up of a pg_ctl process.
   */
  async stop(mode: StopMode = 'fast'): Promise<void> {
    const pid = this.postmasterPid();
    if (pid === null) return;
    process.kill(pid, mode === 'fast' ? 'SIGINT' : 'SIGQUIT');
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (!alive(pid)) return;
      if (Date.now() > deadline) throw new Error(`${this.name}: postmaster ${pid} did not stop (${mode})`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  async restart(options: { mode: StopMode }): Promise<void> {
    await this.stop(options.mode);
    await this.start();
  }

  /** Synchronous, for the exit hook: immediate shutdown and the folder gone. */
  killNow(): void {
    const pid = this.postmasterPid();
    if (pid !== null) {
      try {
        process.kill(pid, 'SIGQUIT');
      } catch {
        // already gone
      }
    }
    live.delete(this);
    try {
      rmSync(this.root, { recursive: true, force: true });
    } catch {
      // a server still exiting may race the removal; the temp dir is all that can be left behind
    }
  }

  async destroy(): Promise<void> {
    if (!live.has(this)) return;
    await this.stop('immediate').catch(() => undefined);
    live.delete(this);
    rmSync(this.root, { recursive: true, force: true });
  }

  /** The server log, for failure messages. */
  log(): string {
    return existsSync(this.logFile) ? readFileSync(this.logFile, 'utf8') : '';
  }
}

function makeRoot(name: string): string {
  const root = mkdtempSync(join(tmpdir(), `clockface-pg-${name}-`));
  const ids = postgresIds();
  if (ids) chownSync(root, ids.uid, ids.gid);
  chmodSync(root, 0o700);
  return root;
}

/** `openssl`, for the test CA of the TLS tests. */
export function opensslPart(): SystemPart {
  let present = false;
  try {
    present = /OpenSSL/.test(execFileSync('openssl', ['version'], { encoding: 'utf8', timeout: 10_000 }));
  } catch {
    present = false;
  }
  return { name: 'openssl (test CA and server certificate)', present, howTo: 'run `sudo apt-get install openssl`' };
}

/** A file the server's user owns with mode 0600 (PostgreSQL refuses a key others can read). */
function installPrivateFile(source: string, target: string): void {
  copyFileSync(source, target);
  const ids = postgresIds();
  if (ids) chownSync(target, ids.uid, ids.gid);
  chmodSync(target, 0o600);
}

/** initdb + start: a fresh cluster on a free port, superuser `postgres` with {@link SUPERUSER_PASSWORD}. */
export async function startCluster(options: ClusterOptions = {}): Promise<PgCluster> {
  installExitHook();
  const name = options.name ?? 'central';
  const root = makeRoot(name);
  const port = await freePort();
  const cluster = new PgCluster(name, root, port, options.client);
  live.add(cluster);
  try {
    const pwfile = join(root, 'pw');
    writeFileSync(pwfile, `${SUPERUSER_PASSWORD}\n`);
    const ids = postgresIds();
    if (ids) chownSync(pwfile, ids.uid, ids.gid);
    await run('initdb', [
      '-D', cluster.dataDir, '-U', 'postgres', '--pwfile', pwfile, '--auth-local=reject', '--auth-host=scram-sha-256',
      '-E', 'UTF8', '--locale=C', '--no-sync',
    ]);
    rmSync(pwfile);
    writeFileSync(join(cluster.dataDir, 'pg_hba.conf'), `${(options.hba ?? DEFAULT_HBA).join('\n')}\n`);
    const conf: Record<string, string | number | boolean> = {
      port,
      listen_addresses: 'localhost',
      // No Unix socket: the tests talk TCP like a kiosk, and no socket lands in the shared /var/run/postgresql.
      unix_socket_directories: '',
      // A process kill (even SIGQUIT/SIGKILL of the server) keeps whatever reached the OS; only a machine crash
      // would need fsync, and these clusters do not outlive the test.
      fsync: false,
      full_page_writes: false,
      shared_buffers: '32MB',
      max_connections: 60,
      wal_level: 'replica',
      max_wal_senders: 4,
      logging_collector: false,
      log_min_messages: 'warning',
      ...options.conf,
    };
    if (options.ssl) {
      installPrivateFile(options.ssl.certFile, join(cluster.dataDir, 'server.crt'));
      installPrivateFile(options.ssl.keyFile, join(cluster.dataDir, 'server.key'));
      conf['ssl'] = true;
      conf['ssl_cert_file'] = 'server.crt';
      conf['ssl_key_file'] = 'server.key';
    }
    appendFileSync(
      join(cluster.dataDir, 'postgresql.conf'),
      `\n# clockface test cluster\n${Object.entries(conf).map(([k, v]) => `${k} = ${confValue(v)}`).join('\n')}\n`,
    );
    await cluster.start();
    return cluster;
  } catch (e) {
    const log = cluster.log();
    await cluster.destroy();
    throw new Error(`${(e as Error).message}\n${log}`);
  }
}

/**
 * A hot standby of `primary` on another port: `pg_basebackup -R -X stream` (the copy writes primary_conninfo and
 * standby.signal), then started; it streams WAL from the primary from then on.
 */
export async function startReplica(primary: PgCluster, name = 'replica'): Promise<PgCluster> {
  installExitHook();
  const root = makeRoot(name);
  const port = await freePort();
  const replica = new PgCluster(name, root, port);
  live.add(replica);
  try {
    await run('pg_basebackup', ['-D', replica.dataDir, '-R', '-X', 'stream', '-c', 'fast', '--no-sync', '-d', primary.url()]);
    // The copied postgresql.conf names the primary's port; the last setting wins.
    appendFileSync(join(replica.dataDir, 'postgresql.conf'), `\n# replica\nport = ${port}\nhot_standby = on\n`);
    await replica.start();
    return replica;
  } catch (e) {
    const log = replica.log();
    await replica.destroy();
    throw new Error(`${(e as Error).message}\n${log}`);
  }
}

/** Stops WAL replay on a standby (received WAL piles up unapplied: replica lag on demand). */
export async function pauseReplay(replica: PgCluster): Promise<void> {
  await replica.query('SELECT pg_wal_replay_pause()');
  for (let i = 0; i < 500; i++) {
    const [row] = await replica.query<{ state: string }>('SELECT pg_get_wal_replay_pause_state() AS state');
    if (row?.state === 'paused') return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`${replica.name}: replay did not pause`);
}

export async function resumeReplay(replica: PgCluster): Promise<void> {
  await replica.query('SELECT pg_wal_replay_resume()');
}

/** Waits until the standby has replayed everything the primary had written when this was called. */
export async function waitForReplay(primary: PgCluster, replica: PgCluster, timeoutMs = 60_000): Promise<void> {
  const [target] = await primary.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [row] = await replica.query<{ done: boolean }>(
      'SELECT coalesce(pg_last_wal_replay_lsn() >= $1::pg_lsn, false) AS done',
      [target?.lsn],
    );
    if (row?.done) return;
    if (Date.now() > deadline) throw new Error(`${replica.name} did not replay up to ${target?.lsn} in ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A database `db` on the cluster with central's migrations applied; returns its superuser URL. */
export async function createCentralDatabase(cluster: PgCluster, db = 'clockface'): Promise<string> {
  await cluster.query(`CREATE DATABASE ${db}`);
  // Imported here, not at the top: system-parts.ts (loaded by every run's global set-up) imports this file.
  const { migrateCentral } = await import('../../electron/central/migrate.js');
  const client = await cluster.connect(db);
  try {
    await migrateCentral(client);
  } finally {
    await client.end();
  }
  return cluster.url(db);
}
