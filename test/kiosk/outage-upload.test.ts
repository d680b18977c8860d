import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectCentral } from '../../electron/central/connect.js';
import { startEmbeddedCentral, type EmbeddedCentral } from '../../electron/central/embedded.js';
import { registerKiosk, type RegisteredKiosk } from '../../electron/central/kiosk-registry.js';
import { migrateCentral } from '../../electron/central/migrate.js';
import { KioskCore } from '../../electron/kiosk/kiosk-core.js';
import { initKioskDir } from '../../electron/kiosk/kiosk-init.js';
import { parseKioskSettings, readKioskSettings, writeKioskSettings } from '../../electron/kiosk/kiosk-settings.js';
import type { AnalyzeResult } from '../../shared/face/engine.js';
import { FACE_MODEL_ID } from '../../shared/face-model.js';
import { spawnCli } from '../support/kill-points.js';
import { addEmployee, addSite, addTemplate, randomDescriptor, seededRandom } from '../support/roster-fixtures.js';
import { runCli } from '../support/run-cli.js';
import { TestClock, mondayWeeksAgo } from '../support/test-clock.js';

/**
 * Punches made while central is down are kept, and once central is back they arrive exactly once: 500 punches
 * through the whole kiosk path (frames → match policy → punch + outbox) with central truly stopped (an embedded
 * central on a data folder, stopped and started again on the same port); then 500 more uploaded by `kiosk sync`
 * in batches of 20, the process SIGKILLed several times while central holds some but not all of them.
 */

const PUNCHES = 500;
const EMPLOYEES = 5;
/** Uploads of the second 500 started and killed before the final, uninterrupted one. */
const KILLS = 3;
const random = seededRandom(5150);

interface CentralRows {
  n: number;
  distinctIds: number;
  /** Punches that differ in employee or time: a punch stored twice under two ids would show here. */
  distinctPunches: number;
}

