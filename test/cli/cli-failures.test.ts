import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { centralFactories, serverFactories, startMigrated, type TestCentral } from '../support/centrals.js';
import { addSite } from '../support/roster-fixtures.js';
import { runCli, type CliResult } from '../support/run-cli.js';

/**
 * What a person sees when a `clockface` command fails: one line on stderr that says what failed, with its error code,
 * and what to do; never a stack trace (that appears only with CLOCKFACE_LOG_LEVEL=debug). One row per way to fail,
 * through the real command line.
 */

interface FailureCase {
  name: string;
  args: string[];
  code: string;
  /** What the line must say besides the code (what failed, what to do). */
  says: RegExp;
  /** The database URL to use instead of the test central's. */
  url?: () => string;
  before?: () => Promise<void>;
  after?: () => Promise<void>;
}

const STACK_LINE = /^\s+at /m;

function expectOneLineFailure(result: CliResult, c: FailureCase): void {
  expect(result.code, result.stderr).toBe(1);
  expect(result.stderr, 'no stack trace').not.toMatch(STACK_LINE);
  const lines = result.stderr.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('{')); // JSON log records aside
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(new RegExp(`^error: .*\\[${c.code}[\\] ]`));
  expect(lines[0]).toMatch(c.says);
}

describe.each(centralFactories())('how a failing command reads on $label', (factory) => {
  let central: TestCentral;
  let root: pg.Client;
  let work: string;
  const withUrl = (url: string) => ({ CLOCKFACE_DATABASE_URL: url });

  beforeAll(async () => {
    central = await startMigrated(factory);
    root = await central.connect();
    await addSite(root, 'hq');
    work = mkdtempSync(join(tmpdir(), 'clockface-failures-'));
    writeFileSync(join(work, 'not-a-face.png'), Buffer.from('this is not an image'));
  });
  afterAll(async () => {
    await root.end();
    await central.close();
    rmSync(work, { recursive: true, force: true });
  });

  const cases: FailureCase[] = [
    { name: 'central not running', args: ['db', 'status'], url: () => 'postgres://nobody@127.0.0.1:9/none', code: 'CENTRAL_UNREACHABLE', says: /cannot reach the central database at postgres:\/\/nobody@127\.0\.0\.1:9\/none .*Check that the server/ },
    { name: 'no such roster file', args: ['roster', 'import', '/nonexistent/roster.csv'], code: 'ROSTER_INVALID', says: /cannot read .*roster\.csv/ },
    { name: 'no such site', args: ['kiosk', 'add', 'door-x', '--site', 'mars'], code: 'SITE_NOT_FOUND', says: /no site "mars"/ },
    { name: 'no such kiosk', args: ['kiosk', 'revoke', 'ghost-door'], code: 'KIOSK_NOT_FOUND', says: /no kiosk named "ghost-door"/ },
    { name: 'a pooler address with a login in it', args: ['kiosk', 'add', 'door-p', '--site', 'hq', '--pooler-url', 'postgres://it:secret@pool:6432/clockface'], code: 'INVALID_ARGUMENT', says: /--pooler-url must not carry a login/ },
    { name: 'no such employee', args: ['employee', 'show', 'NOBODY-1'], code: 'EMPLOYEE_NOT_FOUND', says: /no employee NOBODY-1/ },
    { name: 'a photo that is not an image', args: ['search', 'PHOTO'], code: 'IMAGE_UNREADABLE', says: /not-a-face\.png/ },
    {
      name: 'a database another Clockface migrated further',
      args: ['kiosk', 'list'],
      code: 'CENTRAL_SCHEMA_TOO_NEW',
      says: /newer than this Clockface build knows.*Upgrade this Clockface installation/,
      before: async () => {
        await root.query("INSERT INTO clockface_migrations (version, name, checksum) VALUES (9990, 'future', 'x')");
      },
      after: async () => {
        await root.query('DELETE FROM clockface_migrations WHERE version = 9990');
      },
    },
    {
      name: 'something nobody foresaw (a table dropped by hand)',
      args: ['snapshots', 'purge'],
      code: 'INTERNAL SQLSTATE 42P01',
      says: /punch_snapshots.*CLOCKFACE_LOG_LEVEL=debug/,
      before: async () => {
        await root.query('ALTER TABLE punch_snapshots RENAME TO punch_snapshots_moved');
      },
      after: async () => {
        await root.query('ALTER TABLE punch_snapshots_moved RENAME TO punch_snapshots');
      },
    },
  ];

  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    await c.before?.();
    try {
      const args = c.args.map((a) => (a === 'PHOTO' ? join(work, 'not-a-face.png') : a));
      const result = await runCli(args, withUrl(c.url?.() ?? central.url), 120_000);
      expectOneLineFailure(result, { ...c, code: `(?:${c.code})` });
    } finally {
      await c.after?.();
    }
  });

  it('CLOCKFACE_LOG_LEVEL=debug adds the stack, for whoever debugs it', async () => {
    const result = await runCli(['kiosk', 'revoke', 'ghost-door'], { ...withUrl(central.url), CLOCKFACE_LOG_LEVEL: 'debug' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error: no kiosk named "ghost-door" \[KIOSK_NOT_FOUND\]/m);
    expect(result.stderr).toMatch(STACK_LINE);
  });
});

