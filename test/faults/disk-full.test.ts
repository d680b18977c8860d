import { existsSync, mkdirSync, readdirSync, readFileSync, statfsSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RegisteredKiosk } from '../../electron/central/kiosk-registry.js';
import { KioskCore } from '../../electron/kiosk/kiosk-core.js';
import { KioskService } from '../../electron/kiosk/kiosk-service.js';
import { PunchJournal } from '../../electron/kiosk/store/punch-journal.js';
import type { Result } from '../../shared/errors.js';
import { FACE_MODEL_ID } from '../../shared/face-model.js';
import type { FrameOutcomeView } from '../../shared/kiosk/contract.js';
import { centralFactories, startMigrated, type TestCentral } from '../support/centrals.js';
import { addFaces, centralPunches, expectAllUploaded, journalDir, kioskDigest, localPunches, outboxIds, registerKioskDir } from '../support/fault-kiosk.js';
import { recordTally } from '../support/fault-tally.js';
import { expectCacheEquals, expectedFor } from '../support/kiosk-cache.js';
import { addSite, seededRandom } from '../support/roster-fixtures.js';
import { requireSystemParts } from '../support/system-parts.js';
import { fillDisk, mountTmpfs, tmpfsPart, unmountTmpfs } from '../support/tmpfs.js';
import { TestClock, mondayWeeksAgo } from '../support/test-clock.js';

/**
 * Issue 8, kiosk disk full: the kiosk folder on a small tmpfs, filled by a filler file until the file system refuses
 * the next byte. A punch that could not be stored must never be confirmed to the person (the screen gets STORAGE_FULL
 * and a message that says the punch was NOT recorded), must leave nothing half-stored, and must not harm the punches
 * made before; a punch SQLite stored but whose journal line the disk cut off leaves no torn line behind; a roster
 * sync that runs out of space leaves the old roster whole. Once space is freed the kiosk punches, syncs and uploads
 * again with no hand repair.
 */

const TMPFS = tmpfsPart();
if (!TMPFS.present && requireSystemParts()) {
  throw new Error(`CLOCKFACE_REQUIRE_SYSTEM_PARTS=1 but ${TMPFS.name} is not possible: ${TMPFS.howTo}`);
}
if (!TMPFS.present) console.warn(`[disk-full] ${TMPFS.name} is not possible here: these tests do NOT run. ${TMPFS.howTo}`);

const FACTORY = centralFactories().at(-1)!;
const SITE = 'hq';
const OTHER_SITE = 'plant';
const TMPFS_BYTES = 32 * 1024 * 1024;
const random = seededRandom(4242);

const freeBytes = (dir: string): number => {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
};

