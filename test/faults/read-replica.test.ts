import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerKiosk, type RegisteredKiosk } from '../../electron/central/kiosk-registry.js';
import { KioskCore } from '../../electron/kiosk/kiosk-core.js';
import { initKioskDir } from '../../electron/kiosk/kiosk-init.js';
import { parseKioskSettings, readKioskSettings, writeKioskSettings } from '../../electron/kiosk/kiosk-settings.js';
import { ClockfaceError } from '../../shared/errors.js';
import { recordTally } from '../support/fault-tally.js';
import { runCli } from '../support/run-cli.js';
import { expectCacheEquals, expectedFor, type Expected } from '../support/kiosk-cache.js';
import {
  clusterSuites,
  createCentralDatabase,
  pauseReplay,
  resumeReplay,
  startCluster,
  startReplica,
  waitForReplay,
  type PgCluster,
} from '../support/pg-cluster.js';
import { addEmployee, addSite, addTemplate, randomDescriptor, seededRandom } from '../support/roster-fixtures.js';

/**
 * A real streaming replica (pg_basebackup -R -X stream, hot standby on another port) as the kiosk's rosterUrl,
 * the primary as its url. Roster reads come from the replica, punches go to the primary; replica lag (replay
 * paused) holds roster changes back without losing or skipping any; a transaction still open on the primary holds
 * the replica's feed back as it does the primary's; switching between primary and a lagging replica loses nothing;
 * the replica down stops roster syncs with a clear error while punches still reach the primary.
 *
 * Why this works on a standby: the feed's watermark is pg_snapshot_xmin(pg_current_snapshot()), which a hot
 * standby computes from the transactions its replayed WAL shows as running (pg_current_xact_id(), which would
 * need a new transaction id, is only used by writers on the primary).
 */

const EMPLOYEES = 200;
const random = seededRandom(4_242);

