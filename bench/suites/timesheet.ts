import type pg from 'pg';
import { connectCentral } from '../../electron/central/connect.js';
import { migrateCentral } from '../../electron/central/migrate.js';
import { hoursReport } from '../../electron/reports/hours-report.js';
import { employeeTimesheet, payrollReport } from '../../electron/timesheets/timesheet-view.js';
import { buildTimesheets, DEFAULT_RULES, type RawPunch } from '../../shared/timesheet/index.js';
import { distribution } from '../../shared/stats/distribution.js';
import type { BenchResult } from '../report.js';
import type { BenchSuite } from '../run.js';
import { eachCentral, label, type BenchCentral } from '../support/bench-centrals.js';

/**
 * Timesheets at payroll time (issue 17): a site in Europe/Berlin with a 30-minute break after 6 h and daily overtime
 * after 8 h; E employees × a month of workdays (IN about 08:00, OUT about 17:00, 1 % of days with a forgotten OUT
 * fixed by an approved correction). Side by side in one run, on each central:
 * - `clockface report --payroll` for the month (payrollReport: central reads + the engine with the site's rules and
 *   corrections) against today's `clockface report` for the same month (hoursReport: the same read, default rules);
 * - one employee's month (`clockface timesheet`, p50 of 20) with F other punches in the table;
 * - the engine alone on the same punches in memory (punches/s).
 * Quick: 1,000 employees (~40k punches), 200k other punches; --full: 10,000 employees (~400k punches) and, on the
 * server, 10M other punches (the figures; the embedded central gets the quick filler).
 */

export const SITE = 'berlin';
export const FROM = '2026-11-01';
export const TO = '2026-11-30';
export const RULES = { ...DEFAULT_RULES, autoBreak: { afterWorkedMinutes: 360, breakMinutes: 30 }, dailyOvertimeAfterMinutes: 480 };

interface Profile {
  employees: number;
  filler: number;
}

/** The month's punches (workdays of November 2026 in Berlin, UTC+1), written by SQL; returns how many. */
export async function fillMonth(admin: pg.Client, employees: number): Promise<number> {
  await admin.query(
    `INSERT INTO employees (employee_no, full_name, site)
     SELECT 'T' || lpad(g::text, 6, '0'), 'Timesheet Employee ' || g, $1 FROM generate_series(1, $2::int) g ORDER BY g`,
    [SITE, employees],
  );
  const kiosk = (await admin.query<{ id: string }>("INSERT INTO kiosks (name, role_name, site) VALUES ('bench-door', 'bench_nobody', $1) RETURNING id::text", [SITE])).rows[0]?.id;
  // Minutes of jitter from the id and the day, so that no two people punch at the same instant; 1 % of days have no OUT.
  const inserted = await admin.query(
    `INSERT INTO punches (id, employee_id, kiosk_id, direction, punched_at, method, match_distance)
     SELECT gen_random_uuid(), e.id, $2::bigint, d.direction,
            (day + (CASE d.direction WHEN 'in' THEN time '07:00' ELSE time '16:00' END)) AT TIME ZONE 'UTC'
              + ((e.id * 7 + extract(day FROM day)::int * 13) % 30) * interval '1 minute',
            'face', 0.3
     FROM employees e
     CROSS JOIN generate_series($3::date, $4::date, interval '1 day') AS day
     CROSS JOIN (VALUES ('in'), ('out')) AS d(direction)
     WHERE e.site = $1 AND extract(isodow FROM day) < 6
       AND NOT (d.direction = 'out' AND (e.id + extract(day FROM day)::int) % 100 = 0)`,
    [SITE, kiosk, FROM, TO],
  );
  // The forgotten OUTs, added by an approved correction each (as the schema owner: approved at once, audited).
  await admin.query(
    `SELECT correction_add(e.employee_no, 'out', (day + time '16:30') AT TIME ZONE 'UTC', 'forgot to clock out')
     FROM employees e CROSS JOIN generate_series($2::date, $3::date, interval '1 day') AS day
     WHERE e.site = $1 AND extract(isodow FROM day) < 6 AND (e.id + extract(day FROM day)::int) % 100 = 0`,
    [SITE, FROM, TO],
  );
  return inserted.rowCount ?? 0;
}

