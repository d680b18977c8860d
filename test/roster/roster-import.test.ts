import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import type { ImportSummary } from '../../electron/roster/import-roster.js';
import { hashPin } from '../../electron/security/pin-hash.js';
import { bbtPhoto, GROUP_DIR, PEOPLE } from '../support/faces.js';
import { centralFactories, startMigrated, type TestCentral } from '../support/centrals.js';
import { runCli } from '../support/run-cli.js';

const HEADER = 'employee_no,full_name,department,site,photos,pin';

/** A photos folder as IT would hand it over: copies of the real photos plus a few bad ones. */
async function makePhotosFolder(root: string): Promise<string> {
  const dir = join(root, 'photos');
  for (const person of PEOPLE) {
    mkdirSync(join(dir, person), { recursive: true });
    for (const n of [1, 2, 3, 4, 5] as const) copyFileSync(bbtPhoto(person, n), join(dir, person, `${person}${n}.png`));
  }
  mkdirSync(join(dir, 'bad'), { recursive: true });
  copyFileSync(join(GROUP_DIR, 'bbt1.jpg'), join(dir, 'bad', 'group.jpg'));
  await sharp(bbtPhoto('amy', 1)).blur(60).toFile(join(dir, 'bad', 'nobody.png'));
  await sharp(bbtPhoto('sheldon', 1)).linear(0.2, 0).toFile(join(dir, 'bad', 'dark.png'));
  writeFileSync(join(dir, 'bad', 'corrupt.jpg'), Buffer.from('not really a jpeg'));
  writeFileSync(join(root, 'secret.png'), 'outside the photos folder');
  return dir;
}

