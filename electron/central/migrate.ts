import type pg from 'pg';
import { ClockfaceError } from '../../shared/errors.js';
import { createLogger } from '../../shared/logger.js';
import { CENTRAL_MIGRATIONS_DIR } from '../config/paths.js';
import { loadMigrationFiles, type MigrationFile } from '../sql/migration-files.js';
import { databaseRoles, renderMigrationSql } from './database-roles.js';

const log = createLogger('central.migrate');

/**
 * Arbitrary but fixed: migrators serialise on this advisory lock only while the ledger table does not exist yet.
 * Advisory locks are open to every login (a stolen kiosk password could hold this one for ever), so once the ledger
 * exists migrators lock the ledger table itself, which only its owner can lock (see migrateCentral).
 */
const BOOTSTRAP_LOCK_KEY = 0x636c6f63; // "cloc"

/**
 * How long one migration waits for a table lock before giving up with CENTRAL_LOCKED instead of hanging: a session
 * left idle in a transaction (a kiosk stalled mid-sync, someone's psql) holds its locks until it ends.
 */
const MIGRATION_LOCK_TIMEOUT = '30s';

export interface AppliedMigration {
  version: number;
  name: string;
  checksum: string;
}

export interface MigrateResult {
  applied: MigrationFile[];
  version: number;
}

const CREATE_LEDGER = `
  CREATE TABLE IF NOT EXISTS clockface_migrations (
    version     integer PRIMARY KEY,
    name        text NOT NULL,
    checksum    text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
  )`;

async function ledgerExists(client: pg.ClientBase): Promise<boolean> {
  const { rows } = await client.query<{ exists: boolean }>(
    "SELECT to_regclass('public.clockface_migrations') IS NOT NULL AS exists",
  );
  return rows[0]?.exists === true;
}

export async function appliedMigrations(client: pg.ClientBase): Promise<AppliedMigration[]> {
  if (!(await ledgerExists(client))) return [];
  const { rows } = await client.query<AppliedMigration>(
    'SELECT version, name, checksum FROM clockface_migrations ORDER BY version',
  );
  return rows;
}

/** Refuses a database this build cannot safely use: migrated by a newer version, or with an edited migration. */
export function checkCompatible(applied: AppliedMigration[], files: MigrationFile[]): void {
  const known = new Map(files.map((f) => [f.version, f]));
  const newest = files.at(-1)?.version ?? 0;
  for (const a of applied) {
    const file = known.get(a.version);
    if (!file) {
      if (a.version > newest) {
        throw new ClockfaceError(
          'CENTRAL_SCHEMA_TOO_NEW',
          `the central database is at schema version ${Math.max(...applied.map((x) => x.version))}, ` +
            `newer than this Clockface build knows (${newest})`,
          { hint: 'Upgrade this Clockface installation; never run an older build against a newer database.' },
        );
      }
      throw new ClockfaceError(
        'CENTRAL_SCHEMA_MODIFIED',
        `the central database records migration ${a.version} (${a.name}), which this build does not have`,
      );
    }
    if (file.checksum !== a.checksum) {
      throw new ClockfaceError(
        'CENTRAL_SCHEMA_MODIFIED',
        `migration ${a.version} (${a.name}) was applied from a different file than this build ships`,
        { hint: 'Shipped migrations must never be edited; add a new migration instead.' },
      );
    }
  }
}

async function requireVector(client: pg.ClientBase): Promise<void> {
  const { rows } = await client.query<{ n: string }>(
    "SELECT count(*)::text AS n FROM pg_available_extensions WHERE name = 'vector'",
  );
  if (rows[0]?.n === '0') {
    throw new ClockfaceError(
      'CENTRAL_VECTOR_MISSING',
      'the central PostgreSQL server has no "vector" extension (pgvector), which Clockface needs for face templates',
      {
        hint:
          'Install pgvector on the database server: on Debian 12 `sudo bash scripts/install-postgres.sh`; ' +
          'with the PostgreSQL apt/yum repositories `postgresql-15-pgvector` / `pgvector_15`; on macOS ' +
          '`brew install pgvector`; or build it from https://github.com/pgvector/pgvector. Then run migrate again.',
      },
    );
  }
}

