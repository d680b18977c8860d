import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { asRoot, postgresIds } from './pg-cluster.js';
import { withFileLimit } from './file-limit.js';
import { freePort } from './ports.js';
import { killWhenProcessEnds } from './process-end.js';
import type { SystemPart } from './system-parts.js';
import { waitFor } from './waiting.js';

const execFileAsync = promisify(execFile);

const PGBOUNCER = process.env['CLOCKFACE_PGBOUNCER'] ?? '/usr/sbin/pgbouncer';
const PSQL = '/usr/bin/psql';
const SHIPPED_INI = new URL('../../resources/pgbouncer/pgbouncer.ini', import.meta.url);
const AUTH_SQL = new URL('../../resources/pgbouncer/auth.sql', import.meta.url);


/** PgBouncer (Debian's `pgbouncer`) and psql, to put the shipped pooler set-up in front of a test central. */
export function pgbouncerPart(): SystemPart {
  return {
    name: 'PgBouncer and psql',
    present: existsSync(PGBOUNCER) && existsSync(PSQL),
    howTo: 'apt-get install pgbouncer postgresql-client (Debian), or set CLOCKFACE_PGBOUNCER to the binary',
  };
}

export interface PgBouncer {
  port: number;
  /** `url` with its host and port changed to the pooler's (same login, same database name). */
  through(url: string): string;
  /** One of PgBouncer's SHOW commands on its admin console (SHOW CLIENTS, SHOW SERVERS, SHOW POOLS). */
  show(what: string): Promise<Array<Record<string, unknown>>>;
  /** An admin console command (RECONNECT, PAUSE …). */
  command(text: string): Promise<void>;
  /** The pgbouncer process (its pid file's), for the fleet bench's CPU shares; null once it has stopped. */
  pid(): number | null;
  stop(): Promise<void>;
}

export interface PgBouncerOptions {
  maxDbConnections?: number;
  /** Raise PgBouncer's open-files limit first (it needs one per client): a fleet of a thousand kiosks. */
  fileLimit?: number;
  /** [pgbouncer] settings over the shipped file's. */
  settings?: Record<string, string | number>;
}

/**
 * PgBouncer in front of the database of `adminUrl` (a superuser URL of a real server), set up exactly as the shipped
 * files say: resources/pgbouncer/auth.sql applied with psql (an auth role of its own, dropped at stop), and
 * resources/pgbouncer/pgbouncer.ini with only the paths, the port, the auth role and the server's address replaced.
 * Runs as the `postgres` OS user when the tests run as root (PgBouncer refuses root).
 */
