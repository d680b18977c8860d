import { closeSync, fstatSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { createLogger } from '../../../shared/logger.js';
import type { StoredPunch } from './punch-store.js';
import { systemClock, type KioskClock } from '../kiosk-clock.js';

const log = createLogger('kiosk.journal');

/**
 * A second, append-only copy of every punch, beside the kiosk database: one JSON line per punch, flushed to disk
 * before the screen confirms. SQLite is the record the kiosk works from; the journal exists for the day that
 * record is damaged beyond reading (a destroyed header, a dying SD card), when it is how the punches are
 * recovered. One file per month; files older than {@link KEEP_MONTHS} months are removed.
 *
 * It holds employee ids and times, nothing biometric (no descriptor, no photo).
 */
export const JOURNAL_DIR = 'journal';
const KEEP_MONTHS = 3;
const FILE = /^punches-(\d{4})-(\d{2})\.jsonl$/;

const lineSchema = z.object({
  id: z.uuid(),
  employeeId: z.number().int(),
  direction: z.enum(['in', 'out']),
  at: z.iso.datetime(),
  method: z.enum(['face', 'pin']),
  matchDistance: z.number().nullable(),
  liveness: z.enum(['passed', 'failed', 'not_checked']),
});
export type JournalEntry = z.infer<typeof lineSchema>;

function monthFile(at: Date): string {
  return `punches-${at.toISOString().slice(0, 7)}.jsonl`;
}

export class PunchJournal {
  /**
   * `clock` picks the month file a line is written to (when it was written, not the punch's own time: a punch carrying
   * an old time, from a kiosk clock set back, must not land in a file the next prune takes away), and the prune's
   * "now".
   */
  constructor(
    private readonly dir: string,
    private readonly clock: KioskClock = systemClock,
  ) {
    mkdirSync(dir, { recursive: true });
  }

  /** Appends and fsyncs. Throws on a full or failing disk: the caller decides (the punch is already in SQLite). */
  append(punch: StoredPunch): void {
    const entry: JournalEntry = {
      id: punch.id,
      employeeId: punch.employeeId,
      direction: punch.direction,
      at: punch.at.toISOString(),
      method: punch.method,
      matchDistance: punch.matchDistance,
      liveness: punch.liveness,
    };
    const path = join(this.dir, monthFile(this.clock.now()));
    const fd = openSync(path, 'a+');
    try {
      const size = fstatSync(fd).size;
      // A line torn by a power cut mid-append ends without a newline: start on a fresh line, or this entry would be
      // glued to the torn one and both would be unreadable.
      let prefix = '';
      if (size > 0) {
        const last = Buffer.alloc(1);
        readSync(fd, last, 0, 1, size - 1);
        if (last[0] !== 0x0a) prefix = '\n';
      }
      try {
        writeFileSync(fd, `${prefix}${JSON.stringify(entry)}\n`);
        fsyncSync(fd);
      } catch (e) {
        // A full disk takes part of the line and refuses the rest: cut the part off again, so that the file ends on a
        // whole line and the next append (once there is space) is readable. Best effort: the error is what matters.
        try {
          ftruncateSync(fd, size);
        } catch {
          // the torn line stays; readAll skips it and the next append starts a new line (above)
        }
        throw e;
      }
    } finally {
      closeSync(fd);
    }
  }

  /** Every readable entry of every kept month; a torn last line (power cut mid-append) is skipped. */
  readAll(): JournalEntry[] {
    return readdirSync(this.dir)
      .filter((f) => FILE.test(f))
      .sort()
      .flatMap((file) => this.readFile(file));
  }

  /** The valid lines of one month file; a torn or invalid line is skipped (and logged). */
  private readFile(file: string): JournalEntry[] {
    const entries: JournalEntry[] = [];
    const lines = readFileSync(join(this.dir, file), 'utf8').split('\n');
    for (const [i, line] of lines.entries()) {
      if (line.trim() === '') continue;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        log.warn('unreadable journal line skipped', { file, line: i + 1 });
        continue;
      }
      const parsed = lineSchema.safeParse(value);
      if (parsed.success) entries.push(parsed.data);
      else log.warn('invalid journal line skipped', { file, line: i + 1 });
    }
    return entries;
  }

  /**
   * Removes month files older than the kept window (their punches reached central long ago), except a file that still
   * holds a punch `stillNeeded` says has not reached central: a month is the kiosk clock's when the line was written,
   * and a clock that was set back and then corrected must not take a second copy of a waiting punch away.
   */
  prune(now: Date = this.clock.now(), stillNeeded: (punchId: string) => boolean = () => false): void {
    const cutoff = now.getUTCFullYear() * 12 + now.getUTCMonth() - KEEP_MONTHS;
    for (const file of readdirSync(this.dir)) {
      const m = FILE.exec(file);
      if (!m || Number(m[1]) * 12 + Number(m[2]) - 1 >= cutoff) continue;
      if (this.readFile(file).some((entry) => stillNeeded(entry.id))) {
        log.warn('old journal file kept: it holds punches not yet on central', { file });
        continue;
      }
      rmSync(join(this.dir, file));
    }
  }
}
