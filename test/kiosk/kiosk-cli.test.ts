import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { centralFactories, startMigrated, type TestCentral } from '../support/centrals.js';
import { bbtPhoto, BBT_DIR, type PEOPLE } from '../support/faces.js';
import { addSite } from '../support/roster-fixtures.js';
import { runCli } from '../support/run-cli.js';
import { sqliteEngines } from '../support/vector-engines.js';

/**
 * The headless kiosk end to end with the real CLI, real photos and the real face models: IT registers a kiosk, the
 * kiosk folder is initialised from the printed settings, photos go through engine → cache → policy → punch →
 * outbox → upload; after `employee erase` and one `kiosk sync`, the erased person is no longer recognised.
 * Runs on each central and each SQLite vector engine.
 */
const ENGINES = sqliteEngines();
type Person = (typeof PEOPLE)[number];

describe.each(centralFactories())('kiosk commands on $label', (factory) => {
  let central: TestCentral;
  let admin: pg.Client;
  const work = mkdtempSync(join(tmpdir(), 'clockface-kiosk-cli-'));
  const cli = (args: string[]) => runCli(args, { CLOCKFACE_DATABASE_URL: central.url }, 180_000);
  const kioskDir = (engine: string) => join(work, `kiosk-${engine}`);
  /** Two consecutive camera frames of one person (the policy wants 2 agreeing frames of 3). */
  const frames = (person: Person) => [bbtPhoto(person, 3), bbtPhoto(person, 4)];

  beforeAll(async () => {
    central = await startMigrated(factory);
    admin = await central.connect();
    await addSite(admin, 'hq');
    const csv = join(work, 'roster.csv');
    writeFileSync(
      csv,
      'employee_no,full_name,department,site,photos,pin\n' +
        ['amy', 'penny', 'sheldon', 'raj'].map((p) => `${p.toUpperCase()}-1,${p} Example,Science,hq,${p}/${p}1.png;${p}/${p}2.png,`).join('\n'),
    );
    const imported = await cli(['roster', 'import', csv, '--photos', BBT_DIR]);
    expect(imported.code, imported.stderr).toBe(0);
  });
  afterAll(async () => {
    await admin.end();
    await central.close();
    rmSync(work, { recursive: true, force: true });
  });

  /**
   * Each engine's kiosk stands at the same site, and a kiosk knows central's last punches: so each engine gets its
   * own people here (the same person at the second door a minute later would rightly be "already clocked in").
   */
  const firstPerson = (engine: string): Person => (ENGINES.indexOf(engine as (typeof ENGINES)[number]) === 0 ? 'amy' : 'sheldon');
  const laterPerson = (engine: string): Person => (ENGINES.indexOf(engine as (typeof ENGINES)[number]) === 0 ? 'penny' : 'raj');

  it.each(ENGINES)('%s: kiosk add → init → punch: IN, uploaded at once; a repeat within a minute is "already"', async (engine) => {
    const person = firstPerson(engine);
    const number = `${person.toUpperCase()}-1`;
    const added = await cli(['kiosk', 'add', `door-${engine}`, '--site', 'hq', '--json']);
    expect(added.code, added.stderr).toBe(0);
    const settingsFile = join(work, `${engine}.json`);
    writeFileSync(settingsFile, added.stdout);
    const init = await cli(['kiosk', 'init', '--kiosk-dir', kioskDir(engine), '--settings', settingsFile, '--engine', engine]);
    expect(init.code, init.stderr).toBe(0);
    expect(init.stdout).toContain(`first sync: 4 employees, 8 templates (${engine})`);
    // The folder holds the kiosk's password: owner-only.
    expect(statSync(join(kioskDir(engine), 'kiosk.json')).mode & 0o077).toBe(0);

    const punched = await cli(['kiosk', 'punch', '--kiosk-dir', kioskDir(engine), ...frames(person), '--json']);
    expect(punched.code, punched.stderr).toBe(0);
    const out = JSON.parse(punched.stdout);
    expect(out.outcome).toMatchObject({ kind: 'punched', source: 'cache', employee: { employeeNo: number } });
    expect(out.outcome.punch.direction).toBe('in');
    expect(out).toMatchObject({ uploaded: 1, pending: 0 });
    const { rows } = await admin.query<{ id: string; direction: string }>(
      `SELECT p.id::text, p.direction FROM punches p JOIN kiosks k ON k.id = p.kiosk_id WHERE k.name = $1`,
      [`door-${engine}`],
    );
    expect(rows).toEqual([{ id: out.outcome.punch.id, direction: 'in' }]);

    const again = await cli(['kiosk', 'punch', '--kiosk-dir', kioskDir(engine), ...frames(person)]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`${person} Example (${number}) already clocked IN at `);

    const status = JSON.parse((await cli(['kiosk', 'status', '--kiosk-dir', kioskDir(engine), '--json'])).stdout);
    expect(status).toMatchObject({ engine, employees: 4, templates: 8, indexed: 8, pendingPunches: 0 });
  });

  it('after `employee erase` and one `kiosk sync`, the erased person is "not recognised" on every engine; others still punch', async () => {
    const erased = await cli(['employee', 'erase', 'AMY-1']);
    expect(erased.code, erased.stderr).toBe(0);
    for (const engine of ENGINES) {
      const sync = await cli(['kiosk', 'sync', '--kiosk-dir', kioskDir(engine), '--json']);
      expect(sync.code, sync.stderr).toBe(0);
      expect(JSON.parse(sync.stdout).sync).toMatchObject({ kind: 'incremental', templatesRemoved: 2, templates: 6, caughtUp: true });
      const amy = await cli(['kiosk', 'punch', '--kiosk-dir', kioskDir(engine), ...frames('amy'), bbtPhoto('amy', 5), '--json']);
      expect(amy.code).toBe(1);
      const outcome = JSON.parse(amy.stdout).outcome;
      expect(outcome.kind).toBe('not-recognised');
      // Central was asked too (fallback): it no longer holds her face either.
      const other = laterPerson(engine);
      const colleague = await cli(['kiosk', 'punch', '--kiosk-dir', kioskDir(engine), ...frames(other), '--json']);
      expect(colleague.code, colleague.stderr).toBe(0);
      expect(JSON.parse(colleague.stdout).outcome).toMatchObject({ kind: 'punched', employee: { employeeNo: `${other.toUpperCase()}-1` } });
    }
  });

  it('someone enrolled after the last sync: unknown offline, recognised through central when online', async () => {
    const [engine] = ENGINES;
    await admin.query("INSERT INTO employees (employee_no, full_name, site) VALUES ('HOWARD-1', 'howard Example', 'hq')");
    const enrolled = await cli(['enroll', 'HOWARD-1', bbtPhoto('howard', 1), bbtPhoto('howard', 2)]);
    expect(enrolled.code, enrolled.stderr).toBe(0);
    const offline = await cli(['kiosk', 'punch', '--kiosk-dir', kioskDir(engine!), ...frames('howard'), '--offline', '--json']);
    expect(offline.code, offline.stderr).toBe(1);
    expect(JSON.parse(offline.stdout).outcome.kind).toBe('not-recognised');
    const online = await cli(['kiosk', 'punch', '--kiosk-dir', kioskDir(engine!), ...frames('howard'), '--json']);
    expect(online.code, online.stderr).toBe(0);
    expect(JSON.parse(online.stdout).outcome).toMatchObject({
      kind: 'punched',
      source: 'central',
      employee: { employeeNo: 'HOWARD-1', fullName: 'howard Example' },
    });
  });

  it('bad input: a folder that is not a kiosk, settings that are not settings, a photo with no face', async () => {
    const empty = await cli(['kiosk', 'status', '--kiosk-dir', join(work, 'nothing-here')]);
    expect(empty.code).toBe(1);
    expect(empty.stderr).toMatch(/is not a kiosk folder .*kiosk init/s);
    const junk = join(work, 'junk.json');
    writeFileSync(junk, JSON.stringify({ kioskName: 'x', url: 'http://example.com' }));
    const refused = await cli(['kiosk', 'init', '--kiosk-dir', join(work, 'junk'), '--settings', junk]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/url: a postgres:\/\/ URL/);
    expect(refused.stderr).toMatch(/site: /);
    const [engine] = ENGINES;
    const blank = join(work, 'wall.png');
    await sharp({ create: { width: 320, height: 240, channels: 3, background: '#7a7a7a' } }).png().toFile(blank);
    const noFace = await cli(['kiosk', 'punch', '--kiosk-dir', kioskDir(engine!), blank, '--json']);
    expect(noFace.code).toBe(1);
    expect(JSON.parse(noFace.stdout).outcome).toEqual({ kind: 'no-face', issues: ['NO_FACE'] });
    const corrupt = join(work, 'corrupt.png');
    writeFileSync(corrupt, Buffer.from('not a png at all'));
    const unreadable = await cli(['kiosk', 'punch', '--kiosk-dir', kioskDir(engine!), corrupt]);
    expect(unreadable.code).toBe(1);
    expect(unreadable.stderr).toMatch(/corrupt\.png/);
  });
});
