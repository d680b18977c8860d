import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addDays,
  datesFromTo,
  isLocalDate,
  isTimeZone,
  localDateAt,
  LocalDayCalendar,
  parseWallTime,
  startOfLocalDay,
  startOfWeek,
  utcOffsetAt,
  wallClockAt,
  weekdayOf,
  zonedInstant,
} from './zoned-time.js';

const iso = (ms: number) => new Date(ms).toISOString();
const HOUR = 3_600_000;

describe('instant → wall clock', () => {
  it('reads the date and offset in the zone', () => {
    expect(localDateAt(new Date('2026-03-02T23:30Z'), 'Europe/Berlin')).toBe('2026-03-03');
    expect(localDateAt(new Date('2026-03-02T23:30Z'), 'America/New_York')).toBe('2026-03-02');
    expect(localDateAt(new Date('2026-03-02T10:30Z'), 'Pacific/Kiritimati')).toBe('2026-03-03'); // UTC+14
    expect(utcOffsetAt(Date.parse('2026-01-15T12:00Z'), 'Europe/Berlin')).toBe(HOUR);
    expect(utcOffsetAt(Date.parse('2026-07-15T12:00Z'), 'Europe/Berlin')).toBe(2 * HOUR);
    expect(utcOffsetAt(Date.parse('2026-07-15T12:00Z'), 'Asia/Kolkata')).toBe(5.5 * HOUR);
    expect(utcOffsetAt(Date.parse('2026-07-15T12:00Z'), 'Australia/Sydney')).toBe(10 * HOUR);
    expect(wallClockAt(Date.parse('2026-03-29T00:59:59Z'), 'Europe/Berlin')).toEqual({ year: 2026, month: 3, day: 29, hour: 1, minute: 59, second: 59 });
    expect(wallClockAt(Date.parse('2026-03-29T01:00:00Z'), 'Europe/Berlin')).toMatchObject({ hour: 3, minute: 0 });
    expect(wallClockAt(Date.parse('2026-03-02T00:00:00Z'), 'UTC')).toMatchObject({ hour: 0 }); // never 24
  });

  it('knows zones', () => {
    expect(isTimeZone('Europe/Berlin')).toBe(true);
    expect(isTimeZone('UTC')).toBe(true);
    expect(isTimeZone('Mars/Olympus')).toBe(false);
  });
});

describe('wall clock → instant', () => {
  it('a time that exists once', () => {
    expect(iso(zonedInstant('2026-03-03', 8 * 60, 'Europe/Berlin'))).toBe('2026-03-03T07:00:00.000Z');
    expect(iso(zonedInstant('2026-07-03', 8 * 60, 'America/New_York'))).toBe('2026-07-03T12:00:00.000Z');
  });

  it('a time the spring change skips lands as far after the jump (Temporal "compatible")', () => {
    expect(iso(zonedInstant('2026-03-29', 150, 'Europe/Berlin'))).toBe('2026-03-29T01:30:00.000Z'); // 03:30 CEST
    expect(iso(zonedInstant('2026-03-08', 150, 'America/New_York'))).toBe('2026-03-08T07:30:00.000Z'); // 03:30 EDT
    expect(iso(zonedInstant('2026-10-04', 150, 'Australia/Sydney'))).toBe('2026-10-03T16:30:00.000Z'); // 03:30 AEDT
    expect(wallClockAt(zonedInstant('2026-10-04', 125, 'Australia/Lord_Howe'), 'Australia/Lord_Howe')).toMatchObject({ hour: 2, minute: 35 }); // a 30-minute change
  });

  it('a time the autumn change repeats is the earlier one', () => {
    expect(iso(zonedInstant('2026-10-25', 150, 'Europe/Berlin'))).toBe('2026-10-25T00:30:00.000Z'); // 02:30 CEST
    expect(iso(zonedInstant('2026-11-01', 90, 'America/New_York'))).toBe('2026-11-01T05:30:00.000Z'); // 01:30 EDT
    expect(iso(zonedInstant('2026-04-05', 150, 'Australia/Sydney'))).toBe('2026-04-04T15:30:00.000Z'); // 02:30 AEDT
  });

  it('the start of a day where midnight does not exist is its first minute', () => {
    expect(iso(startOfLocalDay('2026-09-06', 'America/Santiago'))).toBe('2026-09-06T04:00:00.000Z'); // 01:00 -03
    expect(iso(startOfLocalDay('2026-03-29', 'Asia/Beirut'))).toBe('2026-03-28T22:00:00.000Z'); // 01:00 +03
    // Samoa skipped 30 December 2011 altogether: that day is empty, beginning when the 31st does.
    expect(startOfLocalDay('2011-12-30', 'Pacific/Apia')).toBe(startOfLocalDay('2011-12-31', 'Pacific/Apia'));
  });
});

describe('calendar dates', () => {
  it('checks, moves and names days without a zone', () => {
    expect(isLocalDate('2026-02-28')).toBe(true);
    expect(isLocalDate('2026-02-29')).toBe(false);
    expect(isLocalDate('2028-02-29')).toBe(true);
    expect(isLocalDate('2026-3-1')).toBe(false);
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
    expect(addDays('2028-03-01', -1)).toBe('2028-02-29');
    expect(weekdayOf('2026-03-02')).toBe(1); // a Monday
    expect(startOfWeek('2026-03-08', 1)).toBe('2026-03-02');
    expect(startOfWeek('2026-03-08', 0)).toBe('2026-03-08');
    expect(startOfWeek('2026-03-07', 0)).toBe('2026-03-01');
    expect(datesFromTo('2026-02-27', '2026-03-02')).toEqual(['2026-02-27', '2026-02-28', '2026-03-01', '2026-03-02']);
    expect(parseWallTime('23:59')).toBe(1439);
    expect(() => parseWallTime('24:00')).toThrow(RangeError);
  });
});

