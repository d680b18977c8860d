import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerKiosk } from '../../electron/central/kiosk-registry.js';
import type { HoursRow } from '../../electron/reports/hours-report.js';
import type { AuditEntry } from '../../electron/timesheets/audit.js';
import type { SiteRulesView } from '../../electron/timesheets/site-settings.js';
import type { DayView, PayrollRow, TimesheetView } from '../../electron/timesheets/timesheet-view.js';
import { centralFactories, startMigrated, type TestCentral } from '../support/centrals.js';
import { addEmployee, addSite } from '../support/roster-fixtures.js';
import { runCli, type CliResult } from '../support/run-cli.js';

/**
 * The timesheet commands (issue 17) through the real command line, on both centrals: the acceptance example of a
 * Berlin site (rules set by `rules set`, 08:00-18:00 is 570 worked, 480 regular, 90 overtime), a missing OUT fixed
 * by `punch add` (corrected, audited with the login and reason), a voided OUT (missing_out, 0 minutes), a night shift
 * across the spring DST change (420 minutes), payroll totals equal to the timesheet's, the plain report applying
 * corrections, schedules, and every bad input: exit 1, one line with its code, nothing changed on central.
 * The two-person rule and supervisors need their own logins: timesheet-supervisors.test.ts, on a real server.
 *
 * Fixed dates in 2026 (central refuses corrections in the future or older than 3 years).
 */

const STACK_LINE = /^\s+at /m;

/** What central holds that a command could change: a failed command must leave all of it as it was. */
const STATE_SQL = `
  SELECT (SELECT count(*) FROM punches)::int AS punches,
         (SELECT count(*) FROM punch_corrections)::int AS corrections,
         (SELECT count(*) FROM correction_decisions)::int AS decisions,
         (SELECT count(*) FROM audit_log)::int AS audit,
         (SELECT coalesce(string_agg(site || rules::text || second_approval::text, ',' ORDER BY site), '') FROM site_rules) AS rules,
         (SELECT coalesce(string_agg(site || schedule::text, ',' ORDER BY site), '') FROM site_schedules) AS site_schedules,
         (SELECT coalesce(string_agg(employee_id || schedule::text, ',' ORDER BY employee_id), '') FROM employee_schedules) AS employee_schedules,
         (SELECT coalesce(string_agg(role_name || ':' || site, ',' ORDER BY role_name, site), '') FROM supervisor_sites) AS supervisor_sites`;

