import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseRoles } from '../../electron/central/database-roles.js';
import { registerKiosk } from '../../electron/central/kiosk-registry.js';
import type { AuditEntry } from '../../electron/timesheets/audit.js';
import type { RegisteredSupervisor, SupervisorListing } from '../../electron/timesheets/supervisors.js';
import type { PayrollRow, TimesheetView } from '../../electron/timesheets/timesheet-view.js';
import { serverFactories, startMigrated, type TestCentral } from '../support/centrals.js';
import { addEmployee, addSite } from '../support/roster-fixtures.js';
import { runCli, type CliResult } from '../support/run-cli.js';

/**
 * Supervisors and the two-person rule through the command line, on a real server (the embedded central makes every
 * connection the superuser): IT (a member of the admin group, no CREATEROLE) registers a supervisor for site a with
 * `supervisor add`; the supervisor, logging in with the URL printed once, corrects and reads site a and is refused
 * site b (CENTRAL_PERMISSION_DENIED, nothing changed); under the two-person rule its correction waits, it cannot
 * approve it, IT can; `audit` shows each login and reason; `supervisor sites` and `supervisor remove` take effect.
 */

const STATE_SQL = `
  SELECT (SELECT count(*) FROM punch_corrections)::int AS corrections, (SELECT count(*) FROM correction_decisions)::int AS decisions,
         (SELECT count(*) FROM audit_log)::int AS audit,
         (SELECT coalesce(string_agg(site || rules::text || second_approval::text, ',' ORDER BY site), '') FROM site_rules) AS rules`;