const ZONES = [
  'UTC',
  'Europe/Berlin',
  'America/New_York',
  'Australia/Sydney',
  'Australia/Lord_Howe',
  'America/Santiago',
  'Asia/Beirut',
  'Asia/Kolkata',
  'Pacific/Kiritimati',
  'Pacific/Chatham',
];
const instantArb = fc.integer({ min: Date.parse('2000-01-01T00:00Z'), max: Date.parse('2040-01-01T00:00Z') });

describe('properties of the zone helpers', () => {
  it('a local day holds exactly the instants from its start to the next day\'s start', () => {
    fc.assert(
      fc.property(instantArb, fc.constantFrom(...ZONES), (at, zone) => {
        const day = localDateAt(at, zone);
        // Instants, not durations: the day's start is at or before `at`, the next day's start after it.
        const start = startOfLocalDay(day, zone);
        const next = startOfLocalDay(addDays(day, 1), zone);
        expect(start <= at && at < next, `${zone} ${day}: ${start} <= ${at} < ${next}`).toBe(true);
      }),
      { numRuns: 400 },
    );
  });

  it('the calendar\'s binary search agrees with formatToParts, DST nights included', () => {
    const calendar = new LocalDayCalendar('2026-03-01', '2026-11-30', 'Europe/Berlin');
    const sydney = new LocalDayCalendar('2026-03-01', '2026-11-30', 'Australia/Sydney');
    const inRange = fc.integer({ min: Date.parse('2026-03-02T00:00Z'), max: Date.parse('2026-11-29T00:00Z') });
    fc.assert(
      fc.property(inRange, (at) => {
        expect(calendar.days[calendar.indexAt(at)]).toBe(localDateAt(at, 'Europe/Berlin'));
        expect(sydney.days[sydney.indexAt(at)]).toBe(localDateAt(at, 'Australia/Sydney'));
      }),
      { numRuns: 400 },
    );
    expect(calendar.indexAt(Date.parse('2020-01-01T00:00Z'))).toBe(-1);
    expect(calendar.indexAt(Number.NaN)).toBe(-1);
  });

  it('a wall time reads back as itself, or, skipped by a change, as far past it as the change; a repeated one is the earlier', () => {
    // Half the dates are days a zone changes its offset, and half the times early in the day, where changes happen.
    const changes = ZONES.flatMap((zone) => offsetChangeDays(zone, '2024-01-01', '2028-12-31').map((date) => ({ zone, date })));
    const anyDay = fc.record({
      zone: fc.constantFrom(...ZONES),
      date: fc.integer({ min: 0, max: 365 * 30 }).map((n) => addDays('2005-01-01', n)),
    });
    const minuteArb = fc.oneof(fc.integer({ min: 0, max: 1439 }), fc.integer({ min: 0, max: 239 }));
    const seen = { skipped: 0, repeated: 0 };
    fc.assert(
      fc.property(fc.oneof(anyDay, fc.constantFrom(...changes)), minuteArb, ({ date, zone }, minute) => {
        const at = zonedInstant(date, minute, zone);
        const wall = wallClockAt(at, zone);
        const asUtc = Date.parse(`${date}T00:00Z`) + minute * 60_000;
        const shown = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute);
        const before = utcOffsetAt(at - 86_400_000, zone);
        const after = utcOffsetAt(at + 86_400_000, zone);
        if (shown !== asUtc) {
          // Skipped: the clock jumped forward over it, and the answer is that far past the wall time.
          seen.skipped += 1;
          expect(after).toBeGreaterThan(before);
          expect(shown - asUtc).toBe(after - before);
        } else if (before > after) {
          // Around a fall-back change: the answer is the first instant showing this wall time.
          const earlier = asUtc - before;
          const later = asUtc - after;
          if (utcOffsetAt(earlier, zone) === before && utcOffsetAt(later, zone) === after) {
            seen.repeated += 1; // the wall time happened twice
            expect(at).toBe(earlier);
          }
        }
      }),
      { numRuns: 600 },
    );
    // The property above is only worth something if both kinds of change came up.
    expect(seen.skipped).toBeGreaterThan(0);
    expect(seen.repeated).toBeGreaterThan(0);
  });
});

/** The local dates on which a zone's offset changes, between two dates (found day by day, then by bisection). */
function offsetChangeDays(zone: string, from: string, to: string): string[] {
  const days: string[] = [];
  const noon = (date: string) => Date.parse(`${date}T12:00Z`);
  for (let date = from; date < to; date = addDays(date, 1)) {
    let low = noon(date);
    let high = noon(addDays(date, 1));
    const offset = utcOffsetAt(low, zone);
    if (utcOffsetAt(high, zone) === offset) continue;
    while (high - low > 1000) {
      const middle = Math.floor((low + high) / 2000) * 1000;
      if (utcOffsetAt(middle, zone) === offset) low = middle;
      else high = middle;
    }
    days.push(localDateAt(high, zone));
  }
  return days;
}
