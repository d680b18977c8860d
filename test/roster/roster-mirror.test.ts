import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImportSummary } from '../../electron/roster/import-roster.js';
import { centralFactories, startMigrated, type TestCentral } from '../support/centrals.js';
import { addEmployee, addSite } from '../support/roster-fixtures.js';
import { runCli } from '../support/run-cli.js';

/**
 * `clockface roster import --mirror` (issue 18) on both centrals. Site north has 20 active employees, south 10, east 3
 * (east is never in a file). Mirror mode lists and then deactivates whom the file lacks at its sites, through the same
 * deactivation as `employee deactivate` (so the audit log has each); a site that would lose more than the cap (10 %
 * by default) is refused with one line and nothing is written, until the cap is raised or overridden; a dry run
 * computes everything and writes nothing; a row refused for a bad field still keeps its person.
 */

const HEADER = 'employee_no,full_name,department,site,photos,pin';
const numbers = (prefix: string, from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `${prefix}-${String(from + i).padStart(2, '0')}`);
const csv = (rows: ReadonlyArray<readonly [string, string]>, extra: readonly string[] = []) =>
  `${[HEADER, ...rows.map(([no, site]) => `${no},Person ${no},,${site},,`), ...extra].join('\n')}\n`;

/** What a refused or dry run must leave as it was: who is active, every feed row, every audit row. */
const STATE = `SELECT (SELECT count(*) FROM employees)::int AS employees, (SELECT count(*) FROM employees WHERE active)::int AS active,
                      (SELECT count(*) FROM roster_changes)::int AS feed, (SELECT count(*) FROM audit_log)::int AS audit,
                      (SELECT count(*) FROM sites)::int AS sites`;