describe.each(centralFactories())('roster import on $label', (factory) => {
  let central: TestCentral;
  let admin: pg.Client;
  let root: string;
  let photos: string;
  const cli = (args: string[], timeout = 300_000) =>
    runCli(args, { CLOCKFACE_DATABASE_URL: central.url }, timeout);
  const importFile = async (name: string, csv: string, extra: string[] = []) => {
    const file = join(root, name);
    writeFileSync(file, csv);
    const result = await cli(['roster', 'import', file, '--photos', photos, '--json', ...extra]);
    return { result, summary: JSON.parse(result.stdout) as ImportSummary };
  };

  beforeAll(async () => {
    central = await startMigrated(factory);
    admin = await central.connect();
    root = mkdtempSync(join(tmpdir(), 'clockface-roster-'));
    photos = await makePhotosFolder(root);
  });
  afterAll(async () => {
    await admin.end();
    await central.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('imports a generated 1,000-row roster, and the second run changes nothing', async () => {
    const rows = [HEADER];
    for (let i = 1; i <= 1000; i++) {
      const person = PEOPLE[(i - 1) % PEOPLE.length] ?? 'amy';
      // The eight people with their first four photos; the others without photos, some with a PIN.
      const withPhotos = i <= PEOPLE.length;
      const pictures = withPhotos ? [1, 2, 3, 4].map((n) => `${person}/${person}${n}.png`).join(';') : '';
      const pin = i % 50 === 0 ? String(100000 + i) : '';
      rows.push(`E${String(i).padStart(4, '0')},"Person ${i}, ${person}",Dept ${i % 7},site-${i % 3},${pictures},${pin}`);
    }
    const csv = `${rows.join('\r\n')}\r\n`;
    const first = await importFile('roster-1000.csv', csv);
    expect(first.result.code, first.result.stderr).toBe(0);
    expect(first.summary).toMatchObject({ rows: 1000, created: 1000, updated: 0, unchanged: 0, failed: 0, templatesAdded: 32 });
    expect(first.summary.sitesCreated).toEqual(['site-0', 'site-1', 'site-2']);

    const changesBefore = await admin.query('SELECT count(*)::int AS n FROM roster_changes');
    const second = await importFile('roster-1000.csv', csv);
    expect(second.result.code, second.result.stderr).toBe(0);
    expect(second.summary).toMatchObject({ rows: 1000, created: 0, updated: 0, unchanged: 1000, failed: 0, templatesAdded: 0 });
    const changesAfter = await admin.query('SELECT count(*)::int AS n FROM roster_changes');
    expect(changesAfter.rows[0]).toEqual(changesBefore.rows[0]); // not one row touched: kiosks have nothing to sync

    const stored = await admin.query(
      "SELECT count(*)::int AS n, count(pin_hash)::int AS pins FROM employees WHERE employee_no LIKE 'E%'",
    );
    expect(stored.rows[0]).toEqual({ n: 1000, pins: 20 });
    const pinRow = await admin.query<{ pin_hash: string }>("SELECT pin_hash FROM employees WHERE employee_no = 'E0050'");
    expect(pinRow.rows[0]?.pin_hash).toMatch(/^scrypt\$32768\$8\$1\$/);
    expect(pinRow.rows[0]?.pin_hash).not.toContain('100050');
  });

  it('reports every kind of bad row with its line and reason, and imports the valid rows', async () => {
    const lines = [
      HEADER, // line 1
      'B-001,Valid Person,Ops,hq,,', // 2 valid
      ',No Number,Ops,hq,,', // 3 missing employee number
      'B 002,Space In Number,Ops,hq,,', // 4 invalid employee number
      'B-003,,Ops,hq,,', // 5 missing name
      'B-004,Bad Site,Ops,h q!,,', // 6 invalid site
      'B-005,Bad Pin,Ops,hq,,12ab', // 7 invalid PIN
      'B-001,Duplicate Number,Ops,hq,,', // 8 duplicate in file
      'B-006,Too Few Fields,Ops', // 9 wrong column count
      'B-007,Photo Missing,Ops,hq,amy/amy9.png,', // 10 photo missing
      'B-008,Escaping Photo,Ops,hq,../secret.png,', // 11 outside the photos folder
      'B-009,Nobody In Photo,Ops,hq,bad/nobody.png,', // 12 no face
      'B-010,Group Photo,Ops,hq,bad/group.jpg,', // 13 two faces
      'B-011,Dark Photo,Ops,hq,bad/dark.png,', // 14 poor quality
      'B-012,Corrupt Photo,Ops,hq,bad/corrupt.jpg,', // 15 unreadable
      'B-013,Absolute Path,Ops,hq,/etc/passwd,', // 16 outside (absolute)
      'B-014,"Quoted, Name ""Valid""",R&D,hq,raj/raj1.png;raj/raj2.png,432109', // 17 valid, with photos and PIN
    ];
    // raj is enrolled by the test above: this file is about row errors (the guard has its own test file).
    const { result, summary } = await importFile('bad.csv', `\uFEFF${lines.join('\n')}\n`, ['--allow-duplicate-face']);
    expect(result.code).toBe(1); // some rows failed
    const byLine = new Map(summary.errors.map((e) => [e.line, e.code]));
    expect(Object.fromEntries(byLine)).toEqual({
      3: 'MISSING_EMPLOYEE_NO',
      4: 'INVALID_EMPLOYEE_NO',
      5: 'MISSING_NAME',
      6: 'INVALID_SITE',
      7: 'INVALID_PIN',
      8: 'DUPLICATE_IN_FILE',
      9: 'WRONG_COLUMN_COUNT',
      10: 'PHOTO_MISSING',
      11: 'PHOTO_OUTSIDE_FOLDER',
      12: 'NO_FACE',
      13: 'MULTIPLE_FACES',
      14: 'POOR_QUALITY',
      15: 'PHOTO_UNREADABLE',
      16: 'PHOTO_OUTSIDE_FOLDER',
    });
    expect(summary.errors.every((e) => e.reason.length > 0)).toBe(true);
    expect(summary.errors.find((e) => e.line === 8)?.reason).toContain('line 2');
    expect(summary).toMatchObject({ created: 2, failed: 14, templatesAdded: 2 });
    const { rows } = await admin.query<{ employee_no: string; full_name: string }>(
      "SELECT employee_no, full_name FROM employees WHERE employee_no LIKE 'B-%' ORDER BY 1",
    );
    expect(rows).toEqual([
      { employee_no: 'B-001', full_name: 'Valid Person' },
      { employee_no: 'B-014', full_name: 'Quoted, Name "Valid"' },
    ]);
    // A failed row leaves nothing behind: no employee without its templates.
    const orphans = await admin.query("SELECT 1 FROM employees WHERE employee_no IN ('B-009','B-010','B-011','B-012')");
    expect(orphans.rowCount).toBe(0);
  });

  it('whole-file problems get one clear message and exit 1', async () => {
    const cases: Array<[string, string | Buffer, RegExp]> = [
      ['empty.csv', '', /is empty/],
      ['header-only.csv', `${HEADER}\n`, /has a header but no rows/],
      ['columns.csv', 'number,name\n1,Amy\n', /lacks the column\(s\) employee_no, full_name, site/],
      ['latin1.csv', Buffer.from(`${HEADER}\nL-1,Jos\xe9 M\xfcller,Ops,hq,,\n`, 'latin1'), /not UTF-8/],
      ['utf16.csv', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(`${HEADER}\n`, 'utf16le')]), /UTF-16/],
      ['quote.csv', `${HEADER}\nQ-1,"Unclosed,Ops,hq,,\n`, /Quote Not Closed|quote/i],
    ];
    for (const [name, content, message] of cases) {
      const file = join(root, name);
      writeFileSync(file, content);
      const result = await cli(['roster', 'import', file]);
      expect(result.code, name).toBe(1);
      expect(result.stderr, name).toMatch(message);
    }
    const missing = await cli(['roster', 'import', join(root, 'no-such-roster.csv')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^error: cannot read .*no-such-roster\.csv: no such file \[ROSTER_INVALID\]\n$/);
  });

  it('--dry-run checks and enrols everything, writes nothing; without --json it shows progress and a summary', async () => {
    const file = join(root, 'dry.csv');
    writeFileSync(file, `${HEADER}\nDRY-1,Dry Run,Ops,dry-site,howard/howard5.png,\nDRY-2,,Ops,dry-site,,\n`);
    const before = await admin.query('SELECT count(*)::int AS n FROM roster_changes');
    const result = await cli(['roster', 'import', file, '--photos', photos, '--dry-run', '--allow-duplicate-face']);
    expect(result.code).toBe(1); // DRY-2 has no name
    expect(result.stdout).toContain('line 3 (DRY-2): MISSING_NAME');
    expect(result.stdout).toContain('dry run, nothing written: 2 rows: 1 created, 0 updated, 0 unchanged, 1 failed');
    expect(result.stderr).toMatch(/importing: 2\/2 rows/); // plain progress lines when not on a terminal
    const stored = await admin.query("SELECT 1 FROM employees WHERE employee_no LIKE 'DRY-%'");
    expect(stored.rowCount).toBe(0);
    expect((await admin.query("SELECT 1 FROM sites WHERE code = 'dry-site'")).rowCount).toBe(0);
    expect((await admin.query('SELECT count(*)::int AS n FROM roster_changes')).rows[0]).toEqual(before.rows[0]);
  });

  it('a short PIN set before the 6-digit rule is kept while it stays the same; a new short PIN is refused', async () => {
    await admin.query("INSERT INTO sites (code, name) VALUES ('pin-site', 'Pin site') ON CONFLICT DO NOTHING");
    const oldHash = await hashPin('4321');
    await admin.query("INSERT INTO employees (employee_no, full_name, site, pin_hash) VALUES ('PIN-OLD', 'Old Pin', 'pin-site', $1)", [oldHash]);
    const same = await importFile('pin-same.csv', `${HEADER}\nPIN-OLD,Old Pin,,pin-site,,4321\n`);
    expect(same.summary).toMatchObject({ failed: 0, unchanged: 1 });
    const changed = await importFile('pin-changed.csv', `${HEADER}\nPIN-OLD,Old Pin,,pin-site,,1111\nPIN-NEW,New Pin,,pin-site,,2222\n`);
    expect(changed.summary.errors.map((e) => [e.employeeNo, e.code, e.reason])).toEqual([
      ['PIN-OLD', 'INVALID_PIN', expect.stringMatching(/6 to 8 digits/)],
      ['PIN-NEW', 'INVALID_PIN', expect.stringMatching(/6 to 8 digits/)],
    ]);
    const { rows } = await admin.query<{ pin_hash: string }>("SELECT pin_hash FROM employees WHERE employee_no = 'PIN-OLD'");
    expect(rows[0]?.pin_hash).toBe(oldHash);
  });
});