if (TMPFS.present) {
  describe(`kiosk disk full (a ${TMPFS_BYTES >> 20} MiB tmpfs), against ${FACTORY.label}`, () => {
    let mount: string;
    let dir: string;
    let central: TestCentral;
    let admin: pg.Client;
    let kiosk: RegisteredKiosk;
    let faces: Map<number, number[]>;
    let core: KioskCore;
    let service: KioskService;
    const clock = new TestClock(mondayWeeksAgo(30, '06:00'));
    let fullPunchAttempts = 0;
    let punchesMade = 0;

    /** Frames of this employee through the bridge, as the screen sends them, until one decides (a clear one does alone). */
    async function punch(employeeId: number): Promise<Result<FrameOutcomeView>> {
      clock.elapse(61_000);
      const descriptor = faces.get(employeeId)!;
      await service.handle('resetFrames', {});
      let last: Result<unknown> = { ok: true, value: null };
      for (let frame = 0; frame < 2; frame++) {
        const jittered = descriptor.map((v, k) => v + (k === frame ? 0.001 : 0));
        last = await service.handle('submitFrame', { modelId: FACE_MODEL_ID, descriptor: jittered, issues: [], yaw: 0 });
        if (!last.ok || (last.value as FrameOutcomeView).kind !== 'pending') break;
      }
      return last as Result<FrameOutcomeView>;
    }

    async function punchOk(employeeId: number): Promise<string> {
      const r = await punch(employeeId);
      if (!r.ok || r.value.kind !== 'punched') throw new Error(`expected a punch, got ${JSON.stringify(r)}`);
      punchesMade++;
      return r.value.punchId;
    }

    const journalEntries = (): string[] => new PunchJournal(journalDir(dir)).readAll().map((j) => j.id);
    const journalText = (): string =>
      readdirSync(journalDir(dir))
        .map((f) => readFileSync(join(journalDir(dir), f), 'utf8'))
        .join('');

    beforeAll(async () => {
      mount = mountTmpfs(TMPFS_BYTES);
      dir = join(mount, 'kiosk');
      mkdirSync(dir);
      central = await startMigrated(FACTORY);
      admin = await central.connect();
      await addSite(admin, SITE);
      await addSite(admin, OTHER_SITE);
      faces = await addFaces(admin, SITE, 'D', 20, random);
      kiosk = await registerKioskDir(admin, central.url, dir, { name: 'door-full', site: SITE, engine: 'sqlite-vec' });
      // The other site's people (1,500, two templates each): the roster a kiosk gets when it starts serving that site.
      await admin.query(
        `INSERT INTO employees (employee_no, full_name, site) SELECT 'P' || lpad(g::text, 4, '0'), 'Plant ' || g, $1 FROM generate_series(1, 1500) g`,
        [OTHER_SITE],
      );
      await admin.query('SELECT setseed(0.42)');
      await admin.query(
        `INSERT INTO face_templates (employee_id, model_id, embedding, source)
         SELECT e.id, $1, (SELECT array_agg(random() * 0.4 - 0.2) FROM generate_series(1, 128) WHERE e.id > 0 AND k > 0)::vector(128), 'import'
         FROM employees e CROSS JOIN generate_series(1, 2) k WHERE e.site = $2`,
        [FACE_MODEL_ID, OTHER_SITE],
      );
      core = KioskCore.open(dir, { clock });
      service = new KioskService(core, { follow: false });
      expect(await core.syncRoster(10_000)).toMatchObject({ employees: 20, templates: 20 });
    }, 120_000);

    afterAll(async () => {
      try {
        await service?.stop();
        core?.close();
      } finally {
        if (mount) unmountTmpfs(mount);
        await admin?.end();
        await central?.close();
      }
    });

    it('a punch SQLite cannot store is refused with STORAGE_FULL, never confirmed; nothing half-stored; it works again once space is freed', async () => {
      const ids = [...faces.keys()];
      const before: string[] = [];
      for (let i = 0; i < 5; i++) before.push(await punchOk(ids[i]!));
      await core.upload();
      expect((await centralPunches(admin, kiosk.id)).length).toBe(5);

      // An empty WAL: the next commit must grow it, and cannot.
      core.db.pragma('wal_checkpoint(TRUNCATE)');
      const disk = fillDisk(mount);
      const left = freeBytes(mount);
      expect(left, 'the disk is not full').toBeLessThan(4096);
      const punchesBefore = localPunches(core.db);
      const outboxBefore = outboxIds(core.db);
      const journalBefore = journalText();

      // Three people try, each twice: every attempt refused, plainly.
      const refused: Array<Result<FrameOutcomeView>> = [];
      for (const employeeId of ids.slice(5, 8)) {
        for (let attempt = 0; attempt < 2; attempt++) {
          refused.push(await punch(employeeId));
          fullPunchAttempts++;
        }
      }
      for (const r of refused) {
        expect(r.ok, `a punch was confirmed on a full disk: ${JSON.stringify(r)}`).toBe(false);
        if (!r.ok) {
          expect(r.error.code).toBe('STORAGE_FULL');
          expect(r.error.message).toMatch(/NOT recorded/);
        }
      }
      // Nothing half-stored: no punch row, no outbox row, no journal line; the earlier punches untouched.
      expect(localPunches(core.db)).toEqual(punchesBefore);
      expect(outboxIds(core.db)).toEqual(outboxBefore);
      expect(journalText()).toBe(journalBefore);
      expect(core.db.pragma('quick_check', { simple: true })).toBe('ok');
      // The kiosk still answers (status on the screen) while full.
      const status = await service.handle('getStatus', {});
      expect(status.ok).toBe(true);

      disk.free();
      const after = await punchOk(ids[5]!);
      await core.upload();
      const onCentral = await centralPunches(admin, kiosk.id);
      expect(onCentral.map((p) => p.id).sort()).toEqual([...before, after].sort());
      expect(outboxIds(core.db).size).toBe(0);
      expect(journalEntries().sort()).toEqual([...before, after].sort());
      // The process closed and opened again: healthy, no recovery needed.
      await service.stop(); // its background upload must not outlive the database it uses
      core.close();
      core = KioskCore.open(dir, { clock });
      service = new KioskService(core, { follow: false });
      expect(core.recovery).toBeNull();
      console.log(
        `[disk-full] punch: filled ${(disk.filled / 1048576).toFixed(1)} MiB (${left} bytes left); ${fullPunchAttempts} punch attempts refused ` +
          `with STORAGE_FULL ("${refused[0] && !refused[0].ok ? refused[0].error.message : ''}"); nothing stored; after freeing, punches and upload resumed`,
      );
    }, 120_000);

    it('a punch SQLite stored but whose journal line the full disk cut off: confirmed, and no torn line is left to swallow the next one', async () => {
      const ids = [...faces.keys()];
      await punchOk(ids[9]!);
      // The WAL keeps its size after a checkpoint and is written from its start again: the next commit needs no new
      // space. The journal's last page is padded (blank lines, which readers skip) to leave 40 bytes of slack, so that
      // its next line is cut after 40 bytes when the file system has no page left to give.
      core.db.pragma('wal_checkpoint(PASSIVE)');
      const journalFile = join(journalDir(dir), readdirSync(journalDir(dir))[0]!);
      const size = statSync(journalFile).size;
      writeFileSync(journalFile, '\n'.repeat((4096 - 40 - (size % 4096) + 4096) % 4096), { flag: 'a' });
      const journalBefore = journalText();
      const disk = fillDisk(mount);
      expect(freeBytes(mount)).toBeLessThan(4096);

      const r = await punch(ids[10]!);
      fullPunchAttempts++;
      // SQLite had the room: the punch is stored (punch + outbox), so the screen may confirm it.
      expect(r.ok && r.value.kind, JSON.stringify(r)).toBe('punched');
      const storedId = r.ok && r.value.kind === 'punched' ? r.value.punchId : '';
      punchesMade++;
      expect(localPunches(core.db).some((p) => p.id === storedId)).toBe(true);
      expect(outboxIds(core.db).has(storedId)).toBe(true);
      // The journal could not take the line: it is as before, with no fragment of it.
      expect(journalText()).toBe(journalBefore);

      disk.free();
      const next = await punchOk(ids[11]!);
      // The next line is whole and readable (a torn fragment before it would have glued the two into one bad line).
      expect(journalEntries()).toContain(next);
      expect(journalText().endsWith('\n')).toBe(true);
      // A line torn some other way (a power cut mid-append leaves a fragment without its newline): the next punch
      // still starts a line of its own.
      writeFileSync(journalFile, '{"id":"0b5e', { flag: 'a' });
      const afterTorn = await punchOk(ids[12]!);
      expect(journalEntries()).toContain(afterTorn);
      await core.upload();
      const onCentral = new Set((await centralPunches(admin, kiosk.id)).map((p) => p.id));
      expect(onCentral.has(storedId) && onCentral.has(next) && onCentral.has(afterTorn)).toBe(true);
      expect(outboxIds(core.db).size).toBe(0);
      recordTally({
        area: 'fault',
        kind: 'disk full during punch',
        count: fullPunchAttempts,
        punches: { expected: punchesMade, lost: 0, duplicated: 0 },
        outcome:
          'SQLite full: refused with STORAGE_FULL ("NOT recorded"), nothing half-stored; journal full: punch kept in SQLite, no torn line; ' +
          'resumed without repair once space was freed',
      });
    }, 120_000);

    it('a roster sync that runs out of space mid-snapshot leaves the old roster whole; after freeing space the next sync completes', async () => {
      const oldRoster = kioskDigest(core.db);
      const punchesBefore = localPunches(core.db);
      // Serving the other site too makes the next sync a snapshot of 1,520 people and 3,020 templates.
      await admin.query('INSERT INTO kiosk_sites (kiosk_id, site) VALUES ($1, $2)', [kiosk.id, OTHER_SITE]);
      core.db.pragma('wal_checkpoint(TRUNCATE)');
      const disk = fillDisk(mount, 256 * 1024);
      const left = freeBytes(mount);
      let error: unknown = null;
      try {
        await core.syncRoster(10_000);
      } catch (e) {
        error = e;
      }
      expect(error, 'the sync did not notice the full disk').not.toBeNull();
      expect(String((error as { code?: string }).code)).toMatch(/SQLITE_FULL|SQLITE_IOERR/);
      // The cache is the old roster, whole; the punches untouched; the file healthy, now and when opened again.
      expect(kioskDigest(core.db)).toBe(oldRoster);
      expect(localPunches(core.db)).toEqual(punchesBefore);
      expect(core.db.pragma('quick_check', { simple: true })).toBe('ok');
      expect(core.index.count()).toBe(core.status().templates);
      // A person can still be recognised. The WAL the failed sync grew may have room for one punch: then it is
      // stored and confirmed; otherwise it is refused plainly and nothing is stored. Never confirmed and missing.
      const r = await punch([...faces.keys()][14]!);
      fullPunchAttempts++;
      const storedNow = localPunches(core.db);
      if (r.ok && r.value.kind === 'punched') {
        const id = r.value.punchId;
        punchesMade++;
        expect(storedNow.some((p) => p.id === id) && outboxIds(core.db).has(id)).toBe(true);
      } else {
        expect(r.ok ? r.value.kind : r.error.code).toBe('STORAGE_FULL');
        expect(storedNow).toEqual(punchesBefore);
      }
      const duringFullSync = r.ok ? r.value.kind : r.error.code;
      await service.stop(); // its background upload must not outlive the database it uses
      core.close();
      disk.free();
      core = KioskCore.open(dir, { clock });
      service = new KioskService(core, { follow: false });
      expect(core.recovery).toBeNull();
      expect(kioskDigest(core.db)).toBe(oldRoster);

      const synced = await core.syncRoster(10_000);
      expect(synced.kind).toBe('snapshot');
      expectCacheEquals(core.db, core.index, await expectedFor(admin, kiosk.id));
      await punchOk([...faces.keys()][15]!);
      await core.upload();
      // Every punch the screen confirmed in this file is on central, once; nothing else is.
      expect(await expectAllUploaded(admin, kiosk.id, core.db, new Map())).toBe(punchesMade);
      console.log(
        `[disk-full] sync: snapshot of ${synced.employees} employees / ${synced.templates} templates refused with ${(error as { code?: string }).code} ` +
          `(${left} bytes were free); the old roster stayed whole; a punch meanwhile: ${duringFullSync}; after freeing space the snapshot completed`,
      );
      recordTally({
        area: 'fault',
        kind: 'disk full during roster sync',
        count: 1,
        outcome: `${(error as { code?: string }).code}: old roster kept whole, no corruption; next sync after freeing space completed the snapshot`,
      });
      expect(existsSync(join(dir, 'kiosk.db'))).toBe(true);
    }, 120_000);
  });
}
