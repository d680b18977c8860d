import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KIOSK_MIGRATIONS_DIR, openKioskDb, type KioskDatabase } from '../../electron/kiosk/store/kiosk-db.js';
import { lastPunchOf } from '../../electron/kiosk/store/punch-store.js';
import { loadMigrationFiles } from '../../electron/sql/migration-files.js';
import { FACE_MODEL_ID } from '../../shared/face-model.js';
import { randomDescriptor, seededRandom } from '../support/roster-fixtures.js';

/**
 * Kiosk migrations upgrade real data (issue 16). For each kiosk migration after the first: a kiosk database file is
 * opened by a build that knows migrations up to the one before (so it is made and migrated the way that build
 * did), filled with what a kiosk holds at that version (punches, the outbox with failed attempts, the roster and
 * template cache, meta keys, PIN lockouts, snapshots), closed, and opened again by a build with the one migration
 * more: the app update. The punches and the outbox are the one thing a kiosk may never lose, so every row of every
 * table must come back with every value; new columns hold their defaults; and the older build then refuses the file.
 */

const FILES = loadMigrationFiles(KIOSK_MIGRATIONS_DIR);
const upTo = (version: number) => FILES.filter((f) => f.version <= version);
const previous = (version: number) => Math.max(...FILES.filter((f) => f.version < version).map((f) => f.version));

const JPEG = Buffer.from('ffd8ffe000104a46494600010100ffd9', 'hex');

function embedding(random: () => number): Buffer {
  return Buffer.from(Float32Array.from(randomDescriptor(random)).buffer);
}

interface Punches {
  uploaded: string;
  retrying: string;
  fresh: string;
}

/** What a kiosk has in its database at version `at`. */
function seed(db: KioskDatabase, at: number): Punches {
  const random = seededRandom(at);
  const meta = db.prepare('INSERT INTO kiosk_meta (key, value) VALUES (?, ?)');
  meta.run('kiosk_id', '7');
  meta.run('kiosk_name', 'north-door');
  meta.run('roster_model_id', FACE_MODEL_ID);
  meta.run('served_sites', '["north"]');
  meta.run('roster_watermark', '184467440737');
  meta.run('last_punch_cursor', '2026-03-04T05:06:07.089Z');

  const employee = db.prepare(
    'INSERT INTO employees (id, employee_no, full_name, site, active, pin_hash) VALUES (?, ?, ?, ?, ?, ?)',
  );
  employee.run(1, 'N-1', 'Amy Ng', 'north', 1, 'scrypt$ln=14,r=8,p=1$c2FsdA$aGFzaA');
  employee.run(2, 'N-2', 'Bo Li', 'north', 0, null);
  const template = db.prepare('INSERT INTO templates (id, employee_id, model_id, embedding) VALUES (?, ?, ?, ?)');
  template.run(10, 1, FACE_MODEL_ID, embedding(random));
  template.run(11, 1, FACE_MODEL_ID, embedding(random));
  template.run(12, 2, FACE_MODEL_ID, embedding(random));
  db.prepare(
    "INSERT INTO central_last_punches (employee_id, direction, punched_at) VALUES (1, 'in', '2026-03-04T07:00:00.000Z')",
  ).run();

  const punches: Punches = { uploaded: randomUUID(), retrying: randomUUID(), fresh: randomUUID() };
  const punch = db.prepare(
    'INSERT INTO punches (id, employee_id, direction, punched_at, method, match_distance, liveness) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  const outbox = db.prepare('INSERT INTO outbox (punch_id, attempts, next_attempt_at, last_error) VALUES (?, ?, ?, ?)');
  db.transaction(() => {
    punch.run(punches.uploaded, 1, 'in', '2026-03-04T08:00:00.000Z', 'face', 0.31, 'passed');
    punch.run(punches.retrying, 1, 'out', '2026-03-04T17:00:00.000Z', 'pin', null, 'not_checked');
    outbox.run(punches.retrying, 4, '2026-03-04T17:20:00.000Z', 'connect ECONNREFUSED 10.0.0.5:5432');
    punch.run(punches.fresh, 2, 'in', '2026-03-05T08:00:00.000Z', 'face', 0.29, 'failed');
    outbox.run(punches.fresh, 0, '2026-03-05T08:00:00.000Z', null);
  })();

  if (at >= 20) {
    db.prepare("INSERT INTO index_pending (template_id, op) VALUES (10, 'upsert'), (99, 'delete')").run();
    meta.run('index_rebuild', '1');
    meta.run('last_sync_at', '2026-03-05T07:59:00.000Z');
  }
  if (at >= 30) {
    db.prepare(
      `INSERT INTO pin_attempts (subject, failures, locked_until)
       VALUES ('N-1', 2, NULL), ('*admin*', 5, '2026-03-05T08:15:00.000Z')`,
    ).run();
  }
  if (at >= 40) db.prepare('INSERT INTO punch_snapshots (punch_id, jpeg) VALUES (?, ?)').run(punches.retrying, JPEG);
  if (at >= 50) {
    db.prepare(
      `INSERT INTO pin_attempts (subject, failures, locked_until, window_started_at)
       VALUES ('*employee-pins*', 3, NULL, '2026-03-05T07:00:00.000Z')`,
    ).run();
  }
  return punches;
}

interface Column {
  name: string;
  dflt_value: string | null;
}

function tables(db: KioskDatabase): Map<string, Column[]> {
  const names = db
    .prepare(
      `SELECT name FROM sqlite_master
       WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'clockface_migrations' ORDER BY name`,
    )
    .pluck()
    .all() as string[];
  return new Map(names.map((n) => [n, db.prepare(`PRAGMA table_info(${JSON.stringify(n)})`).all() as Column[]]));
}

/** Every row of every table in the given columns, blobs as hex, as comparable JSON per table. */
function dump(db: KioskDatabase, layout: Map<string, Column[]>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [table, columns] of layout) {
    const list = columns.map((c) => JSON.stringify(c.name)).join(', ');
    const rows = db.prepare(`SELECT ${list} FROM ${JSON.stringify(table)} ORDER BY rowid`).all();
    out[table] = JSON.stringify(rows, (_k, v: unknown) => (Buffer.isBuffer(v) ? `x'${v.toString('hex')}'` : v));
  }
  return out;
}

