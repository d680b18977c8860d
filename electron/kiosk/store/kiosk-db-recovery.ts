import { existsSync, renameSync } from 'node:fs';
import Database from 'better-sqlite3';
import { createLogger } from '../../../shared/logger.js';
import { systemClock, type KioskClock } from '../kiosk-clock.js';
import { openKioskDb, type KioskDatabase } from './kiosk-db.js';
import type { JournalEntry, PunchJournal } from './punch-journal.js';

const log = createLogger('kiosk.db');

export interface KioskDbRecovery {
  /** Where the damaged file was moved (kept for forensics, never deleted by Clockface). */
  corruptCopy: string;
  reason: string;
  /** Punches read back from the damaged file; all of them are queued for upload again (uploads are idempotent). */
  punchesSalvaged: number;
  /** Further punches found only in the punch journal (the damaged file had lost them), also queued. */
  punchesFromJournal: number;
}

export interface OpenedKioskDb {
  db: KioskDatabase;
  recovery: KioskDbRecovery | null;
  /**
   * Punches of the journal that a database which looked healthy did not have, copied back and queued: a database
   * file that came back without its -wal file (a crash with the WAL lost, a copy or restore of kiosk.db alone)
   * passes every check and yet has lost its latest commits.
   */
  punchesRestoredFromJournal: number;
}

const CORRUPTION_CODES = new Set(['SQLITE_CORRUPT', 'SQLITE_NOTADB', 'SQLITE_CORRUPT_INDEX', 'SQLITE_CORRUPT_SEQUENCE']);

function isCorruption(e: unknown): boolean {
  const code = typeof e === 'object' && e !== null && 'code' in e ? String(e.code) : '';
  return CORRUPTION_CODES.has(code) || code.startsWith('SQLITE_CORRUPT');
}

/**
 * Opens the kiosk database; a damaged one is moved aside and replaced by a new one, into which every punch that
 * can still be read is copied and queued for upload. The roster is a cache: the next sync rebuilds it from central.
 *
 * The check is SQLite's quick_check (page structure, not index contents): it is cheap enough for every start.
 */
export function openKioskDbRecovering(path: string, journal?: PunchJournal, clock: KioskClock = systemClock): OpenedKioskDb {
  let reason: string;
  try {
    const db = openKioskDb(path);
    const check = db.pragma('quick_check', { simple: true });
    if (check === 'ok') {
      try {
        return { db, recovery: null, punchesRestoredFromJournal: journal ? restoreMissingFromJournal(db, journal) : 0 };
      } catch (e) {
        db.close();
        throw e;
      }
    }
    db.close();
    reason = `quick_check: ${String(check)}`;
  } catch (e) {
    if (!isCorruption(e)) throw e;
    reason = (e as Error).message;
  }
  const corruptCopy = `${path}.corrupt-${clock.now().toISOString().replace(/[:.]/g, '-')}`;
  for (const suffix of ['', '-wal', '-shm']) {
    if (existsSync(path + suffix)) renameSync(path + suffix, corruptCopy + suffix);
  }
  log.error('kiosk database damaged; moved aside and rebuilding', { reason, corruptCopy });
  const db = openKioskDb(path);
  const punchesSalvaged = copyPunches(db, readPunches(corruptCopy));
  const punchesFromJournal = journal ? copyPunches(db, journal.readAll().map(journalRow)) : 0;
  log.error('kiosk database rebuilt', { punchesSalvaged, punchesFromJournal });
  return { db, recovery: { corruptCopy, reason, punchesSalvaged, punchesFromJournal }, punchesRestoredFromJournal: 0 };
}

function journalRow(j: JournalEntry): PunchRow {
  return {
    id: j.id,
    employee_id: j.employeeId,
    direction: j.direction,
    punched_at: j.at,
    method: j.method,
    match_distance: j.matchDistance,
    liveness: j.liveness,
  };
}

/**
 * A punch is committed to SQLite before its journal line is written, and the kiosk never deletes a punch row: so a
 * journal entry the database lacks is a punch the database lost. Copies each back and queues it (central ignores
 * the ones it already has). One indexed lookup per journal line (the months kept), at open only.
 */
function restoreMissingFromJournal(db: KioskDatabase, journal: PunchJournal): number {
  const has = db.prepare('SELECT 1 FROM punches WHERE id = ?').pluck();
  const missing = journal.readAll().filter((j) => has.get(j.id) === undefined);
  if (missing.length === 0) return 0;
  const restored = copyPunches(db, missing.map(journalRow));
  log.error('punches found only in the journal were restored: the database had lost its latest commits (a lost -wal file?)', {
    restored,
  });
  return restored;
}

interface PunchRow {
  id: string;
  employee_id: number;
  direction: string;
  punched_at: string;
  method: string;
  match_distance: number | null;
  liveness: string;
}

/** Every punch row that can still be read; a read that fails part-way keeps the rows read before it. */
function readPunches(from: string): PunchRow[] {
  const rows: PunchRow[] = [];
  let source: Database.Database | null = null;
  try {
    source = new Database(from, { readonly: true, fileMustExist: true });
    for (const row of source.prepare('SELECT * FROM punches').iterate() as Iterable<PunchRow>) rows.push(row);
  } catch (e) {
    log.error('could not read every punch from the damaged database', { error: (e as Error).message, read: rows.length });
  } finally {
    source?.close();
  }
  return rows;
}

/** Inserts the punches not already present and queues them for upload; returns how many were new. */
function copyPunches(into: KioskDatabase, rows: readonly PunchRow[]): number {
  const insertPunch = into.prepare(
    `INSERT OR IGNORE INTO punches (id, employee_id, direction, punched_at, method, match_distance, liveness)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
  );
  const queue = into.prepare('INSERT OR IGNORE INTO outbox (punch_id, next_attempt_at) VALUES (?, ?)');
  let copied = 0;
  into.transaction(() => {
    for (const r of rows) {
      try {
        if (insertPunch.run(r.id, r.employee_id, r.direction, r.punched_at, r.method, r.match_distance, r.liveness).changes === 0) continue;
        queue.run(r.id, r.punched_at);
        copied++;
      } catch (e) {
        // A row whose values the damage changed beyond the checks: keep going with the others.
        log.error('a damaged punch row could not be salvaged', { error: (e as Error).message });
      }
    }
  })();
  return copied;
}