describe.each(centralFactories())('roster import --mirror on $label', { timeout: 240_000 }, (factory) => {
  let central: TestCentral;
  let admin: pg.Client;
  let root: string;
  const cli = (args: string[]) => runCli(args, { CLOCKFACE_DATABASE_URL: central.url }, 120_000);
  const importFile = async (name: string, content: string, extra: string[] = []) => {
    const file = join(root, name);
    writeFileSync(file, content);
    const result = await cli(['roster', 'import', file, '--json', ...extra]);
    return { result, summary: (result.stdout ? JSON.parse(result.stdout) : null) as ImportSummary | null };
  };
  const active = async (nos: readonly string[]) =>
    (await admin.query<{ employee_no: string }>('SELECT employee_no FROM employees WHERE active AND employee_no = ANY($1) ORDER BY 1', [nos])).rows.map((r) => r.employee_no);
  const state = async () => (await admin.query(STATE)).rows[0];

  beforeAll(async () => {
    central = await startMigrated(factory);
    admin = await central.connect();
    root = mkdtempSync(join(tmpdir(), 'clockface-mirror-'));
    for (const site of ['north', 'south', 'east']) await addSite(admin, site);
    for (const no of numbers('N', 1, 20)) await addEmployee(admin, no, 'north', `Person ${no}`);
    for (const no of numbers('S', 1, 10)) await addEmployee(admin, no, 'south', `Person ${no}`);
    for (const no of numbers('E', 1, 3)) await addEmployee(admin, no, 'east', `Person ${no}`);
  });
  afterAll(async () => {
    await admin?.end();
    await central?.close();
    rmSync(root, { recursive: true, force: true });
  });

  // North without N-19 and N-20 (2 of 20: exactly the 10 % cap), one newcomer; south complete.
  const northFile = csv([...numbers('N', 1, 18).map((n) => [n, 'north'] as const), ['N-21', 'north'], ...numbers('S', 1, 10).map((n) => [n, 'south'] as const)]);

  it('a dry run lists the deactivations and every row, and writes nothing', async () => {
    const before = await state();
    const { result, summary } = await importFile('north-dry.csv', northFile, ['--mirror', '--dry-run']);
    expect(result.code, result.stderr).toBe(0);
    expect(summary).toMatchObject({ dryRun: true, rows: 29, created: 1, unchanged: 28, failed: 0 });
    expect(summary?.mirror).toEqual({
      maxSharePercent: 10,
      allowMassDeactivation: false,
      sites: [
        { site: 'north', active: 20, deactivate: 2, sharePercent: 10, overCap: false },
        { site: 'south', active: 10, deactivate: 0, sharePercent: 0, overCap: false },
      ],
      deactivations: [
        { employeeNo: 'N-19', fullName: 'Person N-19', site: 'north' },
        { employeeNo: 'N-20', fullName: 'Person N-20', site: 'north' },
      ],
      refused: false,
      deactivated: 0,
    });
    expect(summary?.results.find((r) => r.employeeNo === 'N-21')).toMatchObject({ line: 20, outcome: 'created', fullName: 'Person N-21', site: 'north' });
    expect(summary?.results.filter((r) => r.outcome === 'unchanged')).toHaveLength(28);
    expect(await state()).toEqual(before);
  });

  it('the text output lists who would go', async () => {
    const file = join(root, 'north-dry-text.csv');
    writeFileSync(file, northFile);
    const result = await cli(['roster', 'import', file, '--mirror', '--dry-run']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('mirror: would deactivate N-19 (Person N-19, site north)');
    expect(result.stdout).toContain('dry run, nothing written: 29 rows: 1 created, 0 updated, 28 unchanged, 0 failed; 0 face templates added; mirror: 2 to deactivate');
  });

  it('applied: the missing people are deactivated (audited), the newcomer created, other sites untouched', async () => {
    const auditBefore = (await admin.query<{ n: number }>("SELECT count(*)::int AS n FROM audit_log WHERE kind = 'employee.deactivated'")).rows[0]?.n;
    const { result, summary } = await importFile('north.csv', northFile, ['--mirror']);
    expect(result.code, result.stderr).toBe(0);
    expect(summary).toMatchObject({ dryRun: false, created: 1, unchanged: 28, failed: 0, mirror: { deactivated: 2, refused: false } });
    expect(await active(numbers('N', 1, 21))).toEqual([...numbers('N', 1, 18), 'N-21']);
    expect(await active([...numbers('S', 1, 10), ...numbers('E', 1, 3)])).toEqual([...numbers('E', 1, 3), ...numbers('S', 1, 10)]);
    // Deactivated, not erased: the rows and their data stay.
    const gone = await admin.query("SELECT employee_no, erased_at FROM employees WHERE employee_no IN ('N-19', 'N-20') ORDER BY 1");
    expect(gone.rows).toEqual([{ employee_no: 'N-19', erased_at: null }, { employee_no: 'N-20', erased_at: null }]);
    const audit = await admin.query<{ subject: string; site: string }>(
      "SELECT subject, site FROM audit_log WHERE kind = 'employee.deactivated' ORDER BY id DESC LIMIT 2",
    );
    expect(audit.rows.map((r) => [r.subject, r.site]).sort()).toEqual([['N-19', 'north'], ['N-20', 'north']]);
    expect((await admin.query<{ n: number }>("SELECT count(*)::int AS n FROM audit_log WHERE kind = 'employee.deactivated'")).rows[0]?.n).toBe((auditBefore ?? 0) + 2);

    // The same file again: nobody else to deactivate, nothing changes.
    const before = await state();
    const again = await importFile('north.csv', northFile, ['--mirror']);
    expect(again.summary).toMatchObject({ created: 0, unchanged: 29, mirror: { deactivations: [], deactivated: 0 } });
    expect(await state()).toEqual(before);
  });

  // South without S-09 and S-10: 2 of 10, over the 10 % cap; and a newcomer who must not be written either.
  const southFile = csv([...numbers('S', 1, 8).map((n) => [n, 'south'] as const), ['S-99', 'south']]);

  it('over the cap: one line naming the site, the count and share and the override; nothing is written', async () => {
    const before = await state();
    const file = join(root, 'south.csv');
    writeFileSync(file, southFile);
    const result = await cli(['roster', 'import', file, '--mirror']);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      'error: mirror mode would deactivate 2 of the 10 active employees of site south (20 %), over the 10 % cap; nothing was written ' +
        '[MASS_DEACTIVATION_REFUSED]. If the file is complete, run it again with --allow-mass-deactivation (or raise --mirror-max-share)\n',
    );
    expect(await state()).toEqual(before);
    expect(await active(['S-09', 'S-10', 'S-99'])).toEqual(['S-09', 'S-10']);

    // A dry run shows the same refusal in its summary (exit 1: the real run would fail), and writes nothing either.
    const dry = await importFile('south-dry.csv', southFile, ['--mirror', '--dry-run']);
    expect(dry.result.code).toBe(1);
    expect(dry.summary?.mirror).toMatchObject({ refused: true, deactivated: 0, sites: [{ site: 'south', active: 10, deactivate: 2, sharePercent: 20, overCap: true }] });
    expect(dry.summary).toMatchObject({ created: 1, unchanged: 8 });
    expect(await state()).toEqual(before);
  });

  it('a higher cap or the override lets it through; north and east are untouched', async () => {
    const north = await active(numbers('N', 1, 21));
    const { result, summary } = await importFile('south-override.csv', southFile, ['--mirror', '--allow-mass-deactivation']);
    expect(result.code, result.stderr).toBe(0);
    expect(summary).toMatchObject({ created: 1, mirror: { refused: false, deactivated: 2, allowMassDeactivation: true } });
    expect(await active([...numbers('S', 1, 10), 'S-99'])).toEqual([...numbers('S', 1, 8), 'S-99']);
    expect(await active(numbers('N', 1, 21))).toEqual(north);
    expect(await active(numbers('E', 1, 3))).toEqual(numbers('E', 1, 3));

    // --mirror-max-share: 1 of 9 (11.1 %) passes a 12 % cap.
    const raised = await importFile('south-raised.csv', csv([...numbers('S', 2, 8).map((n) => [n, 'south'] as const), ['S-99', 'south']]), ['--mirror', '--mirror-max-share', '12']);
    expect(raised.result.code, raised.result.stderr).toBe(0);
    expect(raised.summary?.mirror).toMatchObject({ maxSharePercent: 12, sites: [{ site: 'south', active: 9, deactivate: 1, sharePercent: 11.1, overCap: false }], deactivated: 1 });
    expect(await active(['S-01'])).toEqual([]);
  });

  it("a row refused for a bad field keeps its person: they are named in the file", async () => {
    // E-03's row lacks a name: the row fails, E-03 stays active; nobody at east is missing.
    const { result, summary } = await importFile('east.csv', csv([['E-01', 'east'], ['E-02', 'east']], ['E-03,,,east,,']), ['--mirror', '--mirror-max-share', '0']);
    expect(result.code).toBe(1); // a row failed
    expect(summary?.results.find((r) => r.employeeNo === 'E-03')).toMatchObject({ outcome: 'failed', code: 'MISSING_NAME', line: 4 });
    expect(summary?.mirror).toMatchObject({ deactivations: [], refused: false });
    expect(await active(numbers('E', 1, 3))).toEqual(numbers('E', 1, 3));
  });

  it('the mirror flags without --mirror are a usage error', async () => {
    const file = join(root, 'east-2.csv');
    writeFileSync(file, csv([['E-01', 'east']]));
    for (const flags of [['--allow-mass-deactivation'], ['--mirror-max-share', '20']]) {
      const result = await cli(['roster', 'import', file, ...flags]);
      expect(result.code, flags.join(' ')).toBe(2);
      expect(result.stderr).toContain('go with --mirror');
    }
    const bad = await cli(['roster', 'import', file, '--mirror', '--mirror-max-share', '150']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('from 0 to 100');
  });
});