describe.each(clusterSuites('a primary and a streaming replica'))('kiosk reading the roster from a read replica (%s)', () => {
  let primary: PgCluster;
  let replica: PgCluster;
  let adminUrl: string;
  let admin: pg.Client;
  let kiosk: RegisteredKiosk;
  let rosterUrl: string;
  const root = mkdtempSync(join(tmpdir(), 'clockface-replica-'));
  const kioskDir = join(root, 'kiosk');
  const punchIds: string[] = [];
  let someEmployee = 0;
  const tally = { lagRounds: 0, downRounds: 0, switches: 0, openTxRounds: 0 };

  beforeAll(async () => {
    primary = await startCluster({ name: 'primary' });
    adminUrl = await createCentralDatabase(primary);
    admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await addSite(admin, 'hq');
    for (let i = 0; i < EMPLOYEES; i++) {
      const id = await addEmployee(admin, `R${i}`, 'hq');
      await addTemplate(admin, id, randomDescriptor(random));
      someEmployee ||= id;
    }
    kiosk = await registerKiosk(admin, adminUrl, { name: 'door-r', site: 'hq' });
    replica = await startReplica(primary);
    await waitForReplay(primary, replica);
    const url = new URL(kiosk.settings.url);
    url.port = String(replica.port);
    rosterUrl = url.toString();
    await initKioskDir(
      kioskDir,
      parseKioskSettings({ ...kiosk.settings, kioskId: kiosk.id, rosterUrl, engine: 'sqlite-vec' }, 'test settings'),
    );
  }, 180_000);

  afterAll(async () => {
    await admin?.end().catch(() => undefined);
    await replica?.destroy();
    await primary?.destroy();
    rmSync(root, { recursive: true, force: true });
  });

  const expected = (): Promise<Expected> => expectedFor(admin, kiosk.id);
  const watermarkOf = (core: KioskCore): bigint => BigInt(core.status().rosterWatermark ?? '0');

  /** A PIN punch on the kiosk, uploaded to the primary; returns its id. */
  async function punchAndUpload(core: KioskCore): Promise<string> {
    // In the past (the outbox holds a punch until its own time), a minute apart.
    const at = new Date(Date.now() - 86_400_000 + punchIds.length * 61_000);
    const punch = core.recordPunch({ employeeId: someEmployee, direction: punchIds.length % 2 ? 'out' : 'in', method: 'pin', matchDistance: null, at });
    punchIds.push(punch.id);
    await core.upload();
    expect(core.uploader.getStatus()).toMatchObject({ connected: true, pending: 0 });
    const { rows } = await admin.query<{ n: number }>('SELECT count(*)::int AS n FROM punches WHERE id = $1', [punch.id]);
    expect(rows[0]?.n).toBe(1);
    return punch.id;
  }

  /** The lowest transaction id of the feed rows written after `seqBefore`: the first change the kiosk must not skip. */
  async function firstNewTxid(seqBefore: string): Promise<bigint> {
    const { rows } = await admin.query<{ t: string | null }>('SELECT min(txid)::text AS t FROM roster_changes WHERE seq > $1', [seqBefore]);
    expect(rows[0]?.t).not.toBeNull();
    return BigInt(rows[0]!.t!);
  }
  async function lastSeq(): Promise<string> {
    const { rows } = await admin.query<{ s: string }>('SELECT coalesce(max(seq), 0)::text AS s FROM roster_changes');
    return rows[0]!.s;
  }

  it('syncs the roster from the replica and writes punches to the primary', async () => {
    const core = KioskCore.open(kioskDir);
    try {
      const roster = await core.connectRoster();
      try {
        const { rows } = await roster.query<{ standby: boolean; port: string }>(
          "SELECT pg_is_in_recovery() AS standby, current_setting('port') AS port",
        );
        expect(rows[0]).toEqual({ standby: true, port: String(replica.port) });
        // A standby takes no writes: whatever the kiosk does on this connection, it cannot be a punch.
        await expect(roster.query('UPDATE kiosks SET app_version = $1 WHERE id = $2', ['x', kiosk.id])).rejects.toThrow(/read-only/);
      } finally {
        await roster.end();
      }
      const synced = await core.syncRoster(10_000);
      expect(synced).toMatchObject({ kind: 'snapshot', employees: EMPLOYEES, templates: EMPLOYEES, caughtUp: true });
      expectCacheEquals(core.db, core.index, await expected());
      const id = await punchAndUpload(core);
      await waitForReplay(primary, replica);
      const onReplica = await replica.query<{ n: number }>('SELECT count(*)::int AS n FROM punches WHERE id = $1', [id], 'clockface');
      expect(onReplica[0]?.n).toBe(1); // written on the primary, streamed to the replica
    } finally {
      core.close();
    }
  });

  it('with replay paused a roster change waits on the replica; the kiosk punches meanwhile and gets it after resume', async () => {
    const core = KioskCore.open(kioskDir);
    try {
      await core.syncRoster(10_000);
      const before = await expected();
      await pauseReplay(replica);
      const seq = await lastSeq();
      const lagId = await addEmployee(admin, 'LAG-1', 'hq');
      await addTemplate(admin, lagId, randomDescriptor(random));
      await admin.query("UPDATE employees SET full_name = 'Renamed during lag' WHERE employee_no = 'R1'");
      await admin.query("UPDATE employees SET active = false WHERE employee_no = 'R2'");
      const firstChange = await firstNewTxid(seq);
      for (let i = 0; i < 3; i++) {
        const r = await core.syncRoster(0);
        expect(r.changesRead).toBe(0);
        // Not yet on the kiosk, and the watermark has not passed the first change the replica lacks.
        expectCacheEquals(core.db, core.index, before);
        expect(watermarkOf(core) <= firstChange).toBe(true);
        await punchAndUpload(core);
        tally.lagRounds++;
      }
      await resumeReplay(replica);
      await waitForReplay(primary, replica);
      const r = await core.syncRoster(10_000);
      expect(r).toMatchObject({ kind: 'incremental', caughtUp: true });
      expect(r.changesRead).toBeGreaterThanOrEqual(4);
      expect(watermarkOf(core) > firstChange).toBe(true);
      const after = await expected();
      expect(after.employees.has(lagId)).toBe(true);
      expectCacheEquals(core.db, core.index, after);
    } finally {
      await resumeReplay(replica).catch(() => undefined);
      core.close();
    }
  });

  it('a transaction still open on the primary holds the replica feed back: the change committed late is not skipped', async () => {
    const core = KioskCore.open(kioskDir);
    const early = new pg.Client({ connectionString: adminUrl });
    await early.connect();
    try {
      await core.syncRoster(10_000);
      const slowOwner = await addEmployee(admin, 'SLOW-1', 'hq');
      const fastOwner = await addEmployee(admin, 'FAST-1', 'hq');
      await core.syncRoster(10_000);
      await early.query('BEGIN');
      const slowTemplate = await addTemplate(early, slowOwner, randomDescriptor(random)); // older transaction
      const fastTemplate = await addTemplate(admin, fastOwner, randomDescriptor(random)); // commits first
      await waitForReplay(primary, replica);
      const r = await core.syncRoster(0);
      // Neither yet: the fast one's transaction is newer than one still running (as the replica's WAL shows it).
      expect(r.caughtUp).toBe(false);
      const templates = core.db.prepare('SELECT id FROM templates WHERE id IN (?, ?)').pluck().all(slowTemplate, fastTemplate);
      expect(templates).toEqual([]);
      await early.query('COMMIT');
      await waitForReplay(primary, replica);
      const done = await core.syncRoster(10_000);
      expect(done.caughtUp).toBe(true);
      expect(core.db.prepare('SELECT id FROM templates WHERE id IN (?, ?) ORDER BY id').pluck().all(slowTemplate, fastTemplate)).toEqual(
        [slowTemplate, fastTemplate].sort((a, b) => a - b),
      );
      expectCacheEquals(core.db, core.index, await expected());
      tally.openTxRounds++;
    } finally {
      await early.end().catch(() => undefined);
      core.close();
    }
  });

  it('switching between the primary and a lagging replica skips nothing and brings nothing back', async () => {
    const settings = readKioskSettings(kioskDir);
    const withoutReplica = { ...settings };
    delete withoutReplica.rosterUrl;
    await pauseReplay(replica);
    try {
      // C1 on the primary only (the replica is paused before it).
      const seq = await lastSeq();
      const sw1 = await addEmployee(admin, 'SW-1', 'hq');
      await addTemplate(admin, sw1, randomDescriptor(random));
      await admin.query("UPDATE employees SET active = false WHERE employee_no = 'R3'");
      await admin.query("DELETE FROM face_templates WHERE employee_id = (SELECT id FROM employees WHERE employee_no = 'R4')");
      const c1 = await firstNewTxid(seq);

      // Roster from the primary: C1 arrives.
      writeKioskSettings(kioskDir, withoutReplica);
      let core = KioskCore.open(kioskDir);
      const afterC1 = await expected();
      let fromPrimary = 0n;
      try {
        await core.syncRoster(10_000);
        expectCacheEquals(core.db, core.index, afterC1);
        fromPrimary = watermarkOf(core);
        expect(fromPrimary > c1).toBe(true);
      } finally {
        core.close();
      }
      tally.switches++;

      // C2, then back to the replica, still paused before C1: the kiosk must neither lose C1 nor skip C2.
      const sw2 = await addEmployee(admin, 'SW-2', 'hq');
      await addTemplate(admin, sw2, randomDescriptor(random));
      writeKioskSettings(kioskDir, settings);
      core = KioskCore.open(kioskDir);
      try {
        const r = await core.syncRoster(0);
        expect(r.changesRead).toBe(0);
        expectCacheEquals(core.db, core.index, afterC1); // C1 kept (R3 gone, SW-1 there), C2 not yet
        // The replica is behind the watermark the primary gave: the feed hands back the kiosk's own watermark, not the
        // replica's older horizon, so nothing already applied comes again, and C2 (above it) is still to come.
        expect(watermarkOf(core)).toBe(fromPrimary);
        await punchAndUpload(core);
        tally.switches++;

        await resumeReplay(replica);
        await waitForReplay(primary, replica);
        const caught = await core.syncRoster(10_000);
        expect(caught.caughtUp).toBe(true);
        const now = await expected();
        expect(now.employees.has(sw1) && now.employees.has(sw2)).toBe(true);
        expectCacheEquals(core.db, core.index, now);
      } finally {
        core.close();
      }
    } finally {
      writeKioskSettings(kioskDir, settings);
      await resumeReplay(replica).catch(() => undefined);
    }
  });

  it('replica down: roster sync fails with a clear error, punches still reach the primary; recovers when it is back', async () => {
    const core = KioskCore.open(kioskDir);
    let reopened: KioskCore | null = null;
    let coreClosed = false;
    try {
      await core.syncRoster(10_000);
      const before = await expected();
      for (const mode of ['fast', 'immediate'] as const) {
        await replica.stop(mode);
        const downId = await addEmployee(admin, `DOWN-${mode}`, 'hq');
        await addTemplate(admin, downId, randomDescriptor(random));
        const error = await core.syncRoster(0).then(
          () => null,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(ClockfaceError);
        const failure = error as ClockfaceError;
        expect(failure.code).toBe('CENTRAL_UNREACHABLE');
        // It names the replica (the URL tried, password hidden), not the primary.
        expect(failure.message).toContain(`:${replica.port}/`);
        expect(failure.message).not.toContain(new URL(rosterUrl).password);
        expectCacheEquals(core.db, core.index, before);
        // Punching and uploading to the primary go on.
        await punchAndUpload(core);
        await punchAndUpload(core);
        expect(core.status().upload.connected).toBe(true);

        await replica.start();
        await waitForReplay(primary, replica);
        const r = await core.syncRoster(10_000);
        expect(r.caughtUp).toBe(true);
        const now = await expected();
        expect(now.employees.has(downId)).toBe(true);
        expectCacheEquals(core.db, core.index, now);
        Object.assign(before, now);
        tally.downRounds++;
      }

      // The CLI's `kiosk sync` (and the followers, which share its order): a roster read that fails on the replica
      // still uploads the waiting punches to the primary, then reports the failure.
      const at = new Date(Date.now() - 86_400_000 + punchIds.length * 61_000);
      const waiting = core.recordPunch({ employeeId: someEmployee, direction: punchIds.length % 2 ? 'out' : 'in', method: 'pin', matchDistance: null, at });
      punchIds.push(waiting.id);
      core.close();
      coreClosed = true;
      await replica.stop('fast');
      const cli = await runCli(['kiosk', 'sync', '--kiosk-dir', kioskDir, '--wait-seconds', '0']);
      expect(cli.code).toBe(1);
      expect(cli.stderr).toContain(`:${replica.port}/`);
      expect(cli.stderr).toContain('0 waiting');
      const { rows: uploaded } = await admin.query<{ n: number }>('SELECT count(*)::int AS n FROM punches WHERE id = $1', [waiting.id]);
      expect(uploaded[0]?.n).toBe(1);
      await replica.start();
      await waitForReplay(primary, replica);
      reopened = KioskCore.open(kioskDir);
      expect(reopened.status().pendingPunches).toBe(0);

      // Every punch this file made is on the primary exactly once.
      const { rows } = await admin.query<{ n: number; d: number }>(
        'SELECT count(*)::int AS n, count(DISTINCT id)::int AS d FROM punches WHERE kiosk_id = $1',
        [kiosk.id],
      );
      expect(rows[0]).toEqual({ n: punchIds.length, d: punchIds.length });
      recordTally({
        area: 'fault',
        kind: 'read replica lagging (replay paused) / open primary transaction / primary↔replica switch',
        count: tally.lagRounds + tally.openTxRounds + tally.switches,
        outcome: 'changes held back, none skipped; arrived after replay resumed; kiosk punched meanwhile',
      });
      recordTally({
        area: 'fault',
        kind: 'read replica down (fast/immediate)',
        count: tally.downRounds,
        punches: { expected: punchIds.length, lost: 0, duplicated: 0 },
        outcome: 'roster sync refused with CENTRAL_UNREACHABLE naming the replica; punches uploaded to the primary; sync recovered',
      });
    } finally {
      reopened?.close();
      if (!coreClosed) core.close();
    }
  });
});