/** Other punches in the table (another site, earlier months), so that reads are measured in a table of this size. */
async function fillOther(admin: pg.Client, n: number): Promise<void> {
  const kiosk = (await admin.query<{ id: string }>("INSERT INTO kiosks (name, role_name, site) VALUES ('other-door', 'bench_nobody2', 'other') RETURNING id::text")).rows[0]?.id;
  await admin.query(
    `INSERT INTO employees (employee_no, full_name, site)
     SELECT 'O' || lpad(g::text, 6, '0'), 'Other Employee ' || g, 'other' FROM generate_series(1, 2000) g`,
  );
  const batch = 1_000_000;
  for (let done = 0; done < n; done += batch) {
    await admin.query(
      `INSERT INTO punches (id, employee_id, kiosk_id, direction, punched_at, method, match_distance)
       SELECT gen_random_uuid(), (SELECT min(id) FROM employees WHERE site = 'other') + g % 2000, $1::bigint,
              CASE WHEN g % 2 = 0 THEN 'in' ELSE 'out' END, timestamptz '2025-06-01' + g * interval '13 seconds', 'pin', NULL
       FROM generate_series($2::bigint, $3::bigint) g`,
      [kiosk, done, Math.min(n, done + batch) - 1],
    );
  }
  await admin.query('ANALYZE punches');
}

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const t = performance.now();
  const value = await work();
  return { value, ms: performance.now() - t };
}

async function runOn(central: BenchCentral, profile: Profile): Promise<BenchResult[]> {
  const admin = await connectCentral({ url: central.url, embeddedDefault: false }, { applicationName: 'clockface-bench-timesheet' });
  const results: BenchResult[] = [];
  const kase = `${label(profile.employees)} employees × November 2026, ${label(profile.filler)} other punches [${central.tag}]`;
  const row = (metric: string, value: number, unit: string): void => {
    results.push({ suite: 'timesheet', case: kase, metric, value, unit });
  };
  try {
    await migrateCentral(admin);
    await admin.query("INSERT INTO sites (code, name, time_zone) VALUES ($1, 'Berlin', 'Europe/Berlin'), ('other', 'Other', 'UTC')", [SITE]);
    await admin.query('SELECT site_rules_set($1, $2::jsonb, false)', [SITE, JSON.stringify(RULES)]);
    const punches = await fillMonth(admin, profile.employees);
    await fillOther(admin, profile.filler);
    row('punches of the month', punches, 'punches');

    const now = new Date('2026-12-06T12:00:00Z');
    const payroll = await timed(() => payrollReport(admin, { from: FROM, to: TO, site: SITE, now }));
    const today = await timed(() => hoursReport(admin, { from: FROM, to: TO, site: SITE }));
    if (payroll.value.length !== profile.employees) throw new Error(`${kase}: payroll has ${payroll.value.length} rows, expected ${profile.employees}`);
    row('report --payroll (month, rules, corrections)', payroll.ms / 1000, 's');
    row('report (today’s, default rules)', today.ms / 1000, 's');
    row('payroll vs today’s report (time)', payroll.ms / today.ms, 'x');
    row('payroll punches/s', punches / (payroll.ms / 1000), 'punches/s');

    const samples: number[] = [];
    for (let i = 0; i < 20; i++) {
      const employeeNo = `T${String(1 + ((i * 37) % profile.employees)).padStart(6, '0')}`;
      samples.push((await timed(() => employeeTimesheet(admin, employeeNo, { from: FROM, to: TO, now }))).ms);
    }
    const one = distribution(samples);
    row('one employee’s month (timesheet) p50', one.median, 'ms');
    row('one employee’s month (timesheet) p95', one.p95, 'ms');

    // The engine alone, on the month's punches read once.
    const { rows } = await admin.query<{ id: string; employee_id: string; direction: 'in' | 'out'; punched_at: Date }>(
      "SELECT p.id::text, p.employee_id::text, p.direction, p.punched_at FROM punches p JOIN employees e ON e.id = p.employee_id WHERE e.site = $1",
      [SITE],
    );
    const raw: RawPunch[] = rows.map((r) => ({ id: r.id, employeeId: Number(r.employee_id), direction: r.direction, at: r.punched_at, method: 'face', matchDistance: 0.3, kioskId: 1 }));
    const engine = await timed(async () => buildTimesheets({ timeZone: 'Europe/Berlin', period: { from: FROM, to: TO }, now, rules: RULES, punches: raw }));
    row('engine alone', raw.length / (engine.ms / 1000), 'punches/s');
    return results;
  } finally {
    await admin.end();
  }
}

export const timesheetSuite: BenchSuite = {
  name: 'timesheet',
  description:
    'payroll export and timesheets on the engine vs today’s report, one employee’s month in a large table, the engine alone ' +
    '([pg-server] = real PostgreSQL, [embedded-pglite] = embedded central in its own process)',
  async run({ full }) {
    const results: BenchResult[] = [];
    await eachCentral(
      'timesheet',
      async (central) => {
        const profile: Profile = {
          employees: full ? 10_000 : 1_000,
          filler: full && central.tag === 'pg-server' ? 10_000_000 : 200_000,
        };
        results.push(...(await runOn(central, profile)));
      },
    );
    return results;
  },
};