describe.each(centralFactories())('timesheet commands on $label', (factory) => {
  let central: TestCentral;
  let root: pg.Client;
  let work: string;
  const punchIds = new Map<string, string>();

  const cli = (args: string[]): Promise<CliResult> => runCli(args, { CLOCKFACE_DATABASE_URL: central.url });
  async function ok(args: string[]): Promise<string> {
    const result = await cli(args);
    expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(0);
    return result.stdout;
  }
  const json = async <T>(args: string[]): Promise<T> => JSON.parse(await ok([...args, '--json'])) as T;
  const file = (name: string, value: unknown): string => {
    const path = join(work, name);
    writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value));
    return path;
  };
  const state = async () => (await root.query(STATE_SQL)).rows[0] as Record<string, unknown>;
  const sheet = (employeeNo: string, from: string, to: string) => json<TimesheetView>(['timesheet', employeeNo, '--from', from, '--to', to]);
  const dayOf = (t: TimesheetView, day: string): DayView => {
    const found = t.days.find((d) => d.day === day);
    if (!found) throw new Error(`no ${day} in the timesheet`);
    return found;
  };

  /** A raw punch as a kiosk would have sent it; `key` names it for the test. */
  async function punch(key: string, employeeId: number, kioskId: number, direction: 'in' | 'out', at: string): Promise<void> {
    const id = randomUUID();
    punchIds.set(key, id);
    await root.query(
      `INSERT INTO punches (id, employee_id, kiosk_id, direction, punched_at, method, match_distance) VALUES ($1, $2, $3, $4, $5, 'face', 0.31)`,
      [id, employeeId, kioskId, direction, at],
    );
  }
  const idOf = (key: string): string => punchIds.get(key) ?? '';

  beforeAll(async () => {
    central = await startMigrated(factory);
    root = await central.connect();
    work = mkdtempSync(join(tmpdir(), 'clockface-timesheet-'));
    await addSite(root, 'berlin', 'Europe/Berlin');
    await addSite(root, 'nights', 'Europe/Berlin');
    await addSite(root, 'broken', 'UTC');
    const day = await addEmployee(root, 'B-1', 'berlin', 'Berta Day');
    // A name typed into the roster as a spreadsheet formula: payroll's CSV must show it as text.
    const late = await addEmployee(root, 'S-1', 'berlin', '=HYPERLINK("https://evil.example","Sam")');
    const night = await addEmployee(root, 'N-1', 'nights', 'Nina Night');
    await addEmployee(root, 'X-1', 'broken', 'Xavier Broken');
    const door = await registerKiosk(root, central.url, { name: 'berlin-door', site: 'berlin' });
    const nightDoor = await registerKiosk(root, central.url, { name: 'nights-door', site: 'nights' });
    // Berlin is UTC+1 until 2026-03-29 02:00, UTC+2 after.
    await punch('tue-in', day, door.id, 'in', '2026-03-10T07:00:00Z'); // 08:00
    await punch('tue-out', day, door.id, 'out', '2026-03-10T17:00:00Z'); // 18:00: 10 h, 30 min break → 570
    await punch('wed-in', day, door.id, 'in', '2026-03-11T07:00:00Z'); // 08:00, never clocked out
    await punch('thu-in', day, door.id, 'in', '2026-03-12T07:00:00Z'); // 08:00
    await punch('thu-out', day, door.id, 'out', '2026-03-12T16:00:00Z'); // 17:00, to be voided
    await punch('fri-in', day, door.id, 'in', '2026-03-13T07:00:00Z'); // 08:00
    await punch('fri-out', day, door.id, 'out', '2026-03-13T15:00:00Z'); // 16:00, to be moved to 16:30
    await punch('night-in', night, nightDoor.id, 'in', '2026-03-28T21:00:00Z'); // Saturday 22:00 CET
    await punch('night-out', night, nightDoor.id, 'out', '2026-03-29T04:00:00Z'); // Sunday 06:00 CEST: 7 real hours
    await punch('s-tue-in', late, door.id, 'in', '2026-03-10T08:20:00Z'); // 09:20: late for a 09:00 start
    await punch('s-tue-out', late, door.id, 'out', '2026-03-10T16:00:00Z'); // 17:00
  });
  afterAll(async () => {
    await root?.end();
    await central?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('rules set: the Berlin rules from a partial file, laid over the defaults; rules show says so', async () => {
    const before = await json<SiteRulesView>(['rules', 'show', '--site', 'berlin']);
    expect(before).toMatchObject({ stored: false, secondApproval: false, rules: { autoBreak: null, dailyOvertimeAfterMinutes: null } });
    const rules = file('berlin-rules.json', { autoBreak: { afterWorkedMinutes: 360, breakMinutes: 30 }, dailyOvertimeAfterMinutes: 480 });
    const set = await json<SiteRulesView>(['rules', 'set', '--site', 'berlin', rules]);
    expect(set).toMatchObject({
      site: 'berlin',
      stored: true,
      secondApproval: false,
      rules: { autoBreak: { afterWorkedMinutes: 360, breakMinutes: 30 }, dailyOvertimeAfterMinutes: 480, maxShiftMinutes: 960, weekStartsOn: 1 },
    });
    // A second file changes only what it names.
    await ok(['rules', 'set', '--site', 'berlin', file('grace.json', { graceLateMinutes: 5 })]);
    const after = await json<SiteRulesView>(['rules', 'show', '--site', 'berlin']);
    expect(after.rules).toMatchObject({ graceLateMinutes: 5, dailyOvertimeAfterMinutes: 480, autoBreak: { breakMinutes: 30 } });
    const text = await ok(['rules', 'show', '--site', 'berlin']);
    expect(text).toContain('daily overtime after 8:00');
    expect(text).toContain('two-person rule off');
  });

  it('timesheet: 08:00 to 18:00 in Berlin is 570 worked (30 min break), 480 regular, 90 overtime', async () => {
    const t = await sheet('B-1', '2026-03-10', '2026-03-10');
    expect(t).toMatchObject({ employeeNo: 'B-1', site: 'berlin', timeZone: 'Europe/Berlin' });
    const tue = dayOf(t, '2026-03-10');
    expect(tue).toMatchObject({ workedMinutes: 570, breakMinutes: 30, regularMinutes: 480, overtimeMinutes: 90, dailyOvertimeMinutes: 90, flags: [] });
    expect(tue.punches.map((p) => [p.id, p.direction, p.local, p.method, p.kiosk])).toEqual([
      [idOf('tue-in'), 'in', '2026-03-10 08:00', 'face', 'berlin-door'],
      [idOf('tue-out'), 'out', '2026-03-10 18:00', 'face', 'berlin-door'],
    ]);
    expect(t.totals).toMatchObject({ daysWorked: 1, workedMinutes: 570, regularMinutes: 480, overtimeMinutes: 90 });
    const text = await ok(['timesheet', 'B-1', '--from', '2026-03-10', '--to', '2026-03-10']);
    expect(text).toMatch(/2026-03-10 +9:30 +0:30 +9:30 +8:00 +1:30/);
    expect(text).toContain(`punch ${idOf('tue-in')}`);
  });

  it('punch add: the missing OUT, with a reason, makes the day corrected; the audit log has the login and the reason', async () => {
    const before = dayOf(await sheet('B-1', '2026-03-11', '2026-03-11'), '2026-03-11');
    expect(before).toMatchObject({ workedMinutes: 0, flags: ['missing_out'] });
    // No offset: read on Berlin's wall clock.
    const added = await json<{ id: number; status: string; punchId: string }>([
      'punch', 'add', 'B-1', '--direction', 'out', '--at', '2026-03-11T16:30', '--reason', 'forgot to clock out',
    ]);
    expect(added).toEqual({ id: expect.any(Number), status: 'approved', punchId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    const wed = dayOf(await sheet('B-1', '2026-03-11', '2026-03-11'), '2026-03-11');
    // 8 h 30 min paired, 30 min break: 480 worked, all regular.
    expect(wed).toMatchObject({ workedMinutes: 480, breakMinutes: 30, regularMinutes: 480, overtimeMinutes: 0, flags: ['corrected'] });
    expect(wed.punches.map((p) => [p.direction, p.local, p.origin, p.corrections])).toEqual([
      ['in', '2026-03-11 08:00', 'raw', []],
      ['out', '2026-03-11 16:30', 'added', [added.id]],
    ]);
    expect(wed.corrections).toEqual([
      expect.objectContaining({ id: added.id, kind: 'add', status: 'approved', reason: 'forgot to clock out', at: '2026-03-11T15:30:00.000Z' }),
    ]);
    const login = (await root.query<{ u: string }>('SELECT session_user AS u')).rows[0]?.u;
    const audit = await json<AuditEntry[]>(['audit', '--employee', 'B-1', '--kind', 'correction']);
    expect(audit.map((a) => [a.kind, a.login, a.subject, a.reason, a.employeeNo])).toEqual([
      ['correction.requested', login, `correction ${added.id}`, 'forgot to clock out', 'B-1'],
      ['correction.approved', login, `correction ${added.id}`, null, 'B-1'],
    ]);
    expect(await json<AuditEntry[]>(['audit', '--kind', 'correction', '--since', '2999-01-01'])).toEqual([]);
  });

  it('punch void: voiding an OUT turns its day into missing_out with 0 minutes; the voided punch is still shown', async () => {
    expect(dayOf(await sheet('B-1', '2026-03-12', '2026-03-12'), '2026-03-12')).toMatchObject({ workedMinutes: 510 });
    const out = await ok(['punch', 'void', idOf('thu-out'), '--reason', 'clocked out for a colleague']);
    expect(out).toMatch(/^correction \d+ approved: punch .* of B-1 voided/);
    const thu = dayOf(await sheet('B-1', '2026-03-12', '2026-03-12'), '2026-03-12');
    expect(thu).toMatchObject({ workedMinutes: 0, regularMinutes: 0, overtimeMinutes: 0, flags: ['corrected', 'missing_out'] });
    expect(thu.voidedPunches).toEqual([expect.objectContaining({ id: idOf('thu-out'), direction: 'out', local: '2026-03-12 17:00' })]);
  });

  it('punch move: an OUT moved by 30 minutes, given with an offset', async () => {
    const moved = await json<{ id: number; status: string }>([
      'punch', 'move', idOf('fri-out'), '--at', '2026-03-13T15:30:00Z', '--reason', 'kiosk queue at the door',
    ]);
    expect(moved.status).toBe('approved');
    const fri = dayOf(await sheet('B-1', '2026-03-13', '2026-03-13'), '2026-03-13');
    expect(fri).toMatchObject({ workedMinutes: 480, flags: ['corrected'] });
    expect(fri.punches[1]).toMatchObject({ id: idOf('fri-out'), origin: 'moved', local: '2026-03-13 16:30', originalLocal: '2026-03-13 16:00' });
  });

  it('a night shift 22:00 → 06:00 across the spring DST change counts 420 minutes, on the day it began', async () => {
    const t = await sheet('N-1', '2026-03-28', '2026-03-29');
    expect(dayOf(t, '2026-03-28')).toMatchObject({ workedMinutes: 420, regularMinutes: 420, flags: [] });
    expect(dayOf(t, '2026-03-28').punches.map((p) => p.local)).toEqual(['2026-03-28 22:00', '2026-03-29 06:00']);
    expect(dayOf(t, '2026-03-29')).toMatchObject({ workedMinutes: 0, flags: [] });
    // Someone deactivated, without a punch, still has a (blank) timesheet.
    await addEmployee(root, 'I-1', 'nights', 'Ida Inactive');
    await root.query("UPDATE employees SET active = false WHERE employee_no = 'I-1'");
    const inactive = await sheet('I-1', '2026-03-28', '2026-03-29');
    expect(inactive.days.map((d) => [d.day, d.workedMinutes, d.flags])).toEqual([['2026-03-28', 0, []], ['2026-03-29', 0, []]]);
  });

  it('report --payroll: per employee totals equal the timesheet totals (JSON and CSV)', async () => {
    const from = '2026-03-09';
    const to = '2026-03-31';
    const payroll = JSON.parse(await ok(['report', '--payroll', '--from', from, '--to', to, '--format', 'json'])) as PayrollRow[];
    // X-1 (broken rules) has no punch; its site is reported below.
    expect(payroll.map((r) => r.employeeNo)).toEqual(['B-1', 'N-1', 'S-1']);
    for (const row of payroll) {
      const t = await sheet(row.employeeNo, from, to);
      expect(row, row.employeeNo).toMatchObject({
        daysWorked: t.totals.daysWorked,
        regularMinutes: t.totals.regularMinutes,
        dailyOvertimeMinutes: t.totals.dailyOvertimeMinutes,
        weeklyOvertimeMinutes: t.totals.weeklyOvertimeMinutes,
        totalMinutes: t.totals.roundedMinutes,
        flags: t.totals.flagDays,
      });
    }
    // B-1: Tuesday 570, Wednesday 480, Thursday 0 (voided OUT), Friday 480.
    expect(payroll[0]).toMatchObject({ daysWorked: 3, regularMinutes: 1440, dailyOvertimeMinutes: 90, totalMinutes: 1530 });
    expect(payroll[0]?.flags).toMatchObject({ corrected: 3, missing_out: 1 });
    const csv = parse(await ok(['report', '--payroll', '--from', from, '--to', to, '--site', 'berlin']), { columns: true }) as Array<
      Record<string, string>
    >;
    expect(csv[1]?.['full_name']).toBe(`'=HYPERLINK("https://evil.example","Sam")`);
    expect(payroll[2]?.fullName).toBe('=HYPERLINK("https://evil.example","Sam")'); // JSON stays exact
    expect(csv.map((r) => [r['employee_no'], r['days_worked'], r['regular_minutes'], r['daily_overtime_minutes'], r['total_minutes'], r['total_hours'], r['corrected_days']])).toEqual([
      ['B-1', '3', '1440', '90', '1530', '25.50', '3'],
      ['S-1', '1', '430', '0', '430', '7.17', '0'], // 09:20-17:00, 30 min break
    ]);
  });

  it('report without --payroll keeps its rows and applies approved corrections too', async () => {
    const rows = JSON.parse(await ok(['report', '--from', '2026-03-10', '--to', '2026-03-13', '--site', 'berlin', '--format', 'json'])) as HoursRow[];
    expect(rows.filter((r) => r.employeeNo === 'B-1').map((r) => [r.day, r.firstIn, r.lastOut, r.workedHours, r.flags])).toEqual([
      ['2026-03-10', '2026-03-10T08:00', '2026-03-10T18:00', 10, []], // paired time: no break in this report
      ['2026-03-11', '2026-03-11T08:00', '2026-03-11T16:30', 8.5, []], // the added OUT
      ['2026-03-12', '2026-03-12T08:00', null, 0, ['missing_out']], // the voided OUT
      ['2026-03-13', '2026-03-13T08:00', '2026-03-13T16:30', 8.5, []], // the moved OUT
    ]);
  });

  it('schedule set / show / --clear: an employee schedule makes late and absent days; the site schedule is the fallback', async () => {
    const week = file('week.json', { tuesday: { start: '09:00', end: '17:00' }, wednesday: { start: '09:00', end: '17:00' } });
    const set = await json<{ source: string; effective: unknown }>(['schedule', 'set', '--employee', 'S-1', week]);
    expect(set).toMatchObject({ source: 'employee', effective: { tuesday: { start: '09:00', end: '17:00' } } });
    const t = await sheet('S-1', '2026-03-10', '2026-03-11');
    // 09:20 is 20 minutes late (grace 5); 7 h 40 min worked, 30 min break.
    expect(dayOf(t, '2026-03-10')).toMatchObject({ flags: ['late'], workedMinutes: 430, scheduled: { start: '2026-03-10 09:00', end: '2026-03-10 17:00' } });
    expect(dayOf(t, '2026-03-11')).toMatchObject({ flags: ['absent'], workedMinutes: 0 });
    await ok(['schedule', 'set', '--employee', 'S-1', '--clear']);
    await ok(['schedule', 'set', '--site', 'nights', file('nights.json', { saturday: { start: '22:00', end: '06:00' } })]);
    expect(await json<{ source: string }>(['schedule', 'show', '--employee', 'N-1'])).toMatchObject({ source: 'site' });
    expect(dayOf(await sheet('N-1', '2026-03-28', '2026-03-28'), '2026-03-28')).toMatchObject({ flags: [], workedMinutes: 420 });
    await ok(['schedule', 'set', '--site', 'nights', '--clear']);
    expect(dayOf(await sheet('S-1', '2026-03-10', '2026-03-11'), '2026-03-11').flags).toEqual([]);
  });

  it('correction list filters by site, status and employee; approve and reject refuse what was decided', async () => {
    const all = await json<Array<{ id: number; kind: string; status: string; employeeNo: string }>>(['correction', 'list', '--site', 'berlin']);
    expect(all.map((c) => [c.kind, c.status, c.employeeNo])).toEqual([
      ['add', 'approved', 'B-1'],
      ['void', 'approved', 'B-1'],
      ['move', 'approved', 'B-1'],
    ]);
    expect(await json(['correction', 'list', '--status', 'pending'])).toEqual([]);
    expect(await json(['correction', 'list', '--site', 'nights'])).toEqual([]);
    expect((await ok(['correction', 'list', '--employee', 'B-1'])).split('\n').filter(Boolean)).toHaveLength(3);
  });

  // Each: exit 1, one line naming the code, and central exactly as it was.
  it('the two-person rule with one login: a pending correction is shown and counts nowhere; its asker cannot approve it', async () => {
    const on = await json<SiteRulesView>(['rules', 'set', '--site', 'nights', file('two-person.json', { secondApproval: true })]);
    expect(on).toMatchObject({ secondApproval: true, stored: true, rules: { autoBreak: null, dailyOvertimeAfterMinutes: null } });
    const asked = await json<{ id: number; status: string; punchId: string }>([
      'punch', 'add', 'N-1', '--direction', 'in', '--at', '2026-11-10T22:00', '--reason', 'badge forgotten',
    ]);
    expect(asked.status).toBe('pending');
    const pending = dayOf(await sheet('N-1', '2026-11-10', '2026-11-10'), '2026-11-10');
    expect(pending).toMatchObject({ workedMinutes: 0, flags: [], punches: [] });
    expect(pending.corrections).toEqual([expect.objectContaining({ id: asked.id, status: 'pending', local: '2026-11-10 22:00' })]);
    expect(JSON.parse(await ok(['report', '--from', '2026-11-10', '--to', '2026-11-10', '--format', 'json']))).toEqual([]);
    expect(await json(['correction', 'list', '--status', 'pending'])).toEqual([expect.objectContaining({ id: asked.id, employeeNo: 'N-1' })]);

    const before = await state();
    const refused = await cli(['correction', 'approve', String(asked.id)]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^error: site nights needs a second person to decide a correction: you asked for this one \[SECOND_APPROVAL_REQUIRED\]/);
    expect(await state()).toEqual(before);

    // The rule off again (secondApproval alone: the rules stay as they are); the same login may now reject it.
    await ok(['rules', 'set', '--site', 'nights', file('one-person.json', { secondApproval: false })]);
    expect(await json(['correction', 'reject', String(asked.id), '--reason', 'no such shift'])).toEqual({ id: asked.id, status: 'rejected' });
    const rejected = dayOf(await sheet('N-1', '2026-11-10', '2026-11-10'), '2026-11-10');
    expect(rejected).toMatchObject({ workedMinutes: 0, punches: [] });
    expect(rejected.corrections).toEqual([expect.objectContaining({ status: 'rejected', decisionReason: 'no such shift' })]);
  });

  // Rules someone wrote by hand that the engine refuses: every timesheet of that site says so, naming each field.
  const brokenRules = () =>
    root.query(`INSERT INTO site_rules (site, rules) VALUES ('broken', '{"dailyOvertimeAfterMinutes": -5, "coffeeBreaks": 3}') ON CONFLICT DO NOTHING`);
  const badInput: Array<{ name: string; args: () => string[]; code: string; says: RegExp; before?: () => Promise<unknown> }> = [
    { name: 'punch add for an unknown employee', args: () => ['punch', 'add', 'NOBODY-9', '--direction', 'out', '--at', '2026-03-11T16:30', '--reason', 'x'], code: 'EMPLOYEE_NOT_FOUND', says: /no employee "NOBODY-9"/ },
    { name: 'punch add with an empty reason', args: () => ['punch', 'add', 'B-1', '--direction', 'out', '--at', '2026-03-11T16:30', '--reason', '   '], code: 'INVALID_ARGUMENT', says: /--reason/ },
    { name: 'punch add in the future', args: () => ['punch', 'add', 'B-1', '--direction', 'in', '--at', '2999-01-01T08:00', '--reason', 'time travel'], code: 'INVALID_ARGUMENT', says: /in the future/ },
    { name: 'punch add more than 3 years ago', args: () => ['punch', 'add', 'B-1', '--direction', 'in', '--at', '2001-01-01T08:00Z', '--reason', 'history'], code: 'INVALID_ARGUMENT', says: /more than 3 years ago/ },
    { name: 'punch add with a direction that is not in or out', args: () => ['punch', 'add', 'B-1', '--direction', 'sideways', '--at', '2026-03-11T16:30', '--reason', 'x'], code: 'INVALID_ARGUMENT', says: /--direction is in or out/ },
    { name: 'punch add with a time that is not one', args: () => ['punch', 'add', 'B-1', '--direction', 'in', '--at', '2026-02-30T08:00', '--reason', 'x'], code: 'INVALID_ARGUMENT', says: /--at must be an ISO time/ },
    { name: 'punch move of an unknown punch', args: () => ['punch', 'move', randomUUID(), '--at', '2026-03-11T16:30', '--reason', 'x'], code: 'PUNCH_NOT_FOUND', says: /no punch/ },
    { name: 'punch move of a voided punch', args: () => ['punch', 'move', idOf('thu-out'), '--at', '2026-03-12T16:30', '--reason', 'x'], code: 'PUNCH_VOIDED', says: /voided already/ },
    { name: 'punch void of a voided punch', args: () => ['punch', 'void', idOf('thu-out'), '--reason', 'again'], code: 'PUNCH_VOIDED', says: /voided already/ },
    { name: 'punch void of something that is not a punch id', args: () => ['punch', 'void', 'yesterday', '--reason', 'x'], code: 'INVALID_ARGUMENT', says: /not a punch id/ },
    { name: 'correction approve of an unknown correction', args: () => ['correction', 'approve', '999999'], code: 'CORRECTION_NOT_FOUND', says: /no correction 999999/ },
    { name: 'correction reject of a decided one', args: () => ['correction', 'reject', '1'], code: 'CORRECTION_DECIDED', says: /decided already/ },
    { name: 'rules set with bad fields, each named', args: () => ['rules', 'set', '--site', 'berlin', file('bad-rules.json', { autoBreak: { afterWorkedMinutes: 360, breakMinutes: 0 }, rounding: { toMinutes: 7, mode: 'nearest' }, overtime: true })], code: 'INVALID_ARGUMENT', says: /^(?=.*autoBreak\.breakMinutes must be at least 1 minute)(?=.*rounding\.toMinutes must be one of 0, 5, 6, 10, 15)(?=.*overtime is not a rule)/ },
    { name: 'rules set with a secondApproval that is not a boolean', args: () => ['rules', 'set', '--site', 'berlin', file('bad-second.json', { secondApproval: 'yes' })], code: 'INVALID_ARGUMENT', says: /secondApproval must be true or false/ },
    { name: 'rules set from a file that is not JSON', args: () => ['rules', 'set', '--site', 'berlin', file('not-json.json', '{ autoBreak: ')], code: 'INVALID_ARGUMENT', says: /is not JSON/ },
    { name: 'rules set for an unknown site', args: () => ['rules', 'set', '--site', 'mars', file('ok-rules.json', { graceLateMinutes: 1 })], code: 'SITE_NOT_FOUND', says: /no site "mars"/ },
    { name: 'schedule set with a bad time', args: () => ['schedule', 'set', '--site', 'berlin', file('bad-week.json', { monday: { start: '8:00', end: '16:00' }, funday: {} })], code: 'INVALID_ARGUMENT', says: /^(?=.*monday\.start must be HH:MM)(?=.*funday is not a weekday)/ },
    { name: 'schedule set for an unknown employee', args: () => ['schedule', 'set', '--employee', 'NOBODY-9', file('ok-week.json', { monday: { start: '08:00', end: '16:00' } })], code: 'EMPLOYEE_NOT_FOUND', says: /no employee "NOBODY-9"/ },
    { name: 'schedule set with both a file and --clear', args: () => ['schedule', 'set', '--site', 'berlin', '--clear', file('ok-week2.json', {})], code: 'INVALID_ARGUMENT', says: /either a FILE or --clear/ },
    { name: 'timesheet of an unknown employee', args: () => ['timesheet', 'NOBODY-9', '--from', '2026-03-01', '--to', '2026-03-02'], code: 'EMPLOYEE_NOT_FOUND', says: /no employee NOBODY-9/ },
    { name: 'timesheet with the dates reversed', args: () => ['timesheet', 'B-1', '--from', '2026-03-02', '--to', '2026-03-01'], code: 'INVALID_ARGUMENT', says: /YYYY-MM-DD/ },
    { name: "timesheet at a site whose stored rules the engine refuses", args: () => ['timesheet', 'X-1', '--from', '2026-03-01', '--to', '2026-03-02'], code: 'INVALID_ARGUMENT', says: /site broken's stored rules are invalid: dailyOvertimeAfterMinutes must be at least 1 minute; coffeeBreaks is not a rule \[/, before: brokenRules },
    { name: 'report --payroll over a site whose stored rules the engine refuses', args: () => ['report', '--payroll', '--from', '2026-03-01', '--to', '2026-03-02'], code: 'INVALID_ARGUMENT', says: /site broken's stored rules are invalid/, before: brokenRules },
    { name: 'report --payroll for an unknown site', args: () => ['report', '--payroll', '--site', 'mars', '--from', '2026-03-01', '--to', '2026-03-02'], code: 'SITE_NOT_FOUND', says: /no site "mars"/ },
    { name: 'correction list with an unknown site', args: () => ['correction', 'list', '--site', 'mars'], code: 'SITE_NOT_FOUND', says: /no site "mars"/ },
    { name: 'audit since a time that is not one', args: () => ['audit', '--since', 'last tuesday'], code: 'INVALID_ARGUMENT', says: /--since must be an ISO time/ },
    { name: 'supervisor sites of an unknown supervisor', args: () => ['supervisor', 'sites', 'nobody.here', '--site', 'berlin'], code: 'SUPERVISOR_NOT_FOUND', says: /no supervisor "nobody\.here"/ },
    { name: 'supervisor add for an unknown site', args: () => ['supervisor', 'add', 'sue.mars', '--site', 'mars'], code: 'SITE_NOT_FOUND', says: /no site "mars"/ },
  ];

  it.each(badInput.map((c) => [c.name, c] as const))('bad input, nothing changed: %s', async (_, c) => {
    await c.before?.();
    const before = await state();
    const result = await cli(c.args());
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).not.toMatch(STACK_LINE);
    const lines = result.stderr.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('{'));
    expect(lines, result.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^error: .*\\[${c.code}\\]`));
    expect(lines[0]).toMatch(c.says);
    expect(result.stdout).toBe('');
    expect(await state()).toEqual(before);
  });
});
