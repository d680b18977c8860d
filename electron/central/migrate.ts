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
 * Applies every pending migration, each in its own transaction, in version order. Safe to run twice (the second
 * run applies nothing) and safe to run concurrently (an advisory lock serialises migrators).
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
