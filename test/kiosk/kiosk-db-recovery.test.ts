import { appendFileSync, closeSync, existsSync, mkdtempSync, openSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openKioskDbRecovering } from '../../electron/kiosk/store/kiosk-db-recovery.js';
import { openKioskDb, type KioskDatabase } from '../../electron/kiosk/store/kiosk-db.js';
import { PunchJournal } from '../../electron/kiosk/store/punch-journal.js';
import { pendingCount, recordPunch } from '../../electron/kiosk/store/punch-store.js';
import { seededRandom } from '../support/roster-fixtures.js';

/**
 * A damaged kiosk database (a disk error, a bad SD card, a copy taken mid-write) must not stop the kiosk, and must
 * not lose the punches that can still be read: the file is moved aside, a new database is made, every readable
 * punch is copied into it and queued for upload (idempotent on central), and the roster comes back at the next sync.
 */
const PAGE = 4096;

function overwritePages(path: string, pages: number[], random: () => number): void {
  const fd = openSync(path, 'r+');
  try {
    for (const page of pages) {
      const junk = Buffer.from(Array.from({ length: PAGE }, () => Math.floor(random() * 256)));
      writeSync(fd, junk, 0, PAGE, (page - 1) * PAGE);
    }
  } finally {
    closeSync(fd);
  }
}

describe('damaged kiosk database', () => {
  let dir: string;
  let path: string;
  const random = seededRandom(77);

  /** A kiosk with a roster (300 templates), 60 punches: 50 waiting for upload, 10 already uploaded. */
  function populate(): string[] {
    const db: KioskDatabase = openKioskDb(path);
    const ids: string[] = [];
    db.transaction(() => {
      for (let e = 1; e <= 100; e++) {
        db.prepare("INSERT INTO employees (id, employee_no, full_name, site, active) VALUES (?, ?, 'Someone', 'hq', 1)").run(e, `E${e}`);
        for (let t = 0; t < 3; t++) {
          db.prepare("INSERT INTO templates (id, employee_id, model_id, embedding) VALUES (?, ?, 'faceapi-resnet128@1', ?)").run(
            e * 10 + t,
            e,
            Buffer.from(Float32Array.from({ length: 128 }, () => random() - 0.5).buffer),
          );
        }
      }
    })();
    for (let i = 0; i < 60; i++) {
      ids.push(recordPunch(db, { employeeId: 1 + (i % 100), direction: i % 2 ? 'out' : 'in', method: 'face', matchDistance: 0.3, at: new Date(Date.UTC(2026, 2, 2, 8, i)) }).id);
    }
    db.prepare('DELETE FROM outbox WHERE punch_id IN (SELECT punch_id FROM outbox ORDER BY punch_id LIMIT 10)').run();
    expect(pendingCount(db)).toBe(50);
    db.pragma('wal_checkpoint(TRUNCATE)'); // everything in the main file, so that page damage hits committed data
    db.close();
    return ids;
  }

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'clockface-recovery-'));
    path = join(dir, 'kiosk.db');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('a healthy database opens as it is', () => {
    populate();
    const { db, recovery } = openKioskDbRecovering(path);
    expect(recovery).toBeNull();
    expect(pendingCount(db)).toBe(50);
    db.close();
  });

  it('damaged roster pages: moved aside, every punch kept and queued again, the roster left for the next sync', () => {
    const ids = populate();
    const probe = openKioskDb(path);
    const pages = (probe.prepare("SELECT pageno FROM dbstat WHERE name = 'templates' ORDER BY pageno").pluck().all() as number[]).slice(2, 12);
    probe.close();
    expect(pages.length).toBe(10);
    overwritePages(path, pages, random);

    const { db, recovery } = openKioskDbRecovering(path);
    try {
      expect(recovery).not.toBeNull();
      expect(recovery?.punchesSalvaged).toBe(60);
      expect(existsSync(recovery?.corruptCopy ?? '')).toBe(true); // kept for forensics, never deleted
      const kept = db.prepare('SELECT id FROM punches ORDER BY id').pluck().all();
      expect(kept).toEqual([...ids].sort());
      // All 60 go to central again; the 10 already there are absorbed by ON CONFLICT (id) DO NOTHING.
      expect(pendingCount(db)).toBe(60);
      expect(db.prepare('SELECT count(*) AS n FROM templates').get()).toEqual({ n: 0 });
      expect(db.pragma('quick_check', { simple: true })).toBe('ok');
    } finally {
      db.close();
    }
    // The next open finds the new database healthy.
    const again = openKioskDbRecovering(path);
    expect(again.recovery).toBeNull();
    again.db.close();
  });

  it('a destroyed file header without a journal: a new database, the loss said plainly, the kiosk works again', () => {
    populate();
    overwritePages(path, [1], random);
    const { db, recovery } = openKioskDbRecovering(path);
    try {
      expect(recovery?.reason).toMatch(/not a database|malformed|corrupt/i);
      expect(recovery).toMatchObject({ punchesSalvaged: 0, punchesFromJournal: 0 }); // reported, not hidden
      recordPunch(db, { employeeId: 1, direction: 'in', method: 'pin', matchDistance: null, at: new Date() });
      expect(pendingCount(db)).toBe(1);
    } finally {
      db.close();
    }
    expect(readdirSync(dir).some((f) => f.startsWith('kiosk.db.corrupt-'))).toBe(true);
  });

  it('a destroyed file header with the punch journal: every punch comes back from the journal', () => {
    const journal = new PunchJournal(join(dir, 'journal'));
    const db = openKioskDb(path);
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) {
      const punch = recordPunch(db, { employeeId: 7, direction: i % 2 ? 'out' : 'in', method: 'face', matchDistance: 0.2, at: new Date(Date.UTC(2026, 2, 3, 8, i)) });
      journal.append(punch);
      ids.push(punch.id);
    }
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
    // A power cut in the middle of the last append leaves a torn line: skipped, the rest kept.
    appendFileSync(join(dir, 'journal', readdirSync(join(dir, 'journal'))[0]!), '{"id":"0b5');
    overwritePages(path, [1], random);

    const reopened = openKioskDbRecovering(path, journal);
    try {
      expect(reopened.recovery).toMatchObject({ punchesSalvaged: 0, punchesFromJournal: 40 });
      expect(reopened.db.prepare('SELECT id FROM punches ORDER BY id').pluck().all()).toEqual([...ids].sort());
      expect(pendingCount(reopened.db)).toBe(40);
      const row = reopened.db.prepare('SELECT employee_id, direction, punched_at, method, match_distance FROM punches WHERE id = ?').get(ids[1]);
      expect(row).toEqual({ employee_id: 7, direction: 'out', punched_at: '2026-03-03T08:01:00.000Z', method: 'face', match_distance: 0.2 });
    } finally {
      reopened.db.close();
    }
  });
});