/**
 * Applies every pending migration, each in its own transaction (or statement by statement, for the few that cannot
 * run in one: see OUTSIDE_TRANSACTION_MARK), in version order. Safe to run twice (the second run applies nothing) and
 * safe to run concurrently (locks serialise migrators).
 */
export async function migrateCentral(
  client: pg.ClientBase,
  files: MigrationFile[] = loadMigrationFiles(CENTRAL_MIGRATIONS_DIR),
): Promise<MigrateResult> {
  await requireVector(client);
  if (!(await ledgerExists(client))) {
    await client.query('BEGIN');
    try {
      await client.query('SELECT pg_advisory_xact_lock($1)', [BOOTSTRAP_LOCK_KEY]);
      await client.query(CREATE_LEDGER);
      await client.query('COMMIT');
    } catch (e) {
      await client.query('ROLLBACK');
      throw e;
    }
  }

  checkCompatible(await appliedMigrations(client), files);

  const applied: MigrationFile[] = [];
  for (const file of files) {
    if (isOutsideTransaction(file)) {
      if (await applyOutsideTransaction(client, file)) applied.push(file);
      continue;
    }
    await client.query('BEGIN');
    try {
      await client.query(`SET LOCAL lock_timeout = '${MIGRATION_LOCK_TIMEOUT}'`);
      // EXCLUSIVE conflicts with itself but not with readers (requireMigrated). Kiosks and IT logins hold no privilege
      // that would let them take a conflicting lock on the ledger, so they cannot hold a migration back.
      await client.query('LOCK TABLE clockface_migrations IN EXCLUSIVE MODE');
      // Another migrator may have applied it while we waited for the lock.
      const done = await client.query('SELECT 1 FROM clockface_migrations WHERE version = $1', [file.version]);
      if (done.rowCount === 0) {
        await client.query(renderMigrationSql(file.sql, await databaseRoles(client)));
        await client.query('INSERT INTO clockface_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
          file.version,
          file.name,
          file.checksum,
        ]);
        applied.push(file);
      }
      await client.query('COMMIT');
    } catch (e) {
      await client.query('ROLLBACK');
      throw explainMigrationError(e, file);
    }
    if (applied.at(-1) === file) log.info('applied migration', { version: file.version, migration: file.name });
  }
  return { applied, version: files.at(-1)?.version ?? 0 };
}

/**
 * The first line of a migration that cannot run inside a transaction: `CREATE INDEX CONCURRENTLY` (rebuilding a large
 * index while kiosks keep punching and searching) refuses a transaction block. Such a file holds plain statements,
 * each ending with `;` at the end of a line, and no function bodies; each statement commits on its own, so each must
 * be safe to run again after a crash between two of them (DROP … IF EXISTS before CREATE … CONCURRENTLY, whose failure
 * leaves an invalid index behind).
 */
export const OUTSIDE_TRANSACTION_MARK = '-- clockface:outside-transaction';

/** Advisory lock key of migrations that run outside a transaction (see applyOutsideTransaction). */
const OUTSIDE_TRANSACTION_LOCK_KEY = BOOTSTRAP_LOCK_KEY + 1;

/** How long a migrator waits for another to finish an outside-transaction migration (an index build takes minutes). */
const OUTSIDE_TRANSACTION_WAIT_MS = 30 * 60_000;

export function isOutsideTransaction(file: MigrationFile): boolean {
  return file.sql.startsWith(OUTSIDE_TRANSACTION_MARK);
}

/** The statements of an outside-transaction migration, in order (comments and blank lines dropped). */
export function outsideTransactionStatements(file: MigrationFile): string[] {
  if (file.sql.includes('$$')) {
    throw new Error(`migration ${file.version} (${file.name}) runs outside a transaction and may not hold function bodies`);
  }
  const statements: string[] = [];
  let current: string[] = [];
  for (const line of file.sql.split('\n')) {
    const text = line.replace(/--.*$/, '').trimEnd();
    if (text.trim() === '') continue;
    current.push(text);
    if (text.endsWith(';')) {
      statements.push(current.join('\n'));
      current = [];
    }
  }
  if (current.length > 0) throw new Error(`migration ${file.version} (${file.name}): the last statement has no closing ";"`);
  return statements;
}

