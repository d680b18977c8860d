import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { ClockfaceError } from '../../../shared/errors.js';
import { systemClock, type KioskClock } from '../kiosk-clock.js';
import { RESOURCES_DIR } from '../../config/paths.js';
import { loadMigrationFiles, type MigrationFile } from '../../sql/migration-files.js';

export const KIOSK_MIGRATIONS_DIR = join(RESOURCES_DIR, 'sql', 'kiosk');

export type KioskDatabase = Database.Database;

/**
 * Opens (creating if needed) the kiosk database and brings its schema up to date.
 *
 * Durability: WAL with synchronous=FULL, so a punch the screen confirmed survives a power cut, not just a crash.
 * busy_timeout lets the CLI and the kiosk app share the file without failing on a momentary lock.
 */
export function openKioskDb(path: string, files: MigrationFile[] = loadMigrationFiles(KIOSK_MIGRATIONS_DIR)): KioskDatabase {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    migrateKioskDb(db, files);
    return db;
  } catch (e) {
    db.close();
    throw e;
  }
}

/** Applies pending kiosk migrations, each in a transaction; refuses a database made by a newer Clockface. */
export function migrateKioskDb(db: KioskDatabase, files: MigrationFile[], clock: KioskClock = systemClock): number[] {
  db.exec(`CREATE TABLE IF NOT EXISTS clockface_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at TEXT NOT NULL
  ) STRICT`);
  const applied = db.prepare('SELECT version, name, checksum FROM clockface_migrations ORDER BY version').all() as Array<{
    version: number;
    name: string;
    checksum: string;
  }>;
  const newest = files.at(-1)?.version ?? 0;
  for (const a of applied) {
    const file = files.find((f) => f.version === a.version);
    if (!file && a.version > newest) {
      throw new ClockfaceError('KIOSK_DB_TOO_NEW', `the kiosk database was written by a newer Clockface (schema ${a.version} > ${newest})`, {
        hint: 'Upgrade this kiosk, or move the database aside so that it is rebuilt from central.',
      });
    }
    if (!file || file.checksum !== a.checksum) {
      throw new ClockfaceError('KIOSK_DB_INVALID', `kiosk migration ${a.version} (${a.name}) does not match this build`);
    }
  }
  const done: number[] = [];
  for (const file of files) {
    if (applied.some((a) => a.version === file.version)) continue;
    db.transaction(() => {
      db.exec(file.sql);
      db.prepare('INSERT INTO clockface_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)').run(
        file.version,
        file.name,
        file.checksum,
        clock.now().toISOString(),
      );
    })();
    done.push(file.version);
  }
  return done;
}
