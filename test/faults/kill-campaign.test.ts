import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RegisteredKiosk } from '../../electron/central/kiosk-registry.js';
import { KioskCore } from '../../electron/kiosk/kiosk-core.js';
import { PunchJournal } from '../../electron/kiosk/store/punch-journal.js';
import { DATABASE_FILE, readKioskSettings, writeKioskSettings } from '../../electron/kiosk/kiosk-settings.js';
import type { VectorEngineName } from '../../electron/kiosk/vector-index/index.js';
import { FACE_MODEL_ID } from '../../shared/face-model.js';
import { centralFactories, startMigrated, type TestCentral } from '../support/centrals.js';
import {
  addFaces,
  centralPunches,
  confirmedPunches,
  expectAllUploaded,
  expectNothingLost,
  expectedDigest,
  journalDir,
  kioskDigest,
  registerKioskDir,
  SERVER_FULL,
  spawnKioskChild,
  syncRetrying,
  uploadUntilDone,
  type PunchLine,
} from '../support/fault-kiosk.js';
import { recordTally } from '../support/fault-tally.js';
import { expectCacheEquals, expectedFor } from '../support/kiosk-cache.js';
import { syncKilledAfterContact, watchConnections, type ConnectionWatch, type KilledSync } from '../support/kill-points.js';
import { addSite, seededRandom } from '../support/roster-fixtures.js';
import { runCli } from '../support/run-cli.js';
import { sqliteEngines } from '../support/vector-engines.js';
import { mondayWeeksAgo } from '../support/test-clock.js';
import { sleep } from '../support/waiting.js';

/**
 * Issue 8, SIGKILL campaign: a kiosk process killed (SIGKILL: a crash or a power cut as far as the process can
 * tell) at seeded random points, in three phases, at least 50 kills in all:
 *
 *  (a) punch writing: a kiosk child (test/support/kiosk-child.ts: the real KioskCore + KioskService, frames as
 *      descriptors, no face models) punches as fast as it can, printing a line for every punch the screen would
 *      have confirmed, and uploading in the background as a kiosk does; it is killed at a random moment. After each
 *      kill: the database passes integrity_check, every confirmed punch is in it (and in the journal) with what the
 *      screen showed, none twice, each waiting in the outbox or already on central;
 *  (b) upload: many punches waiting, `uploadBatchSize` 25, the uploader child killed once central holds a random
 *      part of them; after each kill every punch is on central or still waiting (or both), none twice;
 *  (c) roster sync: a smaller sync-crash (test/kiosk/sync-crash.test.ts proves old-or-new on a large roster with 20
 *      kills per engine), here with punches waiting in the same folder, so that the kill may land in the upload that
 *      follows the sync too; both SQLite engines.
 * After each phase, a normal run brings everything home: central holds every punch exactly once, the cache equals
 * central. The seed is printed; CLOCKFACE_FAULT_SEED replays a run.
 */

const FACTORY = centralFactories().at(-1)!; // the real server when configured, else the embedded central
const ENGINES = sqliteEngines();
const SEED = Number(process.env['CLOCKFACE_FAULT_SEED'] ?? 20261126);
const random = seededRandom(SEED);
const SITE = 'hq';
const PUNCH_KILLS = 24;
const UPLOAD_KILLS = 12;
const SYNC_KILLS = 16;
const SYNC_KILLS_PER_ENGINE = Math.ceil(SYNC_KILLS / ENGINES.length);
/** Punches added before each upload kill, and the batch size the uploader sends them in. */
const PUNCHES_PER_UPLOAD_RUN = 150;
const UPLOAD_BATCH = 25;
/** Punches waiting in each phase-(c) folder while it syncs. */
const SYNC_FOLDER_PUNCHES = 30;

/** integrity_check on a plain connection, as the next process would open the file after the crash. */
function integrity(dir: string): string {
  const db = new Database(join(dir, DATABASE_FILE), { fileMustExist: true });
  try {
    return String(db.pragma('integrity_check', { simple: true }));
  } finally {
    db.close();
  }
}

