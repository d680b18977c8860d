import { describe, expect, it } from 'vitest';
import type { SiteWeek } from '../../timesheets/site-week.js';
import { WEEK_PAGE_SIZE, weekGridPage } from './timesheets.js';

const days = ['2026-11-16', '2026-11-17', '2026-11-18', '2026-11-19', '2026-11-20', '2026-11-21', '2026-11-22'];
const week = (people: number): SiteWeek => ({
  site: 'a',
  timeZone: 'Europe/Berlin',
  from: days[0] ?? '',
  to: days[6] ?? '',
  days,
  rows: Array.from({ length: people }, (_, i) => ({
    employeeNo: `E-${String(i).padStart(4, '0')}`,
    fullName: i === 0 ? '<script>alert(1)</script>' : `Person ${i}`,
    active: true,
    days: days.map((day) => ({ day, roundedMinutes: 480, overtimeMinutes: 0, flags: i < 3 ? ['missing_out' as const] : [], punches: 2 })),
    totalMinutes: 2400,
    overtimeMinutes: 0,
    exceptionDays: i < 3 ? 7 : 0,
  })),
});
const ctx = { lang: 'en' as const, csrf: 't', user: { login: 'it', role: 'admin' as const }, embedded: false, path: '/timesheets' };
const rowsIn = (html: string) => (html.match(/<tr( class="exception")?>\n<th scope="row">/g) ?? []).length;

describe('the week grid page', () => {
  it('shows a large site a page of people at a time, with the way to the next', () => {
    const big = week(250);
    const first = weekGridPage(ctx, ['a'], big, null);
    expect(rowsIn(first)).toBe(WEEK_PAGE_SIZE);
    expect(first).toContain('People 1–100 of 250');
    expect(first).toContain('page=1">Next page');
    expect(first).not.toContain('Previous page');
    const last = weekGridPage(ctx, ['a'], big, null, 2);
    expect(rowsIn(last)).toBe(50);
    expect(last).toContain('People 201–250 of 250');
    expect(last).not.toContain('Next page');
    // A page past the end shows the last one.
    expect(weekGridPage(ctx, ['a'], big, null, 99)).toContain('People 201–250 of 250');
  });

  it('a small site has no pager, and what people typed is text, never markup', () => {
    const small = weekGridPage(ctx, ['a'], week(5), null);
    expect(rowsIn(small)).toBe(5);
    expect(small).not.toContain('People 1–');
    expect(small).not.toContain('<script>alert(1)</script>');
    expect(small).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });
});
