import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'csv-parse/sync';
import type { HoursRow } from '../../electron/reports/hours-report.js';
import { centralFactories, startMigrated, type TestCentral } from '../support/centrals.js';
import { addEmployee, addSite } from '../support/roster-fixtures.js';
import { runCli } from '../support/run-cli.js';

describe.each(centralFactories())('hours report on $label', (factory) => {
  let central: TestCentral;

  beforeAll(async () => {
    central = await startMigrated(factory);
    const admin = await central.connect();
    await addSite(admin, 'berlin', 'Europe/Berlin');
    await addSite(admin, 'nyc', 'America/New_York');
    const day = await addEmployee(admin, 'D-1', 'berlin', 'Day Worker');
    const night = await addEmployee(admin, 'N-1', 'berlin', 'Night Worker');
    const forgetful = await addEmployee(admin, 'F-1', 'nyc', 'Forgetful, "Fred"');
    await admin.query("INSERT INTO kiosks (name, role_name, site) VALUES ('door', 'clockface_kiosk_report_test', 'berlin')");
    const punches: Array<[number, 'in' | 'out', string]> = [
      // Berlin is UTC+1 in March 2026 (before the 29th): 07:00Z is 08:00 local.
      [day, 'in', '2026-03-02T07:00:00Z'],
      [day, 'out', '2026-03-02T11:00:00Z'],
      [day, 'in', '2026-03-02T11:45:00Z'],
      [day, 'out', '2026-03-02T16:00:00Z'], // 4 h + 4 h 15 min = 8.25 h
      [night, 'in', '2026-03-02T21:00:00Z'], // 22:00 local on the 2nd
      [night, 'out', '2026-03-03T05:30:00Z'], // 06:30 local on the 3rd: 8.5 h, counted on the 2nd
      [forgetful, 'in', '2026-03-02T13:00:00Z'], // 08:00 in New York, never clocked out
      [forgetful, 'in', '2026-03-03T13:05:00Z'],
      [forgetful, 'out', '2026-03-03T21:35:00Z'], // 8.5 h on the 3rd
      [forgetful, 'out', '2026-03-04T21:00:00Z'], // out without in on the 4th
      [day, 'in', '2026-03-10T07:00:00Z'], // outside the report range
      [day, 'out', '2026-03-10T15:00:00Z'],
    ];
    for (const [employee, direction, when] of punches) {
      await admin.query(
        `INSERT INTO punches (id, employee_id, kiosk_id, direction, punched_at, method, match_distance)
         SELECT $1, $2, id, $3, $4, 'face', 0.3 FROM kiosks WHERE name = 'door'`,
        [randomUUID(), employee, direction, when],
      );
    }
    await admin.end();
  });
  afterAll(() => central.close());

  const report = (args: string[]) => runCli(['report', ...args], { CLOCKFACE_DATABASE_URL: central.url });

  it('gives exact hours, night shifts on the day they began, and flags', async () => {
    const result = await report(['--from', '2026-03-02', '--to', '2026-03-04', '--format', 'json']);
    expect(result.code, result.stderr).toBe(0);
    const rows = JSON.parse(result.stdout) as HoursRow[];
    expect(rows.map((r) => [r.employeeNo, r.day, r.firstIn, r.lastOut, r.workedHours, r.flags])).toEqual([
      ['D-1', '2026-03-02', '2026-03-02T08:00', '2026-03-02T17:00', 8.25, []],
      ['F-1', '2026-03-02', '2026-03-02T08:00', null, 0, ['missing_out']],
      ['F-1', '2026-03-03', '2026-03-03T08:05', '2026-03-03T16:35', 8.5, []],
      ['F-1', '2026-03-04', null, '2026-03-04T16:00', 0, ['out_without_in']],
      ['N-1', '2026-03-02', '2026-03-02T22:00', '2026-03-03T06:30', 8.5, []],
    ]);
  });

  it('filters by site and writes CSV that a spreadsheet reads back', async () => {
    const result = await report(['--from', '2026-03-01', '--to', '2026-03-31', '--site', 'nyc']);
    expect(result.code, result.stderr).toBe(0);
    const rows = parse(result.stdout, { columns: true }) as Array<Record<string, string>>;
    expect(rows.map((r) => [r['employee_no'], r['full_name'], r['day'], r['worked_hours'], r['flags']])).toEqual([
      ['F-1', 'Forgetful, "Fred"', '2026-03-02', '0.00', 'missing_out'],
      ['F-1', 'Forgetful, "Fred"', '2026-03-03', '8.50', ''],
      ['F-1', 'Forgetful, "Fred"', '2026-03-04', '0.00', 'out_without_in'],
    ]);
  });

  it('refuses a reversed or malformed range', async () => {
    const reversed = await report(['--from', '2026-03-04', '--to', '2026-03-02']);
    expect(reversed.code).toBe(1);
    expect(reversed.stderr).toContain('YYYY-MM-DD');
    const missing = await report(['--from', '2026-03-04']);
    expect(missing.code).toBe(2);
  });
});