describe(`SIGKILL campaign against ${FACTORY.label} (seed ${SEED})`, () => {
  const root = mkdtempSync(join(tmpdir(), 'clockface-kill-campaign-'));
  let central: TestCentral;
  let admin: pg.Client;
  let faces: Map<number, number[]>;
  const facesFile = join(root, 'faces.json');
  const punchDir = join(root, 'door-punch');
  let punchKiosk: RegisteredKiosk;
  /** Every punch a child confirmed, over all runs of phases (a) and (b). */
  const confirmed = new Map<string, PunchLine>();

  beforeAll(async () => {
    console.log(`[kill-campaign] seed ${SEED} (CLOCKFACE_FAULT_SEED=${SEED} replays it); ${FACTORY.label}; engines ${ENGINES.join(', ')}`);
    central = await startMigrated(FACTORY);
    admin = await central.connect();
    await addSite(admin, SITE);
    faces = await addFaces(admin, SITE, 'K', 40, random);
    writeFileSync(facesFile, JSON.stringify(Object.fromEntries(faces)));
    punchKiosk = await registerKioskDir(admin, central.url, punchDir, { name: 'door-punch', site: SITE, engine: 'sqlite-vec' });
    const core = KioskCore.open(punchDir);
    try {
      expect(await core.syncRoster()).toMatchObject({ employees: 40, templates: 40 });
    } finally {
      core.close();
    }
  }, 120_000);

  afterAll(async () => {
    await admin?.end();
    await central?.close();
    rmSync(root, { recursive: true, force: true });
  });

  /** Opens the folder as the next kiosk process would and checks what a kill must never do. */
  async function checkAfterKill(dir: string, kioskId: number, expectConfirmed: ReadonlyMap<string, PunchLine>) {
    expect(integrity(dir), 'integrity_check after SIGKILL').toBe('ok');
    const core = KioskCore.open(dir);
    try {
      expect(core.recovery, 'a kill must not make the database look damaged').toBeNull();
      const state = await expectNothingLost(admin, kioskId, core.db, expectConfirmed);
      const lastAt = core.db.prepare('SELECT max(punched_at) FROM punches').pluck().get() as string | null;
      return { ...state, lastAt };
    } finally {
      core.close();
    }
  }

  it(`(a) ${PUNCH_KILLS} SIGKILLs while a kiosk writes punches as fast as it can: every confirmed punch kept, in the journal, none twice`, async () => {
    let clock = Date.parse(mondayWeeksAgo(50, '06:00'));
    let kills = 0;
    let unconfirmedStored = 0;
    const perRun: number[] = [];
    for (let run = 0; run < PUNCH_KILLS; run++) {
      const child = spawnKioskChild(['punch', punchDir, facesFile, String(clock)]);
      const ready = await child.ready;
      if (!ready) {
        const end = await child.ended;
        throw new Error(`the punch child exited before it was ready: ${end.code} ${end.stderr}`);
      }
      // Uniform over the first 0.6 s of punching: from before the first punch to well into a run of them.
      const delay = Math.round(random() * 600);
      await sleep(delay);
      expect(child.kill(), `the punch child ended by itself: ${child.lines.slice(-2).join(' | ')}`).toBe(true);
      const end = await child.ended;
      expect(end.signal).toBe('SIGKILL');
      kills++;
      const mine = confirmedPunches(child.lines);
      expect(child.lines.filter((l) => l.startsWith('UNEXPECTED'))).toEqual([]);
      for (const [id, p] of mine) confirmed.set(id, p);
      perRun.push(mine.size);
      const state = await checkAfterKill(punchDir, punchKiosk.id, confirmed);
      // The second copy, before the screen confirmed: every confirmed punch is in the journal too.
      const journalIds = new Set(new PunchJournal(journalDir(punchDir)).readAll().map((j) => j.id));
      expect([...mine.keys()].filter((id) => !journalIds.has(id)), 'confirmed punches missing from the journal').toEqual([]);
      unconfirmedStored = state.unconfirmedStored;
      if (state.lastAt) clock = Math.max(clock, Date.parse(state.lastAt)) + 120_000;
      console.log(
        `[kill-campaign a] run ${String(run + 1).padStart(2)}: kill ${String(delay).padStart(3)} ms after ready; ${mine.size} confirmed; ` +
          `kiosk holds ${state.local} (${state.waiting} waiting), central ${state.onCentral}`,
      );
    }
    expect(confirmed.size, 'the children confirmed no punch at all: the kills proved nothing').toBeGreaterThan(PUNCH_KILLS);
    expect(perRun.filter((n) => n > 0).length, 'most kills must land among punches').toBeGreaterThan(PUNCH_KILLS / 2);

    // A normal run: everything reaches central exactly once; the cache equals central.
    const retried = await uploadUntilDone(punchDir);
    const core = KioskCore.open(punchDir);
    try {
      await syncRetrying(core);
      const onCentral = await expectAllUploaded(admin, punchKiosk.id, core.db, confirmed);
      expectCacheEquals(core.db, core.index, await expectedFor(admin, punchKiosk.id));
      console.log(
        `[kill-campaign a] ${kills} kills; ${confirmed.size} punches confirmed (per run: ${perRun.join(', ')}); ` +
          `${unconfirmedStored} stored but not yet confirmed when killed (kept: the person saw no confirmation, a retry says "already"); ` +
          `central ends with ${onCentral}, each once` + (retried.length > 0 ? ` (upload retried: ${retried.join(' | ')})` : ''),
      );
      recordTally({
        area: 'fault',
        kind: 'SIGKILL during punch writing',
        count: kills,
        punches: { expected: confirmed.size, lost: 0, duplicated: 0 },
        outcome: `integrity_check ok after every kill; every confirmed punch in the DB and the journal; ${onCentral} on central, each once`,
      });
    } finally {
      core.close();
    }
  }, 280_000);

  it(`(b) ${UPLOAD_KILLS} SIGKILLs while the uploader sends batches of ${UPLOAD_BATCH} and central holds part of them: none lost, none twice`, async () => {
    writeKioskSettings(punchDir, { ...readKioskSettings(punchDir), uploadBatchSize: UPLOAD_BATCH });
    const madeHere = new Map<string, PunchLine>();
    let clock = Date.parse(mondayWeeksAgo(30, '06:00'));
    let kills = 0;
    let finishedFirst = 0;
    let resentTotal = 0;
    let midUpload = 0;
    for (let attempt = 0; kills < UPLOAD_KILLS; attempt++) {
      expect(attempt, 'too many uploads finished before their kill').toBeLessThan(UPLOAD_KILLS * 3);
      // More punches waiting, made the way a kiosk makes them (punch + outbox in one transaction, then the journal).
      const maker = KioskCore.open(punchDir);
      try {
        const ids = [...faces.keys()];
        for (let i = 0; i < PUNCHES_PER_UPLOAD_RUN; i++) {
          clock += 61_000;
          const p = maker.recordPunch({ employeeId: ids[i % ids.length]!, direction: i % 2 ? 'out' : 'in', method: 'face', matchDistance: 0.3, at: new Date(clock) });
          madeHere.set(p.id, { id: p.id, employeeId: p.employeeId, direction: p.direction, at: p.at.toISOString() });
        }
      } finally {
        maker.close();
      }
      const before = (await centralPunches(admin, punchKiosk.id)).length;
      const waiting = confirmed.size + madeHere.size - before;
      // Kill once central holds a random part of what waits (at least one more row, never all of them).
      const threshold = before + 1 + Math.floor(random() * (waiting - 1));
      const child = spawnKioskChild(['upload', punchDir]);
      let exited = false;
      void child.ended.then(() => (exited = true));
      await child.ready;
      let seen = before;
      while (!exited) {
        seen = Number((await admin.query<{ n: number }>('SELECT count(*)::int AS n FROM punches WHERE kiosk_id = $1', [punchKiosk.id])).rows[0]!.n);
        if (seen >= threshold && seen < before + waiting) {
          child.kill();
          break;
        }
        await sleep(2);
      }
      const end = await child.ended;
      if (end.signal !== 'SIGKILL') {
        expect(end.code, end.stderr).toBe(0);
        finishedFirst++;
        continue;
      }
      kills++;
      const all = new Map([...confirmed, ...madeHere]);
      // Punches central has that the dead process had not crossed off yet: the next upload sends them again.
      const check = new Database(join(punchDir, DATABASE_FILE));
      const centralIds = new Set((await centralPunches(admin, punchKiosk.id)).map((p) => p.id));
      const resent = (check.prepare('SELECT punch_id FROM outbox').pluck().all() as string[]).filter((id) => centralIds.has(id)).length;
      check.close();
      resentTotal += resent;
      const state = await checkAfterKill(punchDir, punchKiosk.id, all);
      expect(state.onCentral).toBeLessThanOrEqual(state.local);
      // A kill that lands after the last batch's commit (the process was already on its way out) still counts as a
      // kill, but proves less: the campaign must have landed most of its kills mid-upload.
      if (state.onCentral < state.local) midUpload++;
      console.log(
        `[kill-campaign b] kill ${kills}: threshold ${threshold - before} of ${waiting} waiting; central held ${seen - before} more at the kill, ` +
          `${state.onCentral - before} after death; outbox ${state.waiting}, of which ${resent} already on central (sent again next time)`,
      );
    }
    for (const [id, p] of madeHere) confirmed.set(id, p);
    expect(midUpload).toBeGreaterThanOrEqual(Math.ceil(kills / 2));
    const retried = await uploadUntilDone(punchDir);
    const core = KioskCore.open(punchDir);
    try {
      const onCentral = await expectAllUploaded(admin, punchKiosk.id, core.db, confirmed);
      console.log(
        `[kill-campaign b] ${kills} kills (${midUpload} with central holding only part; ${finishedFirst} uploads finished before their kill point); ${resentTotal} punches were on central ` +
          `and still in the outbox at a kill; central ends with ${onCentral}, each once` +
          (retried.length > 0 ? ` (upload retried: ${retried.join(' | ')})` : ''),
      );
      recordTally({
        area: 'fault',
        kind: 'SIGKILL during upload',
        count: kills,
        punches: { expected: madeHere.size, lost: 0, duplicated: 0 },
        outcome: `killed with central holding part of the waiting punches; ${resentTotal} sent twice, absorbed by ON CONFLICT; all on central once`,
      });
    } finally {
      core.close();
    }
  }, 280_000);

  describe('(c) roster sync', () => {
    let relay: ConnectionWatch;
    let rosterA: string;
    let rosterB: string;
    const templates = new Map<VectorEngineName, { dir: string; kiosk: RegisteredKiosk; punches: Map<string, PunchLine> }>();
    let copies = 0;
    const copyOf = (from: string): string => {
      const to = join(root, `sync-run-${copies++}`);
      cpSync(from, to, { recursive: true });
      return to;
    };

    beforeAll(async () => {
      relay = await watchConnections(central.url);
      let clock = Date.parse(mondayWeeksAgo(20, '06:00'));
      for (const engine of ENGINES) {
        const dir = join(root, `door-sync-${engine}`);
        const kiosk = await registerKioskDir(admin, central.url, dir, { name: `door-sync-${engine}`, site: SITE, engine });
        // Through the relay, which notes when the kiosk starts talking to central (kill points count from there).
        writeKioskSettings(dir, { ...readKioskSettings(dir), url: relay.via(readKioskSettings(dir).url) });
        const core = KioskCore.open(dir);
        const punches = new Map<string, PunchLine>();
        try {
          await core.syncRoster();
          const ids = [...faces.keys()];
          for (let i = 0; i < SYNC_FOLDER_PUNCHES; i++) {
            clock += 61_000;
            const p = core.recordPunch({ employeeId: ids[i]!, direction: 'in', method: 'pin', matchDistance: null, at: new Date(clock) });
            punches.set(p.id, { id: p.id, employeeId: p.employeeId, direction: p.direction, at: p.at.toISOString() });
          }
          rosterA = kioskDigest(core.db);
        } finally {
          core.close();
        }
        templates.set(engine, { dir, kiosk, punches });
      }
      expect(rosterA).toBe(expectedDigest(await expectedFor(admin, templates.get(ENGINES[0]!)!.kiosk.id)));
      // Roster B: 1,500 new people with two templates each, 10 of A deactivated, 10 renamed: one big transaction each.
      await admin.query('SELECT setseed(0.1126)');
      await admin.query(
        `INSERT INTO employees (employee_no, full_name, site) SELECT 'S' || lpad(g::text, 4, '0'), 'Sync ' || g, $1 FROM generate_series(1, 1500) g`,
        [SITE],
      );
      await admin.query(
        `INSERT INTO face_templates (employee_id, model_id, embedding, source)
         SELECT e.id, $1, (SELECT array_agg(random() * 0.4 - 0.2) FROM generate_series(1, 128) WHERE e.id > 0 AND k > 0)::vector(128), 'import'
         FROM employees e CROSS JOIN generate_series(1, 2) k WHERE e.employee_no LIKE 'S%'`,
        [FACE_MODEL_ID],
      );
      await admin.query("UPDATE employees SET active = false WHERE employee_no BETWEEN 'K0030' AND 'K0039'");
      await admin.query("UPDATE employees SET full_name = full_name || ' (renamed)' WHERE employee_no BETWEEN 'K0020' AND 'K0029'");
      rosterB = expectedDigest(await expectedFor(admin, templates.get(ENGINES[0]!)!.kiosk.id));
      expect(rosterB).not.toBe(rosterA);
    }, 120_000);

    afterAll(async () => {
      await relay?.close();
    });

    const sync = (dir: string, killAfterMs: number | null): Promise<KilledSync> => syncKilledAfterContact(relay, dir, killAfterMs);

    it.each(ENGINES)(`on %s: SIGKILL at ${SYNC_KILLS_PER_ENGINE} random points of a sync (with punches waiting) leaves roster A or B whole, no punch lost`, async (engine) => {
      const template = templates.get(engine)!;
      // The usual time from first contact to exit, uninterrupted: the kill points are spread over 1.1 × it.
      const work: number[] = [];
      for (let i = 0; work.length < 2 && i < 6; i++) {
        const dir = copyOf(template.dir);
        const r = await sync(dir, null);
        if (r.code !== 0) expect(r.stderr, 'an uninterrupted sync failed').toMatch(SERVER_FULL);
        else work.push(r.workMs ?? r.elapsedMs);
        rmSync(dir, { recursive: true, force: true });
      }
      expect(work.length).toBe(2);
      const median = (): number => [...work].sort((a, b) => a - b)[Math.floor(work.length / 2)]!;
      const held = { A: 0, B: 0 };
      let kills = 0;
      let lastKilled: string | null = null;
      for (let run = 0; run < SYNC_KILLS_PER_ENGINE * 3 && kills < SYNC_KILLS_PER_ENGINE; run++) {
        const dir = copyOf(template.dir);
        const usual = median();
        const delay = Math.round(random() * usual * 1.1);
        const r = await sync(dir, delay);
        if (!r.killed) {
          // Finished before its kill point: its time corrects the window (a first estimate taken while the machine
          // was busier, or while the feed waited for someone's long transaction, would put every kill too late).
          if (r.code !== 0) expect(r.stderr, 'a sync that was not killed failed').toMatch(SERVER_FULL);
          else work.push(r.workMs ?? r.elapsedMs);
          rmSync(dir, { recursive: true, force: true });
          continue;
        }
        kills++;
        expect(integrity(dir)).toBe('ok');
        const core = KioskCore.open(dir, { engine });
        try {
          expect(core.recovery).toBeNull();
          const digest = kioskDigest(core.db);
          expect([rosterA, rosterB], 'the kiosk holds a roster that is neither A nor B').toContain(digest);
          held[digest === rosterA ? 'A' : 'B']++;
          expect(core.index.count()).toBe(core.status().templates);
          expect(core.db.prepare('SELECT count(*) FROM index_pending').pluck().get()).toBe(0);
          const state = await expectNothingLost(admin, template.kiosk.id, core.db, template.punches);
          console.log(
            `[kill-campaign c ${engine}] kill ${String(kills).padStart(2)} at ${String(delay).padStart(4)} ms of ~${Math.round(median())}: ` +
              `roster ${digest === rosterA ? 'A (old)' : 'B (new)'}, ${state.waiting} punches waiting, ${state.onCentral} on central`,
          );
        } finally {
          core.close();
        }
        if (lastKilled) rmSync(lastKilled, { recursive: true, force: true });
        lastKilled = dir;
      }
      expect(kills).toBe(SYNC_KILLS_PER_ENGINE);
      expect(lastKilled).not.toBeNull();

      // A normal sync of the last killed folder reaches B; central holds the folder's punches exactly once.
      let again = await runCli(['kiosk', 'sync', '--kiosk-dir', lastKilled!]);
      for (let i = 0; i < 4 && again.code !== 0 && SERVER_FULL.test(again.stderr); i++) {
        await sleep(2_000);
        again = await runCli(['kiosk', 'sync', '--kiosk-dir', lastKilled!]);
      }
      expect(again.code, again.stderr).toBe(0);
      const core = KioskCore.open(lastKilled!, { engine });
      try {
        expect(kioskDigest(core.db)).toBe(rosterB);
        expectCacheEquals(core.db, core.index, await expectedFor(admin, template.kiosk.id));
        const onCentral = await expectAllUploaded(admin, template.kiosk.id, core.db, template.punches);
        expect(onCentral).toBe(SYNC_FOLDER_PUNCHES);
      } finally {
        core.close();
      }
      console.log(`[kill-campaign c ${engine}] ${kills} kills: ${held.A} left roster A, ${held.B} roster B; a normal sync then reached B`);
      recordTally({
        area: 'fault',
        kind: 'SIGKILL during roster sync',
        count: kills,
        punches: { expected: SYNC_FOLDER_PUNCHES, lost: 0, duplicated: 0 },
        outcome: `${engine}: roster old (${held.A}) or new (${held.B}), whole; index consistent; punches waiting kept; next sync reached the new roster`,
      });
    }, 240_000);
  });
});