interface Step {
  version: number;
  about: string;
  after: (db: KioskDatabase, punches: Punches) => void;
}

const STEPS: Step[] = [
  {
    version: 20,
    about: 'index_pending: the vector index queue starts empty beside the cached roster',
    after(db) {
      expect(db.prepare('SELECT count(*) AS n FROM index_pending').get()).toEqual({ n: 0 });
      db.prepare("INSERT INTO index_pending (template_id, op) VALUES (10, 'upsert')").run();
      db.prepare("INSERT OR REPLACE INTO index_pending (template_id, op) VALUES (10, 'delete')").run();
      expect(db.prepare('SELECT op FROM index_pending').all()).toEqual([{ op: 'delete' }]);
    },
  },
  {
    version: 30,
    about: 'pin_attempts: lockouts are kept from now on; punches and outbox untouched',
    after(db) {
      db.prepare("INSERT INTO pin_attempts (subject, failures, locked_until) VALUES ('N-1', 1, NULL)").run();
      expect(db.prepare('SELECT subject, failures FROM pin_attempts').all()).toEqual([{ subject: 'N-1', failures: 1 }]);
    },
  },
  {
    version: 40,
    about: 'punch_snapshots: a snapshot belongs to a stored punch and fits the size limit',
    after(db, punches) {
      db.prepare('INSERT INTO punch_snapshots (punch_id, jpeg) VALUES (?, ?)').run(punches.fresh, JPEG);
      const insert = db.prepare('INSERT INTO punch_snapshots (punch_id, jpeg) VALUES (?, ?)');
      expect(() => insert.run(randomUUID(), JPEG)).toThrow(/FOREIGN KEY/);
      expect(() => insert.run(punches.retrying, Buffer.alloc(65537))).toThrow(/CHECK/);
    },
  },
  {
    version: 50,
    about: 'pin_attempts.window_started_at: existing lockouts keep their counts and get no window',
    after(db) {
      const attempts = db.prepare('SELECT subject, failures, locked_until, window_started_at FROM pin_attempts ORDER BY subject');
      expect(attempts.all()).toEqual([
        { subject: '*admin*', failures: 5, locked_until: '2026-03-05T08:15:00.000Z', window_started_at: null },
        { subject: 'N-1', failures: 2, locked_until: null, window_started_at: null },
      ]);
      db.prepare(
        "INSERT INTO pin_attempts (subject, failures, window_started_at) VALUES ('*employee-pins*', 1, '2026-03-05T09:00:00.000Z')",
      ).run();
    },
  },
  {
    version: 60,
    about: 'outbox.refused_at: punches waiting before the update are pending, none counted as refused',
    after(db, punches) {
      expect(db.prepare('SELECT punch_id, attempts, refused_at FROM outbox ORDER BY next_attempt_at').all()).toEqual([
        { punch_id: punches.retrying, attempts: 4, refused_at: null },
        { punch_id: punches.fresh, attempts: 0, refused_at: null },
      ]);
      db.prepare("UPDATE outbox SET refused_at = '2026-03-05T09:00:00.000Z' WHERE punch_id = ?").run(punches.retrying);
      expect(db.prepare('SELECT count(*) AS n FROM outbox WHERE refused_at IS NULL').get()).toEqual({ n: 1 });
    },
  },
  {
    version: 70,
    about: 'punches.superseded_at: every punch made before the update still counts; one central voided stops counting',
    after(db, punches) {
      expect(db.prepare('SELECT count(*) AS n FROM punches WHERE superseded_at IS NOT NULL').get()).toEqual({ n: 0 });
      expect(lastPunchOf(db, 1)).toEqual({ direction: 'out', at: new Date('2026-03-04T17:00:00.000Z') });
      db.prepare("UPDATE punches SET superseded_at = '2026-03-05T09:00:00.000Z' WHERE id = ?").run(punches.retrying);
      expect(lastPunchOf(db, 1)).toEqual({ direction: 'in', at: new Date('2026-03-04T08:00:00.000Z') });
    },
  },
];