describe('punches during a central outage, and an uploader killed mid-batch (embedded central on a data folder)', () => {
  const root = mkdtempSync(join(tmpdir(), 'clockface-outage-'));
  const dataDir = join(root, 'central');
  const kioskDir = join(root, 'kiosk');
  let central: EmbeddedCentral | null = null;
  let port = 0;
  let kiosk: RegisteredKiosk;
  /** employee id → template vector */
  const faces = new Map<number, number[]>();
  // Moved by the test: wall and monotonic clock together (the debounce runs on the latter).
  const clock = new TestClock(mondayWeeksAgo(26, '06:00'));

  const admin = (): Promise<pg.Client> => connectCentral({ url: central!.url, embeddedDefault: false });

  async function centralRows(client: pg.ClientBase, ids?: string[]): Promise<CentralRows> {
    const { rows } = await client.query<CentralRows>(
      `SELECT count(*)::int AS n, count(DISTINCT id)::int AS "distinctIds",
              count(DISTINCT (employee_id, punched_at))::int AS "distinctPunches"
       FROM punches WHERE kiosk_id = $1 AND ($2::uuid[] IS NULL OR id = ANY($2))`,
      [kiosk.id, ids ?? null],
    );
    return rows[0]!;
  }

  /** The kiosk's punches as lines, and central's rows of those ids as lines in the same form. */
  async function compare(core: KioskCore, ids: string[]): Promise<{ kiosk: string[]; central: string[] }> {
    const local = core.db
      .prepare('SELECT id, employee_id, direction, punched_at FROM punches WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id')
      .all(JSON.stringify(ids)) as Array<{ id: string; employee_id: number; direction: string; punched_at: string }>;
    const client = await admin();
    try {
      const { rows } = await client.query<{ id: string; employee_id: number; direction: string; punched_at: Date }>(
        'SELECT id::text, employee_id::int AS employee_id, direction, punched_at FROM punches WHERE kiosk_id = $1 AND id = ANY($2) ORDER BY id',
        [kiosk.id, ids],
      );
      return {
        kiosk: local.map((p) => `${p.id} ${p.employee_id} ${p.direction} ${p.punched_at}`),
        central: rows.map((p) => `${p.id} ${p.employee_id} ${p.direction} ${p.punched_at.toISOString()}`),
      };
    } finally {
      await client.end();
    }
  }

  /** A camera frame of this employee, as the face engine would report it: their template plus a little noise. */
  function frame(employeeId: number): AnalyzeResult {
    const values = Float32Array.from(faces.get(employeeId)!, (v) => v + (random() - 0.5) * 0.004);
    return {
      ok: true,
      facesFound: 1,
      face: {
        box: { x: 200, y: 120, width: 220, height: 220 },
        score: 0.99,
        landmarks: [],
        pose: { yaw: 0, pitch: 0, roll: 0 },
        brightness: 0.5,
        sharpness: 0.5,
        descriptor: { modelId: FACE_MODEL_ID, values },
        issues: [],
      },
    };
  }

  /** `count` punches through processFrame, each confirmed by two agreeing frames, 61 s apart (past the debounce). */
  async function punch(core: KioskCore, count: number): Promise<string[]> {
    const ids: string[] = [];
    const employees = [...faces.keys()];
    for (let i = 0; i < count; i++) {
      clock.elapse(61_000);
      const employeeId = employees[i % employees.length]!;
      core.resetFrames();
      // One clear frame decides (single-frame rule); a less clear one waits for the second.
      const first = await core.processFrame(frame(employeeId));
      const second = first.kind === 'pending' ? await core.processFrame(frame(employeeId)) : first;
      if (second.kind !== 'punched') throw new Error(`punch ${i}: expected a punch, got ${JSON.stringify(second)}`);
      expect(second.employee.id).toBe(employeeId);
      expect(second.source).toBe('cache');
      ids.push(second.punch.id);
    }
    return ids;
  }

  beforeAll(async () => {
    central = await startEmbeddedCentral({ dataDir, port: 0 });
    port = central.port;
    const client = await admin();
    try {
      await migrateCentral(client);
      await addSite(client, 'hq');
      for (let i = 0; i < EMPLOYEES; i++) {
        const id = await addEmployee(client, `E${i}`, 'hq');
        const descriptor = randomDescriptor(random);
        await addTemplate(client, id, descriptor);
        faces.set(id, descriptor);
      }
      kiosk = await registerKiosk(client, central.url, { name: 'door-1', site: 'hq' });
    } finally {
      await client.end();
    }
    await initKioskDir(kioskDir, parseKioskSettings(
        // Punches 61 s apart in turn: no "Clock OUT so soon?" question (test/kiosk/presentation.test.ts has that).
        { ...kiosk.settings, kioskId: kiosk.id, engine: 'sqlite-vec', policy: { confirmOppositeSeconds: 0 } },
        'test settings',
      ));
    const core = KioskCore.open(kioskDir, { clock });
    try {
      const synced = await core.syncRoster();
      expect(synced).toMatchObject({ employees: EMPLOYEES, templates: EMPLOYEES });
    } finally {
      core.close();
    }
  }, 120_000);

  afterAll(async () => {
    await central?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  const firstIds: string[] = [];

  it(`${PUNCHES} punches with central stopped are all kept; once central is started again exactly ${PUNCHES} rows arrive, none twice`, async () => {
    await central!.stop();
    central = null;
    const core = KioskCore.open(kioskDir, { clock });
    try {
      firstIds.push(...(await punch(core, PUNCHES)));
      expect(new Set(firstIds).size).toBe(PUNCHES);

      // Central is down: every attempt fails, nothing is lost, nothing is dropped from the outbox.
      for (let attempt = 0; attempt < 2; attempt++) {
        clock.elapse(10 * 60_000); // past any back-off
        expect(await core.upload()).toBe(0);
        const status = core.uploader.getStatus();
        expect(status).toMatchObject({ connected: false, pending: PUNCHES });
        expect(status.uploadError?.message).toMatch(/ECONNREFUSED|cannot reach/);
      }
      expect(core.status().pendingPunches).toBe(PUNCHES);

      central = await startEmbeddedCentral({ dataDir, port });
      expect(central.port).toBe(port); // the URL in the kiosk's settings
      clock.elapse(10 * 60_000);
      expect(await core.upload()).toBe(PUNCHES);
      expect(core.uploader.getStatus()).toMatchObject({ connected: true, pending: 0, uploadError: null });
      // Nothing left to send: a further upload stores nothing.
      expect(await core.upload()).toBe(0);

      const client = await admin();
      try {
        expect(await centralRows(client)).toEqual({ n: PUNCHES, distinctIds: PUNCHES, distinctPunches: PUNCHES });
      } finally {
        await client.end();
      }
      const both = await compare(core, firstIds);
      expect(both.kiosk).toHaveLength(PUNCHES);
      expect(both.central).toEqual(both.kiosk);
    } finally {
      core.close();
    }
  }, 120_000);

  it(`${PUNCHES} more, uploaded by \`kiosk sync\` in batches of 20 and SIGKILLed while central holds some of them: exactly ${PUNCHES} arrive, none twice`, async () => {
    const core = KioskCore.open(kioskDir, { clock });
    let secondIds: string[];
    try {
      secondIds = await punch(core, PUNCHES);
      expect(core.status().pendingPunches).toBe(PUNCHES);
    } finally {
      core.close();
    }
    writeKioskSettings(kioskDir, { ...readKioskSettings(kioskDir), uploadBatchSize: 20 });

    const watcher = await admin();
    const kills: Array<{ threshold: number; seenAtKill: number; afterDeath: number; resent: number }> = [];
    try {
      const count = async (): Promise<number> => (await centralRows(watcher, secondIds)).n;
      for (let attempt = 0; attempt < KILLS; attempt++) {
        // Kill point: once central holds at least this many of the 500, somewhere in the first half of what is left.
        const before = await count();
        const threshold = before + 1 + Math.floor(random() * Math.max(1, (PUNCHES - before) / 2));
        const child = spawnCli(['kiosk', 'sync', '--kiosk-dir', kioskDir]);
        let exited = false;
        void child.ended.then(() => (exited = true));
        let seen = before;
        // Poll central every ~10 ms; SIGKILL as soon as it holds `threshold` or more, but not all, of them.
        while (!exited) {
          seen = await count();
          if (seen >= threshold && seen < PUNCHES) {
            child.kill();
            break;
          }
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        const end = await child.ended;
        if (end.signal !== 'SIGKILL') {
          console.log(`[outage-upload] kill at ≥${threshold}: the sync finished first (central held ${seen}); exit ${end.code}`);
          continue;
        }
        const afterDeath = await count();
        // Punches central has that the dead process had not yet crossed off: sent again by the next upload.
        const onCentral = (
          await watcher.query<{ id: string }>('SELECT id::text FROM punches WHERE kiosk_id = $1 AND id = ANY($2)', [kiosk.id, secondIds])
        ).rows.map((r) => r.id);
        const check = KioskCore.open(kioskDir);
        let resent: number;
        let pending: number;
        try {
          pending = check.status().pendingPunches;
          resent = (
            check.db.prepare('SELECT count(*) AS n FROM outbox WHERE punch_id IN (SELECT value FROM json_each(?))').get(JSON.stringify(onCentral)) as {
              n: number;
            }
          ).n;
        } finally {
          check.close();
        }
        // Nothing is lost: every punch is on central or still in the outbox (or both, when the kill fell between
        // central's commit and the outbox delete).
        expect(afterDeath + pending - resent).toBe(PUNCHES);
        expect(afterDeath).toBeLessThan(PUNCHES);
        kills.push({ threshold, seenAtKill: seen, afterDeath, resent });
        console.log(
          `[outage-upload] SIGKILL once central held ${seen} (threshold ${threshold}); after death central holds ${afterDeath}, ` +
            `outbox ${pending}, of which ${resent} already on central (to be sent again)`,
        );
      }
    } finally {
      await watcher.end();
    }
    // The case this test is about must have happened at least once: a process killed with the upload half done.
    expect(kills.length).toBeGreaterThan(0);
    expect(kills.some((k) => k.afterDeath > 0 && k.afterDeath < PUNCHES)).toBe(true);

    const beforeLast = await admin();
    const held = (await centralRows(beforeLast, secondIds)).n;
    await beforeLast.end();
    const last = await runCli(['kiosk', 'sync', '--kiosk-dir', kioskDir]);
    expect(last.code, last.stderr).toBe(0);
    // "uploaded" counts rows central newly stored: a punch sent again after a kill is not counted twice.
    expect(last.stdout).toContain(`punches: ${PUNCHES - held} uploaded, 0 waiting`);

    const client = await admin();
    try {
      expect(await centralRows(client, secondIds)).toEqual({ n: PUNCHES, distinctIds: PUNCHES, distinctPunches: PUNCHES });
      expect(await centralRows(client)).toEqual({ n: 2 * PUNCHES, distinctIds: 2 * PUNCHES, distinctPunches: 2 * PUNCHES });
    } finally {
      await client.end();
    }
    const after = KioskCore.open(kioskDir);
    try {
      expect(after.status().pendingPunches).toBe(0);
      const both = await compare(after, secondIds);
      expect(both.kiosk).toHaveLength(PUNCHES);
      expect(both.central).toEqual(both.kiosk);
    } finally {
      after.close();
    }
    const resent = kills.reduce((sum, k) => sum + k.resent, 0);
    console.log(`[outage-upload] ${kills.length} kills mid-upload, ${resent} punches left on central and in the outbox; then \`kiosk sync\`: ${last.stdout.trim().split('\n').at(-1) ?? ''}`);
  }, 180_000);
});
