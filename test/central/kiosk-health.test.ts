import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FLEET_THRESHOLDS, listKiosks, type KioskListing } from '../../electron/central/kiosk-fleet.js';
import { registerKiosk, revokeKiosk, type RegisteredKiosk } from '../../electron/central/kiosk-registry.js';
import { ClockOffsetReports, sendHeartbeat, type HeartbeatHealth } from '../../electron/kiosk/central/index.js';
import { KioskCore } from '../../electron/kiosk/kiosk-core.js';
import { writeKioskSettings } from '../../electron/kiosk/kiosk-settings.js';
import { centralFactories, startMigrated, type TestCentral } from '../support/centrals.js';
import { asKiosk } from '../support/kiosk-session.js';
import { addEmployee, addSite, addTemplate, randomDescriptor, seededRandom } from '../support/roster-fixtures.js';
import { TestClock } from '../support/test-clock.js';

/**
 * The fleet's health (issue 18, migration 0130): a kiosk reports its health in its heartbeat, into its own row only;
 * central keeps the times on its own clock; `listKiosks` (what `kiosk list` and the console's Kiosks page show) judges
 * offline / backlog / stale roster / ok in one place. On both centrals; a kiosk is its own login on the server and
 * SET ROLE on the embedded central (test/support/kiosk-session.ts).
 */

const MINUTE = 60_000;
const HEALTHY: HeartbeatHealth = {
  intervalSeconds: 30,
  oldestPendingAgeS: null,
  rosterWatermark: null,
  rosterSyncAgeS: 0,
  templates: 0,
  vectorEngine: 'sqlite-vec',
  lastUploadError: null,
};
const NEW_HEARTBEAT = 'SELECT kiosk_heartbeat($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) AS now';