describe('kiosk migrations upgrade real data', () => {
  const dir = mkdtempSync(join(tmpdir(), 'clockface-kiosk-upgrade-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('every kiosk migration after the first has an upgrade step here', () => {
    expect(STEPS.map((s) => s.version)).toEqual(FILES.slice(1).map((f) => f.version));
  });

  it.each(STEPS)('$version: $about', (step) => {
    const path = join(dir, `kiosk-${step.version}.db`);
    const at = previous(step.version);
    const old = openKioskDb(path, upTo(at));
    const punches = seed(old, at);
    const before = tables(old);
    const rows = dump(old, before);
    old.close();

    // The app update: the same file opened by a build with one migration more.
    const db = openKioskDb(path, upTo(step.version));
    try {
      const versions = db.prepare('SELECT version FROM clockface_migrations ORDER BY version').pluck().all();
      expect(versions).toEqual(upTo(step.version).map((f) => f.version));
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(db.pragma('foreign_key_check')).toEqual([]);

      const after = tables(db);
      for (const table of before.keys()) expect(after.has(table), `table ${table} still exists`).toBe(true);
      const again = dump(db, before);
      for (const [table, json] of Object.entries(rows)) {
        expect(JSON.parse(again[table] ?? 'null'), `rows of ${table}`).toEqual(JSON.parse(json));
      }
      for (const [table, columns] of after) {
        const old = before.get(table);
        if (!old) {
          expect(db.prepare(`SELECT count(*) AS n FROM ${JSON.stringify(table)}`).get(), `new table ${table}`).toEqual({ n: 0 });
          continue;
        }
        for (const column of columns.filter((c) => !old.some((o) => o.name === c.name))) {
          const differing = db
            .prepare(
              `SELECT count(*) AS n FROM ${JSON.stringify(table)}
               WHERE ${JSON.stringify(column.name)} IS NOT (${column.dflt_value ?? 'NULL'})`,
            )
            .get();
          expect(differing, `${table}.${column.name}: existing rows hold its default`).toEqual({ n: 0 });
        }
      }
      step.after(db, punches);
    } finally {
      db.close();
    }
    // The older build refuses the upgraded file instead of writing to a schema it does not know.
    expect(() => openKioskDb(path, upTo(at))).toThrow(expect.objectContaining({ code: 'KIOSK_DB_TOO_NEW' }));
  });
});
