import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KIOSK_MIGRATIONS_DIR, migrateKioskDb, openKioskDb } from '../../electron/kiosk/store/kiosk-db.js';
import { loadMigrationFiles } from '../../electron/sql/migration-files.js';

describe('kiosk database', () => {
  const dir = mkdtempSync(join(tmpdir(), 'clockface-kioskdb-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const files = loadMigrationFiles(KIOSK_MIGRATIONS_DIR);

  it('is created with its schema, durable settings, and a second open changes nothing', () => {
    const path = join(dir, 'kiosk.db');
    const db = openKioskDb(path);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('synchronous', { simple: true })).toBe(2); // FULL
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all();
    expect(tables.map((t) => (t as { name: string }).name)).toEqual([
      'central_last_punches', 'clockface_migrations', 'employees', 'index_pending', 'kiosk_meta', 'outbox',
      'pin_attempts', 'punch_snapshots', 'punches', 'templates',
    ]);
    expect(migrateKioskDb(db, files)).toEqual([]);
    db.close();
    const again = openKioskDb(path);
    expect(again.prepare('SELECT count(*) AS n FROM clockface_migrations').get()).toEqual({ n: files.length });
    again.close();
  });

  it('refuses a database from a newer Clockface and one whose migration was edited', () => {
    const path = join(dir, 'newer.db');
    const db = openKioskDb(path);
    db.prepare("INSERT INTO clockface_migrations VALUES (9990, 'future', 'x', '2030-01-01')").run();
    db.close();
    expect(() => openKioskDb(path)).toThrow(expect.objectContaining({ code: 'KIOSK_DB_TOO_NEW' }));
    const edited = join(dir, 'edited.db');
    openKioskDb(edited).close();
    const changed = files.map((f) => ({ ...f, checksum: 'different' }));
    expect(() => openKioskDb(edited, changed)).toThrow(expect.objectContaining({ code: 'KIOSK_DB_INVALID' }));
  });

  it('refuses a template vector of the wrong size and a punch without its outbox parent', () => {
    const db = openKioskDb(join(dir, 'checks.db'));
    db.prepare("INSERT INTO employees VALUES (1, 'E1', 'Amy', 'hq', 1, NULL)").run();
    expect(() => db.prepare("INSERT INTO templates VALUES (1, 1, 'm', zeroblob(508))").run()).toThrow(/CHECK constraint/);
    db.prepare("INSERT INTO templates VALUES (1, 1, 'm', zeroblob(512))").run();
    expect(() =>
      db.prepare("INSERT INTO outbox (punch_id, next_attempt_at) VALUES ('no-such-punch', '2026-01-01')").run(),
    ).toThrow(/FOREIGN KEY/);
    db.close();
  });
});
