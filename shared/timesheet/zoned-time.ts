/**
 * Calendar dates and wall-clock times in an IANA time zone, with nothing but `Intl.DateTimeFormat`: no library, no
 * Node built-in, so it runs in Node 20+ and in browsers alike.
 *
 * Two directions:
 * - instant → wall clock (`wallClockAt`, `localDateAt`): one `formatToParts` call.
 * - wall clock → instant (`zonedInstant`, `startOfLocalDay`): a wall time has no offset of its own, so we try the
 *   offsets in force around it and keep the one that reads back as that wall time. Times a DST jump skips and
 *   times it repeats are resolved the way Temporal's `'compatible'` disambiguation does (see `zonedInstant`).
 *
 * `shared/reports/attendance.ts` has `localDay`, but it reads the date from `en-CA`'s date format, which is locale
 * data rather than a contract; here every field comes from `formatToParts`, so no locale's format can break it.
 */

/** A calendar date, `YYYY-MM-DD`, with no time zone attached: a day on the site's wall calendar. */
export type LocalDate = string;

/** What a clock on the wall shows at some instant in some zone. `month` is 1–12, `hour` 0–23. */
export interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const DAY_MS = 86_400_000;
const LOCAL_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const WALL_TIME = /^([01]\d|2[0-3]):([0-5]\d)$/;

const formatters = new Map<string, Intl.DateTimeFormat>();

/**
 * One formatter per zone: building one costs far more than using it. The calendar and digits are pinned so that a
 * runtime whose default locale uses another calendar or numbering system still gives Gregorian Latin digits, and
 * `hourCycle: 'h23'` so midnight is 0 (with `hour12: false` some engines answer 24).
 */
