import { closeSync, cpSync, existsSync, mkdtempSync, openSync, rmSync, statSync, truncateSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RegisteredKiosk } from '../../electron/central/kiosk-registry.js';
import { KioskCore } from '../../electron/kiosk/kiosk-core.js';
import { DATABASE_FILE } from '../../electron/kiosk/kiosk-settings.js';
import type { VectorEngineName } from '../../electron/kiosk/vector-index/index.js';
import { centralFactories, startMigrated, type TestCentral } from '../support/centrals.js';
import {
  addFaces,
  centralPunches,
  duplicates,
  localPunches,
  registerKioskDir,
  syncRetrying,
  uploadUntilDone,
  type PunchLine,
} from '../support/fault-kiosk.js';
import { recordTally } from '../support/fault-tally.js';
import { expectCacheEquals, expectedFor } from '../support/kiosk-cache.js';
import { addSite, seededRandom } from '../support/roster-fixtures.js';
import { sqliteEngines } from '../support/vector-engines.js';
import { mondayWeeksAgo } from '../support/test-clock.js';

/**
 * Issue 8, kiosk database corruption, end to end. test/kiosk/kiosk-db-recovery.test.ts proves openKioskDbRecovering on
 * a bare database (damaged roster pages, a destroyed header with and without the journal). Here the whole kiosk: a
 * folder made by `kiosk init`, synced, with punches uploaded and punches waiting, some of them only in the WAL as a
 * crash leaves them; the file damaged in one of four ways chosen by a seeded random; then KioskCore.open on its own
 * (no hand repair), a sync and an upload. Each time: every punch ever made at that kiosk is on central exactly once,
 * and the cache equals central.
 *
 * Kinds: random bytes over whole pages (anywhere after the header page); the file cut short at a random length; the
 * 100-byte header zeroed; the -wal file lost after a crash (the database then looks healthy but lacks its latest
 * commits: only the punch journal has them).
 */

const FACTORY = centralFactories().at(-1)!;
const ENGINES = sqliteEngines();
const SEED = Number(process.env['CLOCKFACE_FAULT_SEED'] ?? 20261127);
const random = seededRandom(SEED);
const SITE = 'hq';
const KINDS = ['random page bytes', 'truncated file', 'zeroed header', 'lost -wal file'] as const;
type Kind = (typeof KINDS)[number];
const RUNS_PER_KIND = 3;
const PAGE = 4096;

function randomInt(max: number): number {
  return Math.floor(random() * max);
}

/** Damages `file` in the way `kind` says; returns a description for the log. */
function corrupt(dir: string, kind: Kind): string {
  const file = join(dir, DATABASE_FILE);
  const size = statSync(file).size;
  const pages = Math.floor(size / PAGE);
  switch (kind) {
    case 'random page bytes': {
      const count = 1 + randomInt(8);
      const hit = new Set<number>();
      while (hit.size < Math.min(count, pages - 1)) hit.add(2 + randomInt(pages - 1));
      const fd = openSync(file, 'r+');
      try {
        for (const page of hit) {
          const junk = Buffer.from(Array.from({ length: PAGE }, () => randomInt(256)));
          writeSync(fd, junk, 0, PAGE, (page - 1) * PAGE);
        }
      } finally {
        closeSync(fd);
      }
      return `${hit.size} of ${pages} pages overwritten (${[...hit].sort((a, b) => a - b).join(', ')})`;
    }
    case 'truncated file': {
      const length = PAGE + randomInt(size - 2 * PAGE);
      truncateSync(file, length);
      return `cut from ${size} to ${length} bytes`;
    }
    case 'zeroed header': {
      const fd = openSync(file, 'r+');
      try {
        writeSync(fd, Buffer.alloc(100), 0, 100, 0);
      } finally {
        closeSync(fd);
      }
      return 'first 100 bytes zeroed';
    }
    case 'lost -wal file': {
      const wal = `${file}-wal`;
      const walSize = statSync(wal).size;
      rmSync(wal);
      rmSync(`${file}-shm`, { force: true });
      return `-wal file of ${walSize} bytes lost`;
    }
  }
}