/**
 * Runs one outside-transaction migration, statement by statement, each committing on its own. Returns whether this
 * call applied it (false: another migrator did).
 *
 * Migrators serialise on a session advisory lock here, since the ledger's table lock lives only as long as a
 * transaction and `CREATE INDEX CONCURRENTLY` waits for every older transaction, a migrator's own included, to end.
 * The lock is taken by polling `pg_try_advisory_lock`, never by waiting inside a statement: a waiting statement holds
 * a snapshot, which the index build in the other migrator would wait for in turn. Any login may take an advisory
 * lock, so a stolen kiosk password could hold this one: the wait is bounded, and ends in CENTRAL_LOCKED.
 */
async function applyOutsideTransaction(client: pg.ClientBase, file: MigrationFile): Promise<boolean> {
  const statements = outsideTransactionStatements(file);
  const applied = async (): Promise<boolean> =>
    ((await client.query('SELECT 1 FROM clockface_migrations WHERE version = $1', [file.version])).rowCount ?? 0) > 0;
  if (await applied()) return false;
  const deadline = Date.now() + OUTSIDE_TRANSACTION_WAIT_MS;
  for (;;) {
    const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [OUTSIDE_TRANSACTION_LOCK_KEY]);
    if (rows[0]?.locked) break;
    if (Date.now() > deadline) {
      throw new ClockfaceError('CENTRAL_LOCKED', `migration ${file.version} (${file.name}) waited for another migrator's lock; nothing was changed`, {
        hint: 'Another `clockface db migrate` is running (an index rebuild takes minutes), or a session holds its advisory lock. Run migrate again later.',
      });
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  try {
    if (await applied()) return false;
    log.info('applying migration outside a transaction', { version: file.version, migration: file.name, statements: statements.length });
    const roles = await databaseRoles(client);
    await client.query(`SET lock_timeout = '${MIGRATION_LOCK_TIMEOUT}'`);
    try {
      for (const statement of statements) await client.query(renderMigrationSql(statement, roles));
    } catch (e) {
      throw explainMigrationError(e, file);
    } finally {
      await client.query('RESET lock_timeout');
    }
    await client.query('INSERT INTO clockface_migrations (version, name, checksum) VALUES ($1, $2, $3)', [file.version, file.name, file.checksum]);
    log.info('applied migration', { version: file.version, migration: file.name });
    return true;
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [OUTSIDE_TRANSACTION_LOCK_KEY]);
  }
}

/** A lock wait that timed out names the migration; anything else goes up as it is. */
function explainMigrationError(e: unknown, file: MigrationFile): unknown {
  if (typeof e === 'object' && e !== null && 'code' in e && e.code === '55P03') {
    return new ClockfaceError(
      'CENTRAL_LOCKED',
      `migration ${file.version} (${file.name}) waited ${MIGRATION_LOCK_TIMEOUT} for a table another session holds; nothing was changed`,
      {
        hint:
          'Look for sessions idle in a transaction (SELECT pid, usename, application_name, state, xact_start FROM ' +
          "pg_stat_activity WHERE state LIKE 'idle in transaction%'), end them, and run `clockface db migrate` again.",
        cause: e,
      },
    );
  }
  return e;
}

/** Throws CENTRAL_NOT_MIGRATED / CENTRAL_SCHEMA_TOO_NEW unless the database is exactly at this build's schema. */
export async function requireMigrated(
  client: pg.ClientBase,
  files: MigrationFile[] = loadMigrationFiles(CENTRAL_MIGRATIONS_DIR),
): Promise<void> {
  const applied = await appliedMigrations(client);
  checkCompatible(applied, files);
  if (applied.length < files.length) {
    throw new ClockfaceError('CENTRAL_NOT_MIGRATED', 'the central database schema is not up to date', {
      hint: 'Run `npx clockface db migrate`.',
    });
  }
}