/** The SQLSTATE a statement fails with, or 'ok'. */
async function stateOf(work: Promise<unknown>): Promise<string> {
  try {
    await work;
    return 'ok';
  } catch (e) {
    if (typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string') return e.code;
    throw e;
  }
}

describe.each(centralFactories())('kiosk health on $label', (factory) => {
  let central: TestCentral;
  let admin: pg.Client;
  let north: RegisteredKiosk;
  let south: RegisteredKiosk;
  const dir = mkdtempSync(join(tmpdir(), 'clockface-kiosk-health-'));

  const listed = async (name: string, thresholds = FLEET_THRESHOLDS): Promise<KioskListing> => {
    const k = (await listKiosks(admin, thresholds)).find((x) => x.name === name);
    if (!k) throw new Error(`no kiosk ${name} listed`);
    return k;
  };
  /**
   * A watermark past every change in the feed: a kiosk there has read them all. (Not the server's xmin, which a
   * transaction of another test on a shared server can hold back.)
   */
  const feedHead = async () =>
    (await admin.query<{ w: string }>('SELECT (coalesce(max(txid::text::numeric), 0) + 1)::text AS w FROM roster_changes')).rows[0]?.w ?? '1';
  const beat = (kiosk: RegisteredKiosk, health: HeartbeatHealth | undefined, pending = 0) =>
    asKiosk(central, kiosk, (c) => sendHeartbeat(c, kiosk.id, { appVersion: '2.0.0', pending, refused: 0, ...(health ? { health } : {}) }, () => new Date()));

  beforeAll(async () => {
    central = await startMigrated(factory);
    admin = await central.connect();
    await addSite(admin, 'north');
    await addSite(admin, 'south');
    const nina = await addEmployee(admin, 'N-1', 'north', 'Nina North');
    await addTemplate(admin, nina, randomDescriptor(seededRandom(130)));
    await addEmployee(admin, 'S-1', 'south', 'Sam South');
    north = await registerKiosk(admin, central.url, { name: 'north-door', site: 'north' });
    south = await registerKiosk(admin, central.url, { name: 'south-door', site: 'south' });
  });
  afterAll(async () => {
    await admin.end();
    await central.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a kiosk reports its health at its heartbeat; central stores the times on its own clock, however wrong the kiosk clock is', async () => {
    // The kiosk clock is four years behind: central refuses the punch (implausible time), so it stays waiting, and
    // the ages the kiosk measures on its own clock still come out right on central's.
    const clock = new TestClock(new Date(Date.now() - 4 * 365 * 24 * 60 * MINUTE));
    writeKioskSettings(dir, { ...north.settings, kioskId: north.id, engine: 'js', centralFallback: false, pollSeconds: 30, uploadBatchSize: 500, policy: {} });
    const core = KioskCore.open(dir, { clock, appVersion: '3.1.4' });
    try {
      const nina = (await admin.query<{ id: number }>("SELECT id::int AS id FROM employees WHERE employee_no = 'N-1'")).rows[0]?.id ?? 0;
      core.recordPunch({ employeeId: nina, direction: 'in', method: 'pin', matchDistance: null, at: clock.now() });
      clock.elapse(15 * MINUTE);
      await core.syncRoster();
      clock.elapse(5 * MINUTE);
      expect(await core.upload()).toBe(0);
      const status = core.status();
      expect(status.upload).toMatchObject({ connected: true, pending: 1, refused: 1 });

      const k = await listed('north-door');
      expect(k).toMatchObject({
        appVersion: '3.1.4',
        pendingPunches: 1,
        refusedPunches: 1,
        heartbeatSeconds: 30,
        templatesCached: 1,
        vectorEngine: 'js',
        lastUploadError: null,
        rosterWatermark: status.rosterWatermark,
        status: ['backlog'],
      });
      // Set in the heartbeat's own statement: exactly the ages the kiosk measured, back from central's now().
      expect(k.lastSeenAt!.getTime() - k.oldestPendingAt!.getTime()).toBe(20 * MINUTE);
      expect(k.lastSeenAt!.getTime() - k.rosterSyncedAt!.getTime()).toBe(5 * MINUTE);
    } finally {
      core.close();
    }
  });

  it("refuses a kiosk's heartbeat for another kiosk's row, and leaves that row as it was", async () => {
    await beat(south, { ...HEALTHY, rosterWatermark: await feedHead() });
    const row = async () => (await admin.query('SELECT * FROM kiosks WHERE id = $1', [south.id])).rows[0] as Record<string, unknown>;
    const before = await row();
    // Through the kiosk's own code (sendHeartbeat), then the function called by hand with every fact made up.
    await expect(
      asKiosk(central, north, (c) => sendHeartbeat(c, south.id, { appVersion: 'evil', pending: 99, refused: 0, health: { ...HEALTHY, lastUploadError: 'FORGED' } }, () => new Date())),
    ).rejects.toMatchObject({ code: 'KIOSK_NOT_REGISTERED' });
    const byHand = asKiosk(central, north, (c) => c.query(NEW_HEARTBEAT, [south.id, 'evil', 99, 0, 1, 99999, '1', 99999, 0, 'js', 'FORGED']));
    expect(await stateOf(byHand)).toBe('CFK04');
    expect(await row()).toEqual(before);
    expect((await listed('south-door')).status).toEqual(['ok']);
  });

  it('judges offline, stale roster and ok in one place, on central\'s clock', async () => {
    await beat(south, { ...HEALTHY, rosterWatermark: await feedHead() });
    expect((await listed('south-door')).status).toEqual(['ok']);
    // Heartbeats stop: with the threshold moved to "any silence", the same row is offline.
    expect((await listed('south-door', { ...FLEET_THRESHOLDS, missedHeartbeats: 0, offlineAtLeastS: 0 })).status).toEqual(['offline']);
    // A kiosk registered and never heard from is offline, whatever else.
    await registerKiosk(admin, central.url, { name: 'east-door', site: 'north' });
    expect((await listed('east-door')).status).toEqual(['offline']);

    // A roster change central made an hour ago that the kiosk has not read (its watermark is older): stale roster.
    await beat(south, { ...HEALTHY, rosterWatermark: '1' });
    expect((await listed('south-door')).status).toEqual(['ok']); // the changes are minutes old: not yet stale
    await admin.query("UPDATE roster_changes SET changed_at = changed_at - interval '1 hour'");
    const behind = await listed('south-door');
    expect(behind.status).toEqual(['stale_roster']);
    expect(behind.checkedAt.getTime() - behind.rosterBehindSince!.getTime()).toBeGreaterThan(59 * MINUTE);
    // Caught up again: ok.
    await beat(south, { ...HEALTHY, rosterWatermark: await feedHead() });
    expect((await listed('south-door')).status).toEqual(['ok']);
    // A last sync long ago is stale too, and a kiosk that reports its health but never synced has no roster at all.
    await beat(south, { ...HEALTHY, rosterWatermark: await feedHead(), rosterSyncAgeS: 3600 });
    expect((await listed('south-door')).status).toEqual(['stale_roster']);
    await beat(south, { ...HEALTHY, rosterWatermark: null, rosterSyncAgeS: null });
    expect((await listed('south-door')).status).toEqual(['stale_roster']);
    // Several problems at once, worst first.
    await beat(south, { ...HEALTHY, oldestPendingAgeS: 3600, rosterSyncAgeS: 3600 }, 4);
    expect((await listed('south-door', { ...FLEET_THRESHOLDS, missedHeartbeats: 0, offlineAtLeastS: 0 })).status).toEqual(['offline', 'backlog', 'stale_roster']);
  });

  it("an older kiosk's heartbeat still works, and the health facts it does not refresh are not shown as current", async () => {
    await beat(south, { ...HEALTHY, oldestPendingAgeS: 3600, rosterWatermark: await feedHead(), templates: 7 }, 2);
    expect(await listed('south-door')).toMatchObject({ templatesCached: 7, status: ['backlog'] });
    // kiosk_heartbeat(bigint, text, integer, integer) of 0080, as a kiosk of the release before calls it.
    await beat(south, undefined, 2);
    expect(await listed('south-door')).toMatchObject({
      pendingPunches: 2,
      heartbeatSeconds: null,
      oldestPendingAt: null,
      rosterSyncedAt: null,
      rosterWatermark: null,
      templatesCached: null,
      vectorEngine: null,
      status: ['ok'],
    });
    // Its two-argument form too: neither call is ambiguous beside the new argument list.
    expect(await stateOf(asKiosk(central, south, (c) => c.query("SELECT kiosk_heartbeat($1, '1.9.0')", [south.id])))).toBe('ok');
  });

  it('refuses text that is not a token; bounds numbers instead of refusing a live kiosk', async () => {
    const call = (params: unknown[]) => asKiosk(central, south, (c) => c.query(NEW_HEARTBEAT, [south.id, '2.0.0', 0, 0, ...params]));
    expect(await stateOf(call([30, null, null, 0, 0, 'Sqlite Vec', null]))).toBe('22023');
    expect(await stateOf(call([30, null, null, 0, 0, 'js', 'E\u001b[2J']))).toBe('22023');
    expect(await stateOf(call([30, null, null, 0, 0, 'x'.repeat(33), null]))).toBe('22023');
    // A clock set back (negative age), one set to 1970 and back (decades), an interval of 0: kept, within bounds.
    expect(await stateOf(call([0, -50, null, 2_000_000_000, -1, 'js', 'CENTRAL_LIMIT']))).toBe('ok');
    const k = await listed('south-door');
    expect(k).toMatchObject({ heartbeatSeconds: 1, templatesCached: 0, lastUploadError: 'CENTRAL_LIMIT' });
    expect(k.lastSeenAt!.getTime() - k.oldestPendingAt!.getTime()).toBe(0);
    expect(k.lastSeenAt!.getTime() - k.rosterSyncedAt!.getTime()).toBe(315_576_000_000);
  });

  it('a kiosk tells central its clock offset when it is news, not at every heartbeat', async () => {
    const reports = new ClockOffsetReports();
    // `at` is how the kiosk names the central it reports to (the gateway: kiosk id and URL).
    const beatSkewed = (skewMs: number, at = 'this central') =>
      asKiosk(central, north, (c) =>
        sendHeartbeat(c, north.id, { appVersion: '2.0.0', pending: 0, refused: 0, health: HEALTHY }, () => new Date(Date.now() + skewMs), {
          to: reports,
          central: at,
        }),
      );
    const stored = async () => (await listed('north-door')).clockOffsetMs;
    const mark = () => admin.query('UPDATE kiosks SET clock_offset_ms = 424242 WHERE id = $1', [north.id]);

    await mark();
    await beatSkewed(60_000); // the first offset measured for this central: told
    expect(Math.abs((await stored())! - 60_000)).toBeLessThan(1_000);
    await mark();
    await beatSkewed(60_000); // the same within a round trip's noise: not told again
    expect(await stored()).toBe(424242);
    await beatSkewed(75_000); // moved by 15 s: told
    expect(Math.abs((await stored())! - 75_000)).toBeLessThan(1_000);
    await mark();
    await beatSkewed(75_000, 'another central'); // a kiosk re-pointed elsewhere tells the new one
    expect(Math.abs((await stored())! - 75_000)).toBeLessThan(1_000);
  });

  it('a revoked kiosk is off the fleet', async () => {
    await revokeKiosk(admin, 'east-door');
    expect((await listed('east-door')).status).toEqual(['revoked']);
  });
});