describe(`kiosk database corrupted, recovered on its own, against ${FACTORY.label} (seed ${SEED})`, () => {
  const root = mkdtempSync(join(tmpdir(), 'clockface-db-corruption-'));
  let central: TestCentral;
  let admin: pg.Client;
  let faces: Map<number, number[]>;
  /** Per engine: a synced kiosk folder with 200 punches (120 uploaded, 80 waiting), closed cleanly. */
  const templates = new Map<VectorEngineName, { dir: string; kiosk: RegisteredKiosk; punches: Map<string, PunchLine> }>();
  let clock = Date.parse(mondayWeeksAgo(40, '06:00'));

  function makePunches(core: KioskCore, count: number, into: Map<string, PunchLine>): void {
    const ids = [...faces.keys()];
    for (let i = 0; i < count; i++) {
      clock += 61_000;
      const p = core.recordPunch({
        employeeId: ids[randomInt(ids.length)]!,
        direction: random() < 0.5 ? 'in' : 'out',
        method: 'face',
        matchDistance: 0.3,
        at: new Date(clock),
      });
      into.set(p.id, { id: p.id, employeeId: p.employeeId, direction: p.direction, at: p.at.toISOString() });
    }
  }

  beforeAll(async () => {
    console.log(`[db-corruption] seed ${SEED} (CLOCKFACE_FAULT_SEED=${SEED} replays it); engines ${ENGINES.join(', ')}`);
    central = await startMigrated(FACTORY);
    admin = await central.connect();
    await addSite(admin, SITE);
    // Enough people that the roster spans many pages: page damage hits roster, index and punches alike.
    faces = await addFaces(admin, SITE, 'C', 400, random);
    for (const engine of ENGINES) {
      const dir = join(root, `template-${engine}`);
      const kiosk = await registerKioskDir(admin, central.url, dir, { name: `door-corrupt-${engine}`, site: SITE, engine });
      const punches = new Map<string, PunchLine>();
      const core = KioskCore.open(dir);
      try {
        await syncRetrying(core);
        makePunches(core, 120, punches);
      } finally {
        core.close();
      }
      await uploadUntilDone(dir);
      const again = KioskCore.open(dir);
      try {
        makePunches(again, 80, punches);
        expect(again.status().pendingPunches).toBe(80);
      } finally {
        again.close();
      }
      templates.set(engine, { dir, kiosk, punches });
    }
  }, 180_000);

  afterAll(async () => {
    await admin?.end();
    await central?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it(`${RUNS_PER_KIND} runs of each kind (${KINDS.join(', ')}): the kiosk opens again by itself, salvages every punch, re-syncs, central has each once`, async () => {
    // Every kind RUNS_PER_KIND times, in a seeded order; engines take turns.
    const plan = KINDS.flatMap((k) => Array.from({ length: RUNS_PER_KIND }, () => k))
      .map((k) => ({ k, r: random() }))
      .sort((a, b) => a.r - b.r)
      .map((x) => x.k);
    /** Everything ever made per kiosk (over all runs): central must end with exactly these. */
    const made = new Map<VectorEngineName, Map<string, PunchLine>>(ENGINES.map((e) => [e, new Map(templates.get(e)!.punches)]));
    const perKind = new Map<Kind, { runs: number; punches: number; detected: number; fromJournal: number; salvaged: number }>();
    for (const [run, kind] of plan.entries()) {
      const engine = ENGINES[run % ENGINES.length]!;
      const template = templates.get(engine)!;
      const all = made.get(engine)!;
      // The kiosk at work: a copy of the template opened, more punches made; then the folder as a crash leaves it
      // (files copied while the database is open: the newest punches only in the WAL, every one in the journal).
      const live = join(root, `live-${run}`);
      const dir = join(root, `run-${run}`);
      cpSync(template.dir, live, { recursive: true });
      const newPunches = new Map<string, PunchLine>();
      const core = KioskCore.open(live);
      try {
        expect(core.recovery).toBeNull();
        makePunches(core, 5 + randomInt(26), newPunches);
        // For damage to the main file, most runs first move everything into it; some leave the newest in the WAL.
        const inWal = kind === 'lost -wal file' || random() < 0.3;
        if (!inWal) core.db.pragma('wal_checkpoint(TRUNCATE)');
        cpSync(live, dir, { recursive: true, filter: (src) => !src.endsWith('-shm') });
        if (inWal) expect(statSync(join(dir, `${DATABASE_FILE}-wal`)).size).toBeGreaterThan(0);
      } finally {
        core.close();
      }
      rmSync(live, { recursive: true, force: true });
      for (const [id, p] of newPunches) all.set(id, p);
      const damage = corrupt(dir, kind);

      // No hand repair: the kiosk opens, syncs and uploads as it would after a restart.
      const opened = KioskCore.open(dir);
      let recoveryText: string;
      try {
        const r = opened.recovery;
        recoveryText = r
          ? `moved aside (${r.reason.replace(/\s+/g, ' ').slice(0, 70)}); ${r.punchesSalvaged} salvaged from the file, ${r.punchesFromJournal} from the journal`
          : 'opened as healthy';
        const stats = perKind.get(kind) ?? { runs: 0, punches: 0, detected: 0, fromJournal: 0, salvaged: 0 };
        stats.runs++;
        stats.punches += template.punches.size + newPunches.size;
        if (r) {
          stats.detected++;
          stats.fromJournal += r.punchesFromJournal;
          stats.salvaged += r.punchesSalvaged;
          expect(existsSync(r.corruptCopy), 'the damaged file is kept for forensics').toBe(true);
        }
        perKind.set(kind, stats);
        // Every punch of this folder is back in the kiosk, whatever the damage took.
        const local = new Map(localPunches(opened.db).map((p) => [p.id, p]));
        const expectedHere = [...template.punches.values(), ...newPunches.values()];
        expect(expectedHere.filter((p) => JSON.stringify(local.get(p.id)) !== JSON.stringify(p)).map((p) => p.id), 'punches lost by the damage').toEqual([]);
        expect(duplicates([...local.values()])).toBe(0);
        await syncRetrying(opened);
        expectCacheEquals(opened.db, opened.index, await expectedFor(admin, template.kiosk.id));
      } finally {
        opened.close();
      }
      await uploadUntilDone(dir);
      const after = KioskCore.open(dir);
      try {
        expect(after.recovery, 'the rebuilt database is healthy').toBeNull();
        // Central holds every punch ever made at this kiosk (all runs so far), each once, and nothing else.
        const onCentral = await centralPunches(admin, template.kiosk.id);
        const line = (p: PunchLine): string => `${p.id} ${p.employeeId} ${p.direction} ${p.at}`;
        expect(onCentral.map(line)).toEqual([...all.values()].map(line).sort());
        expect(duplicates(onCentral)).toBe(0);
        // Nothing waits, and every punch of this folder is on central as the folder has it.
        expect(after.status().pendingPunches).toBe(0);
        const centralLines = new Set(onCentral.map(line));
        expect(localPunches(after.db).filter((p) => !centralLines.has(line(p))).map(line)).toEqual([]);
      } finally {
        after.close();
      }
      console.log(
        `[db-corruption] run ${String(run + 1).padStart(2)} ${engine.padEnd(10)} ${kind.padEnd(17)}: ${damage}; ${recoveryText}; ` +
          `${template.punches.size + newPunches.size} punches in the folder (${newPunches.size} new), central holds ${all.size} for this kiosk, each once`,
      );
      rmSync(dir, { recursive: true, force: true });
    }
    for (const [kind, s] of perKind) {
      // Damage to the file itself must be noticed every time (a damaged file passed as healthy would lose data later).
      if (kind !== 'lost -wal file') expect(s.detected, `${kind}: damage not detected in every run`).toBe(s.runs);
      recordTally({
        area: 'fault',
        kind: `kiosk DB corrupted (${kind})`,
        count: s.runs,
        punches: { expected: s.punches, lost: 0, duplicated: 0 },
        outcome:
          kind === 'lost -wal file'
            ? 'opened as healthy; the punches of the lost commits restored from the journal; roster re-synced; central has each once'
            : `moved aside and rebuilt in ${s.detected}/${s.runs}; ${s.salvaged} punches read back from the file, ${s.fromJournal} from the journal; roster re-synced; central has each once`,
      });
    }
    expect([...perKind.values()].reduce((n, s) => n + s.runs, 0)).toBe(KINDS.length * RUNS_PER_KIND);
  }, 280_000);
});