export async function startPgBouncer(adminUrl: string, options: PgBouncerOptions = {}): Promise<PgBouncer> {
  const server = new URL(adminUrl);
  const database = decodeURIComponent(server.pathname.slice(1));
  const authRole = `clockface_pgbouncer_${randomBytes(4).toString('hex')}`;
  const authPassword = randomBytes(18).toString('base64url');
  await execFileAsync(PSQL, [adminUrl, '-v', 'ON_ERROR_STOP=1', '-q', '-v', `auth_role=${authRole}`, '-v', `auth_password=${authPassword}`, '-f', AUTH_SQL.pathname]);

  const dir = mkdtempSync(join(tmpdir(), 'clockface-pgbouncer-'));
  const port = await freePort();
  const overrides = new Map<string, string | number>(Object.entries({
    listen_addr: '127.0.0.1',
    listen_port: port,
    auth_file: join(dir, 'userlist.txt'),
    auth_user: authRole,
    admin_users: authRole,
    stats_users: authRole,
    logfile: join(dir, 'pgbouncer.log'),
    pidfile: join(dir, 'pgbouncer.pid'),
    unix_socket_dir: '',
    ...options.settings,
  }));
  const ini = readFileSync(SHIPPED_INI, 'utf8')
    .split('\n')
    .map((line) => {
      const database_ = /^clockface = host=\S+ port=\d+ dbname=\S+ (.*)$/.exec(line);
      if (database_) {
        const rest = (database_[1] ?? '').replace(/max_db_connections=\d+/, `max_db_connections=${options.maxDbConnections ?? 80}`);
        return `${database} = host=${server.hostname} port=${server.port || '5432'} dbname=${database} ${rest}`;
      }
      const setting = /^([a-z_]+) = /.exec(line);
      const key = setting?.[1];
      const value = key === undefined ? undefined : overrides.get(key);
      if (key !== undefined && value !== undefined) {
        overrides.delete(key);
        return `${key} = ${String(value)}`;
      }
      return line;
    });
  // Settings the shipped file leaves to the distribution.
  for (const [key, value] of overrides) ini.push(`${key} = ${String(value)}`);
  writeFileSync(join(dir, 'pgbouncer.ini'), ini.join('\n'));
  writeFileSync(join(dir, 'userlist.txt'), `"${authRole}" "${authPassword}"\n`);
  const ids = postgresIds();
  if (ids) for (const f of ['', 'pgbouncer.ini', 'userlist.txt']) chownSync(join(dir, f), ids.uid, ids.gid);
  const pgbouncer = [PGBOUNCER, join(dir, 'pgbouncer.ini')];
  const limited = (argv: string[]): string[] => (options.fileLimit ? withFileLimit(options.fileLimit, argv) : argv);
  // As root, raised on both sides of runuser: its PAM session puts the soft limit back to the default (1,024, seen as
  // "accept() failed: Too many open files" at 1,000 kiosks) and keeps the hard one raised outside, up to which the
  // inner shell raises the soft limit again as the postgres user.
  const command = asRoot ? limited(['runuser', '-u', 'postgres', '--', ...limited(pgbouncer)]) : limited(pgbouncer);
  const child: ChildProcess = spawn(command[0] ?? PGBOUNCER, command.slice(1), { stdio: 'ignore' });
  let exited = false;
  child.on('exit', () => (exited = true));
  const pidOf = (): number | null => {
    const pidFile = join(dir, 'pgbouncer.pid');
    const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) : NaN;
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  };
  /** At once, for a failed start and for the end of the process: the pid file's process (as root the child is runuser). */
  const killNow = (): void => {
    const pid = pidOf();
    try {
      if (pid !== null) process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
    child.kill('SIGKILL');
  };
  const forgetKill = killWhenProcessEnds(() => {
    killNow();
    rmSync(dir, { recursive: true, force: true });
  });
  /** A start that failed: killed now, so no longer at the process's end. */
  const giveUp = (): void => {
    forgetKill();
    killNow();
  };

  const adminConsole = `postgres://${authRole}:${authPassword}@127.0.0.1:${port}/pgbouncer`;
  const console_ = async <T>(body: (c: pg.Client) => Promise<T>): Promise<T> => {
    const c = new pg.Client({ connectionString: adminConsole });
    await c.connect();
    try {
      return await body(c);
    } finally {
      await c.end();
    }
  };
  try {
    await waitFor('PgBouncer to listen', async () => {
      if (exited) throw new Error(`pgbouncer exited: ${existsSync(join(dir, 'pgbouncer.log')) ? readFileSync(join(dir, 'pgbouncer.log'), 'utf8') : ''}`);
      return console_(async () => true).catch(() => false);
    }, 20_000, 100);
  } catch (e) {
    giveUp();
    throw e;
  }

  const pid = pidOf();
  const soft = pid && existsSync(`/proc/${pid}/limits`) ? /^Max open files\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'))?.[1] : undefined;
  if (options.fileLimit && soft !== undefined && Number(soft) < options.fileLimit) {
    giveUp();
    throw new Error(`pgbouncer runs with ${soft} open files, not the ${options.fileLimit} asked for: its clients would be refused`);
  }
  return {
    port,
    through(url) {
      const u = new URL(url);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    show: (what) => console_(async (c) => (await c.query(`SHOW ${what}`)).rows as Array<Record<string, unknown>>),
    command: (text) => console_(async (c) => void (await c.query(text))),
    pid: () => (exited ? null : pidOf()),
    async stop() {
      forgetKill();
      if (!exited) {
        const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        // The pid file's process, not the child: as root the child is runuser, which need not pass a signal on.
        const pid = pidOf();
        if (pid !== null) process.kill(pid, 'SIGINT');
        else child.kill('SIGINT');
        await Promise.race([gone, new Promise((resolve) => setTimeout(resolve, 5_000))]);
        if (!exited) child.kill('SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
      const admin = new pg.Client({ connectionString: adminUrl });
      await admin.connect();
      try {
        await admin.query('DROP FUNCTION IF EXISTS public.clockface_pgbouncer_lookup(text)');
        await admin.query(`REVOKE ALL ON DATABASE ${admin.escapeIdentifier(database)} FROM ${admin.escapeIdentifier(authRole)}`);
        await admin.query(`DROP ROLE IF EXISTS ${admin.escapeIdentifier(authRole)}`);
      } finally {
        await admin.end();
      }
    },
  };
}
