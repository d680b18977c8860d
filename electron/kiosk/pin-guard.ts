import { systemClock, type KioskClock } from './kiosk-clock.js';
import type { KioskDatabase } from './store/kiosk-db.js';

export const ADMIN_SUBJECT = '*admin*';
/** The kiosk-wide count of wrong employee PINs, whoever they were tried against. */
export const EMPLOYEE_PINS_SUBJECT = '*employee-pins*';

export interface PinGuardOptions {
  /** Wrong PINs in a row before the lock. */
  maxFailures: number;
  /** How long the lock lasts. */
  lockMinutes: number;
}

export const DEFAULT_PIN_GUARD: PinGuardOptions = { maxFailures: 5, lockMinutes: 5 };

export interface PinSprayOptions {
  /** Wrong employee PINs, across all employee numbers, within one window before the whole PIN pad locks. */
  maxFailures: number;
  windowMinutes: number;
  lockMinutes: number;
}

/**
 * The per-number lock alone lets one PIN be tried against every employee number: with 1,000 employees and 4-digit
 * PINs that is a coin flip of a hit within minutes. Kiosk-wide, 20 wrong PINs per 15 minutes (about 1,900 a day, one
 * hit every ~5 days against 1,000 random PINs, and every attempt in the kiosk's log) lock the PIN pad for everyone
 * for 15 minutes. Honest typos come nowhere near that; a saboteur can lock the PIN fallback, not the face punch.
 */
export const DEFAULT_PIN_SPRAY: PinSprayOptions = { maxFailures: 20, windowMinutes: 15, lockMinutes: 15 };

export type PinCheck = { kind: 'ok' } | { kind: 'wrong'; attemptsLeft: number } | { kind: 'locked'; until: Date };

/**
 * Lock-out after wrong PINs, per subject (an employee number, or the admin PIN), kept in the kiosk database so
 * that a restart does not reset it. A 4-digit PIN has 10,000 values: at 5 tries per 5 minutes, guessing one at the
 * screen takes about a week of standing there. The count is per subject, not per person at the screen: someone
 * can lock a colleague out of the PIN fallback for a few minutes, which is the lesser harm.
 */
export class PinGuard {
  constructor(
    private readonly db: KioskDatabase,
    private readonly options: PinGuardOptions = DEFAULT_PIN_GUARD,
    private readonly clock: KioskClock = systemClock,
  ) {}

  private now(): Date {
    return this.clock.now();
  }

  lockedUntil(subject: string): Date | null {
    const row = this.db.prepare('SELECT locked_until FROM pin_attempts WHERE subject = ?').get(subject) as
      | { locked_until: string | null }
      | undefined;
    if (!row?.locked_until) return null;
    const until = new Date(row.locked_until);
    return until > this.now() ? until : null;
  }

  /**
   * Runs `verify` unless the subject is locked; records the outcome.
   *
   * The attempt is counted as a failure *before* `verify` runs (synchronously, in SQLite) and forgiven only when it
   * succeeds. Verifying takes tens of milliseconds (scrypt) and yields: counting afterwards would let a burst of
   * parallel guesses all pass the lock check before the first one was counted, and a process killed mid-check
   * would forget the guess. This way no more than `maxFailures` guesses are ever verified per lock period.
   */
  async check(subject: string, verify: () => Promise<boolean>): Promise<PinCheck> {
    const locked = this.lockedUntil(subject);
    if (locked) return { kind: 'locked', until: locked };
    const row = this.db.prepare('SELECT failures, locked_until FROM pin_attempts WHERE subject = ?').get(subject) as
      | { failures: number; locked_until: string | null }
      | undefined;
    // A lock that has run out starts a fresh count.
    const failures = (row && !row.locked_until ? row.failures : 0) + 1;
    const lockUntil =
      failures >= this.options.maxFailures ? new Date(this.now().getTime() + this.options.lockMinutes * 60_000) : null;
    this.upsert(subject, failures, lockUntil?.toISOString() ?? null);
    if (await verify()) {
      this.db.prepare('DELETE FROM pin_attempts WHERE subject = ?').run(subject);
      return { kind: 'ok' };
    }
    if (lockUntil) return { kind: 'locked', until: lockUntil };
    return { kind: 'wrong', attemptsLeft: this.options.maxFailures - failures };
  }

  private upsert(subject: string, failures: number, lockedUntil: string | null): void {
    this.db
      .prepare(
        `INSERT INTO pin_attempts (subject, failures, locked_until) VALUES (?, ?, ?)
         ON CONFLICT (subject) DO UPDATE SET failures = excluded.failures, locked_until = excluded.locked_until`,
      )
      .run(subject, failures, lockedUntil);
  }

  /**
   * Like `check`, for the kiosk-wide count: the guess is counted before `verify` runs (as in `check`), a correct PIN
   * takes back only its own count, and the count starts afresh when its window has run out, not on a success.
   */
  async checkWindowed(subject: string, options: PinSprayOptions, verify: () => Promise<PinCheck>): Promise<PinCheck> {
    const locked = this.lockedUntil(subject);
    if (locked) return { kind: 'locked', until: locked };
    const now = this.now();
    const row = this.db.prepare('SELECT failures, locked_until, window_started_at FROM pin_attempts WHERE subject = ?').get(subject) as
      | { failures: number; locked_until: string | null; window_started_at: string | null }
      | undefined;
    const windowOpen =
      row?.window_started_at && !row.locked_until && now.getTime() - new Date(row.window_started_at).getTime() < options.windowMinutes * 60_000;
    const failures = (windowOpen ? row.failures : 0) + 1;
    const windowStart = windowOpen && row.window_started_at ? row.window_started_at : now.toISOString();
    const lockUntil = failures > options.maxFailures ? new Date(now.getTime() + options.lockMinutes * 60_000) : null;
    this.upsertWindowed(subject, failures, lockUntil?.toISOString() ?? null, windowStart);
    if (lockUntil) return { kind: 'locked', until: lockUntil };
    const outcome = await verify();
    if (outcome.kind === 'ok') {
      this.db.prepare('UPDATE pin_attempts SET failures = max(failures - 1, 0) WHERE subject = ?').run(subject);
    }
    return outcome;
  }

  private upsertWindowed(subject: string, failures: number, lockedUntil: string | null, windowStartedAt: string): void {
    this.db
      .prepare(
        `INSERT INTO pin_attempts (subject, failures, locked_until, window_started_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (subject) DO UPDATE SET failures = excluded.failures, locked_until = excluded.locked_until,
           window_started_at = excluded.window_started_at`,
      )
      .run(subject, failures, lockedUntil, windowStartedAt);
  }
}