describe.each(serverFactories())('how a refused login or right reads on $label', (factory) => {
  let central: TestCentral;
  let root: pg.Client;
  const login = `clockface_it_${randomBytes(4).toString('hex')}`;
  const outsider = `clockface_it_${randomBytes(4).toString('hex')}`;
  const password = randomBytes(12).toString('hex');
  const urlAs = (user: string, pass: string) => {
    const url = new URL(central.url);
    url.username = user;
    url.password = pass;
    return url.toString();
  };

  beforeAll(async () => {
    central = await startMigrated(factory);
    root = await central.connect();
    await addSite(root, 'hq');
    // An IT login whose admin group was never granted: it may connect (granted by hand) but not manage kiosks.
    await root.query(`CREATE ROLE "${login}" LOGIN PASSWORD '${password}'`);
    await root.query(`CREATE ROLE "${outsider}" LOGIN PASSWORD '${password}'`);
    const db = decodeURIComponent(new URL(central.url).pathname.slice(1));
    await root.query(`GRANT CONNECT ON DATABASE "${db}" TO "${login}"`);
    await root.query(`GRANT SELECT ON clockface_migrations TO "${login}"`);
  });
  afterAll(async () => {
    await root.end();
    await central.close();
    const admin = new pg.Client({ connectionString: process.env['CLOCKFACE_TEST_DATABASE_URL'] });
    await admin.connect();
    for (const role of [login, outsider]) await admin.query(`DROP ROLE IF EXISTS "${role}"`);
    await admin.end();
  });

  it.each([
    ['a wrong password', () => urlAs(login, 'wrong'), ['db', 'status'], 'CENTRAL_AUTH_FAILED', /refused the login.*Check the user name and password/],
    ['a login this database does not let in', () => urlAs(outsider, password), ['db', 'status'], 'CENTRAL_PERMISSION_DENIED', /permission denied for database.*admin group/],
    ['an IT login without the admin group', () => urlAs(login, password), ['kiosk', 'add', 'door-1', '--site', 'hq'], 'CENTRAL_PERMISSION_DENIED', /permission denied for function kiosk_register.*admin group/],
  ] as const)('%s', async (_name, url, args, code, says) => {
    const result = await runCli([...args], { CLOCKFACE_DATABASE_URL: url() }, 120_000);
    expectOneLineFailure(result, { name: _name, args: [...args], code, says });
  });

  it('a lock held elsewhere: CENTRAL_LOCKED after a bounded wait, nothing half done', async () => {
    const added = await runCli(['kiosk', 'add', 'stuck-door', '--site', 'hq'], { CLOCKFACE_DATABASE_URL: central.url });
    expect(added.code, added.stderr).toBe(0);
    const holder = await central.connect();
    try {
      await holder.query('BEGIN');
      await holder.query("SELECT * FROM kiosks WHERE name = 'stuck-door' FOR UPDATE");
      const result = await runCli(['kiosk', 'revoke', 'stuck-door'], { CLOCKFACE_DATABASE_URL: central.url }, 120_000);
      expectOneLineFailure(result, { name: 'locked', args: [], code: 'CENTRAL_LOCKED', says: /lock.*Try again/i });
    } finally {
      await holder.query('ROLLBACK');
      await holder.end();
    }
  });
});