function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      calendar: 'gregory',
      numberingSystem: 'latn',
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** Whether the runtime knows `timeZone` as an IANA zone (or `UTC`). */
export function isTimeZone(timeZone: string): boolean {
  try {
    formatterFor(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** The wall clock in `timeZone` at an instant (epoch milliseconds or a Date). Throws a RangeError for an unknown zone. */
export function wallClockAt(at: number | Date, timeZone: string): WallClock {
  const wall: WallClock = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0 };
  for (const part of formatterFor(timeZone).formatToParts(at)) {
    switch (part.type) {
      case 'year':
        wall.year = Number(part.value);
        break;
      case 'month':
        wall.month = Number(part.value);
        break;
      case 'day':
        wall.day = Number(part.value);
        break;
      case 'hour':
        // Older engines ignore hourCycle and say 24 for midnight; it is the same instant as 0 of that day.
        wall.hour = Number(part.value) % 24;
        break;
      case 'minute':
        wall.minute = Number(part.value);
        break;
      case 'second':
        wall.second = Number(part.value);
        break;
      default:
        break;
    }
  }
  return wall;
}

/** The calendar date in `timeZone` at an instant, as `YYYY-MM-DD`. */
export function localDateAt(at: number | Date, timeZone: string): LocalDate {
  const wall = wallClockAt(at, timeZone);
  return formatLocalDate(wall.year, wall.month, wall.day);
}

/**
 * The zone's offset from UTC at an instant, in milliseconds (Berlin in summer: +7_200_000). Whole seconds: the
 * formatter shows no milliseconds, so the instant is floored to its second first.
 */
export function utcOffsetAt(at: number, timeZone: string): number {
  const second = Math.floor(at / 1000) * 1000;
  const wall = wallClockAt(second, timeZone);
  return Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second) - second;
}

/**
 * The instant (epoch milliseconds) at which the wall clock in `timeZone` shows `date` at `minuteOfDay` minutes
 * after midnight.
 *
 * Around a DST change a wall time may not exist (spring forward: 02:30 in Berlin on 2026-03-29) or exist twice
 * (fall back: 02:30 on 2026-10-25). As Temporal's `'compatible'` does: a skipped time is read with the offset in
 * force before the jump, so it lands as far after the jump as it was into the gap (02:30 → 03:30 CEST); a repeated
 * time is the earlier of the two. Both keep a shift's start on the day it is scheduled.
 */
export function zonedInstant(date: LocalDate, minuteOfDay: number, timeZone: string): number {
  const key = `${timeZone} ${date} ${minuteOfDay}`;
  let instant = zonedInstants.get(key);
  if (instant === undefined) {
    // The memo only grows with distinct zones, dates and times asked for; a long-running process asking about
    // years of dates starts afresh rather than holding on to them all.
    if (zonedInstants.size >= ZONED_INSTANT_MEMO_SIZE) zonedInstants.clear();
    instant = computeZonedInstant(date, minuteOfDay, timeZone);
    zonedInstants.set(key, instant);
  }
  return instant;
}

/** `zonedInstant` answers by zone, date and minute: every day's start and every scheduled shift asks again. */
const zonedInstants = new Map<string, number>();
const ZONED_INSTANT_MEMO_SIZE = 100_000;

function computeZonedInstant(date: LocalDate, minuteOfDay: number, timeZone: string): number {
  const { year, month, day } = parseLocalDate(date);
  // The wall time read as if it were UTC; the true instant is this minus the offset in force at the true instant.
  const asUtc = Date.UTC(year, month - 1, day, 0, minuteOfDay);
  // Offsets span ±14 h, so the offsets a day either side cover every offset that can be in force at the answer
  // (unless a zone changed its offset twice within two days, which no zone has done in the tz database's range).
  const before = utcOffsetAt(asUtc - DAY_MS, timeZone);
  const after = utcOffsetAt(asUtc + DAY_MS, timeZone);
  if (before === after) return asUtc - before; // no change nearby: the common case, two Intl calls
  let earliest: number | null = null;
  for (const offset of [before, after]) {
    const instant = asUtc - offset;
    if (utcOffsetAt(instant, timeZone) === offset && (earliest === null || instant < earliest)) earliest = instant;
  }
  if (earliest !== null) return earliest;
  // No offset reads back: the time was skipped. A gap is always the offset growing, so the offset before it is
  // the smaller one.
  return asUtc - Math.min(before, after);
}

/** The instant the local day `date` begins in `timeZone` (usually midnight; the first minute that exists if not). */
export function startOfLocalDay(date: LocalDate, timeZone: string): number {
  return zonedInstant(date, 0, timeZone);
}

/** Whether `value` is a real calendar date written `YYYY-MM-DD` (so `2026-02-30` is not). */
export function isLocalDate(value: string): boolean {
  const match = LOCAL_DATE.exec(value);
  if (!match) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const probe = new Date(Date.UTC(year, month - 1, day));
  return probe.getUTCFullYear() === year && probe.getUTCMonth() === month - 1 && probe.getUTCDate() === day;
}

/** The parts of a `YYYY-MM-DD` date. Throws a RangeError for anything else. */
export function parseLocalDate(date: LocalDate): { year: number; month: number; day: number } {
  if (!isLocalDate(date)) throw new RangeError(`not a YYYY-MM-DD date: ${JSON.stringify(date)}`);
  return { year: Number(date.slice(0, 4)), month: Number(date.slice(5, 7)), day: Number(date.slice(8, 10)) };
}

/** `date` moved by a number of calendar days (negative goes back). Calendar arithmetic: no zone is involved. */
export function addDays(date: LocalDate, days: number): LocalDate {
  const { year, month, day } = parseLocalDate(date);
  const moved = new Date(Date.UTC(year, month - 1, day) + days * DAY_MS);
  return formatLocalDate(moved.getUTCFullYear(), moved.getUTCMonth() + 1, moved.getUTCDate());
}

/** The day of the week of a calendar date: 0 Sunday … 6 Saturday. */
export function weekdayOf(date: LocalDate): number {
  const { year, month, day } = parseLocalDate(date);
  return new Date(Date.UTC(year, month - 1, day)).getUTCDay();
}

/** The first day of the week holding `date`, for weeks that start on `weekStartsOn` (0 Sunday … 6 Saturday). */
export function startOfWeek(date: LocalDate, weekStartsOn: number): LocalDate {
  return addDays(date, -((weekdayOf(date) - weekStartsOn + 7) % 7));
}

/** Every calendar date from `from` to `to`, both included (empty when `from` is after `to`). */
export function datesFromTo(from: LocalDate, to: LocalDate): LocalDate[] {
  const dates: LocalDate[] = [];
  for (let date = from; date <= to; date = addDays(date, 1)) dates.push(date);
  return dates;
}

/** `HH:MM` (00:00–23:59) as minutes after midnight; throws a RangeError for anything else. */
export function parseWallTime(time: string): number {
  const match = WALL_TIME.exec(time);
  if (!match) throw new RangeError(`not an HH:MM time: ${JSON.stringify(time)}`);
  return Number(match[1]) * 60 + Number(match[2]);
}

/** Whether `time` is a wall time written `HH:MM`, 00:00–23:59. */
export function isWallTime(time: string): boolean {
  return WALL_TIME.test(time);
}

/**
 * Consecutive local days in one zone with the instants they begin, answering "which day holds this instant" by a
 * binary search instead of a `formatToParts` call per punch (the search is exact: a zone's local days are
 * back-to-back half-open intervals of time).
 */
export class LocalDayCalendar {
  /** The days, in order. */
  readonly days: readonly LocalDate[];
  /** `starts[i]` is when `days[i]` begins; `starts[days.length]` is when the day after the last begins. */
  readonly starts: readonly number[];

  constructor(from: LocalDate, to: LocalDate, readonly timeZone: string) {
    this.days = datesFromTo(from, to);
    this.starts = [...this.days, addDays(to, 1)].map((date) => startOfLocalDay(date, timeZone));
  }

  /** The index in `days` of the day holding the instant, or -1 when it falls outside them. */
  indexAt(at: number): number {
    const { starts } = this;
    // NaN fails both comparisons, so an invalid time is outside too.
    if (!(at >= (starts[0] ?? Infinity)) || !(at < (starts[starts.length - 1] ?? -Infinity))) return -1;
    let low = 0;
    let high = starts.length - 1; // invariant: starts[low] <= at < starts[high]
    while (high - low > 1) {
      const middle = (low + high) >>> 1;
      if ((starts[middle] ?? Infinity) <= at) low = middle;
      else high = middle;
    }
    return low;
  }
}

function formatLocalDate(year: number, month: number, day: number): LocalDate {
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}
