import { ClockfaceError } from '../../shared/errors.js';
import { isLocalDate, zonedInstant } from '../../shared/timesheet/zoned-time.js';

/**
 * `2026-03-10T18:00`, `2026-03-10 18:00:30`, `2026-03-10T17:00Z`, `2026-03-10T18:00+01:00`: a date, a time to the
 * minute or second (a fraction of a second is allowed and kept), and an optional offset.
 */
const ISO_TIME = /^(\d{4}-\d{2}-\d{2})[T ]([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d)(\.\d{1,3})?)?(Z|[+-](?:[01]\d|2[0-3]):?[0-5]\d)?$/i;

/** An instant someone typed, read in `timeZone` when it carries no offset. */
export interface TypedInstant {
  at: Date;
  /** Whether the text carried its own offset (Z or ±HH:MM); if not, it was read in the zone given. */
  hadOffset: boolean;
}

/** Whether the text names its own offset, so that no zone is needed to read it. */
export function hasOffset(text: string): boolean {
  const match = ISO_TIME.exec(text.trim());
  return Boolean(match?.[6]);
}

/**
 * Reads an ISO time. One with an offset is that instant; one without is a wall-clock time in `timeZone` (the
 * employee's site), read as the timesheet engine reads wall times around a DST change: a time the spring change
 * skips lands as far after it, a time the autumn change repeats is the earlier one. `timeZone` null: the text must
 * carry an offset.
 */
export function parseTypedInstant(text: string, timeZone: string | null, what = '--at'): TypedInstant {
  const match = ISO_TIME.exec(text.trim());
  const bad = () =>
    new ClockfaceError(
      'INVALID_ARGUMENT',
      `${what} must be an ISO time such as 2026-03-10T18:00 (the site's wall clock) or 2026-03-10T17:00Z, not ${JSON.stringify(text)}`,
    );
  if (!match) throw bad();
  const [, date = '', hours = '', minutes = '', seconds = '0', fraction = '', offset] = match;
  if (!isLocalDate(date)) throw bad();
  const secondsMs = Number(seconds) * 1000 + (fraction ? Math.round(Number(fraction) * 1000) : 0);
  if (offset) {
    const at = new Date(`${date}T${hours}:${minutes}:00${normalOffset(offset)}`);
    if (Number.isNaN(at.getTime())) throw bad();
    return { at: new Date(at.getTime() + secondsMs), hadOffset: true };
  }
  if (timeZone === null) throw bad();
  return { at: new Date(zonedInstant(date, Number(hours) * 60 + Number(minutes), timeZone) + secondsMs), hadOffset: false };
}

function normalOffset(offset: string): string {
  if (offset.toUpperCase() === 'Z') return 'Z';
  return offset.includes(':') ? offset : `${offset.slice(0, 3)}:${offset.slice(3)}`;
}
