import { randomUUID } from 'node:crypto';
import type { KioskDatabase } from './kiosk-db.js';
import type { LastPunch } from '../../../shared/kiosk/match-policy.js';

export interface NewPunch {
  employeeId: number;
  direction: 'in' | 'out';
  method: 'face' | 'pin';
  matchDistance: number | null;
  liveness?: 'passed' | 'failed' | 'not_checked';
  at: Date;
}

export interface StoredPunch extends Required<NewPunch> {
  id: string;
}

/**
 * The punch and its outbox row in one transaction, before the screen says "Clocked IN": after this returns, the
 * punch survives a crash or a power cut (WAL, synchronous=FULL) and will reach central once it is reachable.
 */
export function recordPunch(db: KioskDatabase, punch: NewPunch): StoredPunch {
  const stored: StoredPunch = { liveness: 'not_checked', ...punch, id: randomUUID() };
  const at = stored.at.toISOString();
  db.transaction(() => {
    db.prepare(
      `INSERT INTO punches (id, employee_id, direction, punched_at, method, match_distance, liveness)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ).run(stored.id, stored.employeeId, stored.direction, at, stored.method, stored.matchDistance, stored.liveness);
    db.prepare('INSERT INTO outbox (punch_id, next_attempt_at) VALUES (?, ?)').run(stored.id, at);
  })();
  return stored;
}

/**
 * The employee's latest punch anywhere this kiosk knows of: its own last one, or central's (another door) when that
 * is later.
 *
 * Its own last punch is the last one *recorded* (insertion order), not the one with the latest time: after the
 * kiosk clock was set back an hour, the punch just made carries an earlier time than the one before it, and
 * ordering by time would keep answering with the older punch (every later punch an OUT, the debounce lost).
 * A central last punch that is one of this kiosk's own (uploaded, then synced back) is already accounted for. Own
 * punches central's corrections voided or moved (superseded_at) no longer count: central's answer says what does.
 */
export function lastPunchOf(db: KioskDatabase, employeeId: number): LastPunch | null {
  const own = db
    .prepare('SELECT direction, punched_at FROM punches WHERE employee_id = ? AND superseded_at IS NULL ORDER BY rowid DESC LIMIT 1')
    .get(employeeId) as { direction: 'in' | 'out'; punched_at: string } | undefined;
  const central = db
    .prepare(
      `SELECT c.direction, c.punched_at FROM central_last_punches c
       WHERE c.employee_id = ?
         AND NOT EXISTS (SELECT 1 FROM punches p
                         WHERE p.employee_id = c.employee_id AND p.punched_at = c.punched_at AND p.direction = c.direction
                           AND p.superseded_at IS NULL)`,
    )
    .get(employeeId) as { direction: 'in' | 'out'; punched_at: string } | undefined;
  const latest = own && central ? (central.punched_at > own.punched_at ? central : own) : (own ?? central);
  return latest ? { direction: latest.direction, at: new Date(latest.punched_at) } : null;
}

/** The ids of the punches waiting for central (in the outbox). */
export function pendingPunchIds(db: KioskDatabase): Set<string> {
  return new Set(db.prepare('SELECT punch_id FROM outbox').pluck().all() as string[]);
}

export function pendingCount(db: KioskDatabase): number {
  return (db.prepare('SELECT count(*) AS n FROM outbox').get() as { n: number }).n;
}

/**
 * What the clock-out screen says as "Worked today": the minutes of each IN→OUT pair whose OUT falls on today's date
 * in the site's time zone (a night shift counts on the morning it ends), from this kiosk's punches of the last two
 * days and central's last punch (an IN at another door). Null when no pair closes today: nothing is shown rather
 * than a guess.
 */
export function workedMinutesToday(db: KioskDatabase, employeeId: number, now: Date, timeZone: string | null): number | null {
  const since = new Date(now.getTime() - 2 * 86_400_000).toISOString();
  const own = db
    .prepare('SELECT direction, punched_at FROM punches WHERE employee_id = ? AND punched_at >= ? AND superseded_at IS NULL ORDER BY punched_at, rowid')
    .all(employeeId, since) as { direction: 'in' | 'out'; punched_at: string }[];
  const central = db
    .prepare('SELECT direction, punched_at FROM central_last_punches WHERE employee_id = ? AND punched_at >= ?')
    .get(employeeId, since) as { direction: 'in' | 'out'; punched_at: string } | undefined;
  const punches = [...own];
  if (central && !own.some((p) => p.punched_at === central.punched_at && p.direction === central.direction)) {
    punches.push(central);
    punches.sort((a, b) => a.punched_at.localeCompare(b.punched_at));
  }
  const today = localDate(now, timeZone);
  let minutes: number | null = null;
  let openedAt: Date | null = null;
  for (const p of punches) {
    const at = new Date(p.punched_at);
    if (p.direction === 'in') {
      openedAt = at;
      continue;
    }
    if (openedAt !== null && localDate(at, timeZone) === today) {
      minutes = (minutes ?? 0) + Math.floor((at.getTime() - openedAt.getTime()) / 60_000);
    }
    openedAt = null;
  }
  return minutes;
}

/** YYYY-MM-DD of `when` in the zone (the system's when the zone is unknown or not one this runtime knows). */
function localDate(when: Date, timeZone: string | null): string {
  const options: Intl.DateTimeFormatOptions = { year: 'numeric', month: '2-digit', day: '2-digit' };
  try {
    return new Intl.DateTimeFormat('en-CA', { ...options, timeZone: timeZone ?? undefined }).format(when);
  } catch {
    return new Intl.DateTimeFormat('en-CA', options).format(when);
  }
}

/** When a face punch recorded here was made, or null when no face punch has that id. */
export function facePunchTime(db: KioskDatabase, punchId: string): Date | null {
  const row = db.prepare("SELECT punched_at FROM punches WHERE id = ? AND method = 'face'").get(punchId) as { punched_at: string } | undefined;
  return row ? new Date(row.punched_at) : null;
}