describe.each(serverFactories('supervisor logins and the two-person rule through the CLI'))('supervisors through the CLI on $label', (factory) => {
  let central: TestCentral;
  let root: pg.Client;
  let work: string;
  let itLogin = '';
  let itUrl = '';
  let supervisor: RegisteredSupervisor;
  const login = `sue.${randomBytes(3).toString('hex')}`;
  const punchB = randomUUID();

  const as = (url: string, args: string[]): Promise<CliResult> => runCli(args, { CLOCKFACE_DATABASE_URL: url });
  async function ok(url: string, args: string[]): Promise<string> {
    const result = await as(url, args);
    expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(0);
    return result.stdout;
  }
  const json = async <T>(url: string, args: string[]): Promise<T> => JSON.parse(await ok(url, [...args, '--json'])) as T;
  const state = async () => (await root.query(STATE_SQL)).rows[0] as Record<string, unknown>;
  /** Exit 1, one line with the code, and central as it was. */
  async function refused(url: string, args: string[], code: string, says: RegExp): Promise<void> {
    const before = await state();
    const result = await as(url, args);
    expect(result.code, result.stderr).toBe(1);
    const lines = result.stderr.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('{'));
    expect(lines, result.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^error: .*\\[${code}\\]`));
    expect(lines[0]).toMatch(says);
    expect(await state()).toEqual(before);
  }

  beforeAll(async () => {
    central = await startMigrated(factory);
    root = await central.connect();
    work = mkdtempSync(join(tmpdir(), 'clockface-supervisors-'));
    await addSite(root, 'a', 'Europe/Berlin');
    await addSite(root, 'b', 'Europe/Berlin');
    const a1 = await addEmployee(root, 'A-1', 'a', 'Ann Ay');
    const b1 = await addEmployee(root, 'B-1', 'b', 'Bo Bee');
    const kiosk = await registerKiosk(root, central.url, { name: 'door-ab', site: 'a' });
    // Berlin is UTC+1 in November: both came in at 08:00 and forgot to clock out.
    await root.query(
      `INSERT INTO punches (id, employee_id, kiosk_id, direction, punched_at, method, match_distance)
       VALUES ($1, $2, $5, 'in', '2026-11-03T07:00:00Z', 'face', 0.3), ($3, $4, $5, 'in', '2026-11-03T07:00:00Z', 'pin', NULL)`,
      [randomUUID(), a1, punchB, b1, kiosk.id],
    );
    const roles = await databaseRoles(root);
    itLogin = `clockface_it_${randomBytes(4).toString('hex')}`;
    const itPassword = randomBytes(12).toString('hex');
    await root.query(`CREATE ROLE "${itLogin}" LOGIN NOCREATEROLE NOCREATEDB PASSWORD '${itPassword}' IN ROLE "${roles.admin}"`);
    const url = new URL(central.url);
    url.username = itLogin;
    url.password = itPassword;
    itUrl = url.toString();
  });
  afterAll(async () => {
    await root?.end();
    await central?.close();
    rmSync(work, { recursive: true, force: true });
    if (itLogin) {
      const c = new pg.Client({ connectionString: process.env['CLOCKFACE_TEST_DATABASE_URL'] });
      await c.connect();
      await c.query(`DROP ROLE IF EXISTS "${itLogin}"`);
      await c.end();
    }
  });

  it('IT registers a supervisor for site a: the password and a URL with it, printed once', async () => {
    supervisor = await json<RegisteredSupervisor>(itUrl, ['supervisor', 'add', login, '--site', 'a']);
    expect(supervisor).toMatchObject({ login, sites: ['a'], password: expect.stringMatching(/^[A-Za-z0-9_-]{32}$/) });
    expect(new URL(supervisor.url)).toMatchObject({ username: login, password: supervisor.password, pathname: new URL(central.url).pathname });
    // Central keeps a verifier, never the password.
    const stored = await root.query<{ v: string }>('SELECT rolpassword AS v FROM pg_authid WHERE rolname = $1', [login]);
    expect(stored.rows[0]?.v).toMatch(/^SCRAM-SHA-256\$/);
    expect(await json<SupervisorListing[]>(itUrl, ['supervisor', 'list'])).toEqual([expect.objectContaining({ login, sites: ['a'], createdBy: itLogin })]);
    await refused(itUrl, ['supervisor', 'add', login, '--site', 'a'], 'LOGIN_EXISTS', new RegExp(`a login named "${login.replace('.', '\\.')}" exists`));
    await refused(itUrl, ['supervisor', 'add', 'Bad Name', '--site', 'a'], 'INVALID_ARGUMENT', /invalid login "Bad Name"/);
  });

  it('the supervisor corrects and reads its own site; site b is refused with CENTRAL_PERMISSION_DENIED and nothing changes', async () => {
    const added = await json<{ id: number; status: string }>(supervisor.url, [
      'punch', 'add', 'A-1', '--direction', 'out', '--at', '2026-11-03T12:00', '--reason', 'left at noon, forgot the kiosk',
    ]);
    expect(added.status).toBe('approved');
    const sheet = await json<TimesheetView>(supervisor.url, ['timesheet', 'A-1', '--from', '2026-11-03', '--to', '2026-11-03']);
    expect(sheet.days[0]).toMatchObject({ workedMinutes: 240, flags: ['corrected'] });
    expect(sheet.days[0]?.punches.map((p) => p.kiosk)).toEqual(['door-ab', null]);

    await refused(supervisor.url, ['punch', 'add', 'B-1', '--direction', 'out', '--at', '2026-11-03T16:00', '--reason', 'not mine'], 'CENTRAL_PERMISSION_DENIED', /not at a site you supervise/);
    await refused(supervisor.url, ['punch', 'void', punchB, '--reason', 'not mine'], 'CENTRAL_PERMISSION_DENIED', /not at a site you supervise/);
    await refused(supervisor.url, ['punch', 'move', punchB, '--at', '2026-11-03T09:00', '--reason', 'not mine'], 'CENTRAL_PERMISSION_DENIED', /not at a site you supervise/);
    await refused(supervisor.url, ['timesheet', 'B-1', '--from', '2026-11-03', '--to', '2026-11-03'], 'EMPLOYEE_NOT_FOUND', /no employee B-1/);
    await refused(supervisor.url, ['rules', 'set', '--site', 'a', join(work, 'x.json')], 'INVALID_ARGUMENT', /cannot read/);
    writeFileSync(join(work, 'two-person.json'), JSON.stringify({ secondApproval: true }));
    await refused(supervisor.url, ['rules', 'set', '--site', 'a', join(work, 'two-person.json')], 'CENTRAL_PERMISSION_DENIED', /permission denied for function site_rules_set/);
  });

  it('the two-person rule: the supervisor asks, cannot approve its own; IT approves; the audit log names both', async () => {
    await ok(itUrl, ['rules', 'set', '--site', 'a', join(work, 'two-person.json')]);
    const asked = await json<{ id: number; status: string; punchId: string }>(supervisor.url, [
      'punch', 'add', 'A-1', '--direction', 'in', '--at', '2026-11-03T13:00', '--reason', 'back from the dentist',
    ]);
    expect(asked.status).toBe('pending');
    const pending = await json<TimesheetView>(supervisor.url, ['timesheet', 'A-1', '--from', '2026-11-03', '--to', '2026-11-03']);
    expect(pending.days[0]).toMatchObject({ workedMinutes: 240, flags: ['corrected'] });
    await refused(supervisor.url, ['correction', 'approve', String(asked.id)], 'SECOND_APPROVAL_REQUIRED', /needs a second person/);
    expect(await json(itUrl, ['correction', 'approve', String(asked.id), '--reason', 'dentist note seen'])).toEqual({ id: asked.id, status: 'approved' });
    await refused(itUrl, ['correction', 'reject', String(asked.id)], 'CORRECTION_DECIDED', /decided already/);
    // Now an IN at 13:00 with no OUT: the afternoon is missing its OUT.
    const after = await json<TimesheetView>(supervisor.url, ['timesheet', 'A-1', '--from', '2026-11-03', '--to', '2026-11-03']);
    expect(after.days[0]).toMatchObject({ workedMinutes: 240, flags: ['corrected', 'missing_out'] });

    // Payroll as the supervisor: its site only, with the timesheet's totals.
    const payroll = JSON.parse(await ok(supervisor.url, ['report', '--payroll', '--from', '2026-11-03', '--to', '2026-11-03', '--format', 'json'])) as PayrollRow[];
    expect(payroll.map((r) => [r.employeeNo, r.site, r.totalMinutes, r.flags.missing_out])).toEqual([['A-1', 'a', after.totals.roundedMinutes, 1]]);

    const audit = await json<AuditEntry[]>(supervisor.url, ['audit', '--kind', 'correction']);
    expect(audit.map((a) => [a.kind, a.login, a.reason])).toEqual([
      ['correction.requested', login, 'left at noon, forgot the kiosk'],
      ['correction.approved', login, null],
      ['correction.requested', login, 'back from the dentist'],
      ['correction.approved', itLogin, 'dentist note seen'],
    ]);
    // The supervisor's audit rows are its site's only.
    expect((await json<AuditEntry[]>(supervisor.url, ['audit'])).every((a) => a.site === 'a')).toBe(true);
    expect((await json<AuditEntry[]>(itUrl, ['audit', '--kind', 'supervisor'])).map((a) => [a.kind, a.subject, a.site])).toEqual([
      ['supervisor.site_added', login, 'a'],
    ]);
  });

  it('supervisor sites gives site b; supervisor remove ends the login', async () => {
    await ok(itUrl, ['supervisor', 'sites', login, '--site', 'a', '--site', 'b']);
    const b = await json<TimesheetView>(supervisor.url, ['timesheet', 'B-1', '--from', '2026-11-03', '--to', '2026-11-03']);
    expect(b.days[0]?.flags).toEqual(['missing_out', 'pin']);
    await ok(itUrl, ['supervisor', 'sites', login, '--site', 'b']);
    await refused(supervisor.url, ['timesheet', 'A-1', '--from', '2026-11-03', '--to', '2026-11-03'], 'EMPLOYEE_NOT_FOUND', /no employee A-1/);
    await ok(itUrl, ['supervisor', 'remove', login]);
    expect(await json(itUrl, ['supervisor', 'list'])).toEqual([]);
    const gone = await as(supervisor.url, ['timesheet', 'B-1', '--from', '2026-11-03', '--to', '2026-11-03']);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('[CENTRAL_AUTH_FAILED]');
    await refused(itUrl, ['supervisor', 'remove', login], 'SUPERVISOR_NOT_FOUND', /no supervisor/);
  });
});
