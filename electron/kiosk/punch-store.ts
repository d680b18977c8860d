import { randomUUID } from 'node:crypto';
import type { KioskDatabase } from './kiosk-db.js';
import type { LastPunch } from '../../shared/kiosk/match-policy.js';

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

/** The employee's latest punch anywhere this kiosk knows of: its own, or central's (another door), whichever is later. */
export function lastPunchOf(db: KioskDatabase, employeeId: number): LastPunch | null {
  const own = db
    .prepare('SELECT direction, punched_at FROM punches WHERE employee_id = ? ORDER BY punched_at DESC LIMIT 1')
    .get(employeeId) as { direction: 'in' | 'out'; punched_at: string } | undefined;
  const central = db
    .prepare('SELECT direction, punched_at FROM central_last_punches WHERE employee_id = ?')
    .get(employeeId) as { direction: 'in' | 'out'; punched_at: string } | undefined;
  const candidates = [own, central].filter((p): p is { direction: 'in' | 'out'; punched_at: string } => p !== undefined);
  if (candidates.length === 0) return null;
  const latest = candidates.reduce((a, b) => (b.punched_at > a.punched_at ? b : a));
  return { direction: latest.direction, at: new Date(latest.punched_at) };
}

export function pendingCount(db: KioskDatabase): number {
  return (db.prepare('SELECT count(*) AS n FROM outbox').get() as { n: number }).n;
}
