import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { registerKiosk, revokeKiosk, type RegisteredKiosk } from '../../electron/central/kiosk-registry.js';
import { CentralGateway } from '../../electron/kiosk/central/index.js';
import { KioskCore } from '../../electron/kiosk/kiosk-core.js';
import { KioskService } from '../../electron/kiosk/kiosk-service.js';
import { writeKioskSettings } from '../../electron/kiosk/kiosk-settings.js';
import { serverFactories, type CentralFactory, type TestCentral } from '../support/centrals.js';
import { startMigrated } from '../support/centrals.js';
import { pgbouncerPart, startPgBouncer, type PgBouncer } from '../support/pgbouncer.js';
import { addEmployee, addSite, addTemplate, randomDescriptor, seededRandom } from '../support/roster-fixtures.js';
import { partsPresent } from '../support/system-parts.js';
import { waitFor } from '../support/waiting.js';

/**
 * A kiosk behind PgBouncer in transaction mode (issue 19), set up with the shipped files (resources/pgbouncer/): it
 * syncs the roster, uploads punches and follows roster changes with no LISTEN (the roster head watch, on the login
 * all pooled kiosks share), holds one connection while idle (that watch), searches central through the pool, and a
 * role default changed by someone holding its password does not reach it. Its settings say `pooler: 'transaction'`, so it sends no startup options (PgBouncer
 * would refuse them). The poll of the change feed is set to an hour: only the watch can bring the change in time.
 */
const factories: CentralFactory[] = partsPresent('a kiosk behind PgBouncer in transaction mode', [pgbouncerPart()])
  ? serverFactories('a kiosk behind PgBouncer (logins, a real pooler)')
  : [];

describe.each(factories)('a kiosk behind PgBouncer in transaction mode, on $label', (factory) => {
  const dir = mkdtempSync(join(tmpdir(), 'clockface-pooled-'));
  const random = seededRandom(19);
  let central: TestCentral;
  let admin: pg.Client;
  let pooler: PgBouncer;
  let kiosk: RegisteredKiosk;
  let core: KioskCore;
  let service: KioskService;
  const people: Record<string, { id: number; descriptor: number[] }> = {};

  const clientsOf = async (role: string) => (await pooler.show('CLIENTS')).filter((c) => c['user'] === role && c['database'] !== 'pgbouncer');
  const serverSessionsOf = async (role: string) =>
    (await admin.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = $1', [role])).rows[0]?.n ?? -1;
  const cached = (no: string) => core.employeeByNumber(no) !== undefined;
  /** Without the service's own cycles (its first sync's upload, the watch's looks) racing the test's for the outbox. */
  const withFollowerStopped = async <T>(work: () => Promise<T>): Promise<T> => {
    await service.stop();
    try {
      return await work();
    } finally {
      service.start();
    }
  };

  beforeAll(async () => {
    central = await startMigrated(factory);
    admin = await central.connect();
    await addSite(admin, 'hq');
    for (const no of ['P-1', 'P-2']) {
      const id = await addEmployee(admin, no, 'hq');
      const descriptor = randomDescriptor(random);
      await addTemplate(admin, id, descriptor);
      people[no] = { id, descriptor };
    }
    pooler = await startPgBouncer(central.url, { maxDbConnections: 10 });
    // As `clockface kiosk add pooled-door --site hq --pooler-url postgres://127.0.0.1:PORT/` makes it.
    kiosk = await registerKiosk(admin, central.url, { name: 'pooled-door', site: 'hq' }, { poolerUrl: `postgres://127.0.0.1:${pooler.port}/` });
    writeKioskSettings(dir, { ...kiosk.settings, kioskId: kiosk.id, engine: 'sqlite-vec', watchSeconds: 0.5, pollSeconds: 3600 });
    core = KioskCore.open(dir);
    service = new KioskService(core);
    service.start();
    await waitFor('the first sync through the pooler', () => cached('P-1') && cached('P-2'), 30_000);
  });
  afterAll(async () => {
    await service?.stop();
    core?.close();
    await pooler?.stop();
    await admin?.end();
    await central?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('uploads a punch through the pool, and central holds it once', async () => {
    const { punch, first, second } = await withFollowerStopped(async () => {
      const punch = core.recordPunch({ employeeId: people['P-1']?.id ?? 0, direction: 'in', method: 'face', matchDistance: 0.31, at: new Date() });
      return { punch, first: await core.upload(), second: await core.upload() };
    });
    expect([first, second]).toEqual([1, 0]);
    const { rows } = await admin.query('SELECT employee_id::int AS e, kiosk_id::int AS k FROM punches WHERE id = $1', [punch.id]);
    expect(rows).toEqual([{ e: people['P-1']?.id, k: kiosk.id }]);
  });

  it('logs in once per sync-and-upload cycle: the roster read, the punches and the heartbeat share one session', async () => {
    // A fleet pays each login on PgBouncer's one thread, every poll of every kiosk (CycleSession in session.ts).
    const seenBefore = (await admin.query<{ t: Date }>('SELECT last_seen_at AS t FROM kiosks WHERE id = $1', [kiosk.id])).rows[0]?.t;
    const { punch, sync, uploaded, primaryLogins, rosterLogins } = await withFollowerStopped(async () => {
      const primary = vi.spyOn(core, 'connectPrimary');
      const roster = vi.spyOn(core, 'connectRoster');
      try {
        const punch = core.recordPunch({ employeeId: people['P-2']?.id ?? 0, direction: 'in', method: 'face', matchDistance: 0.3, at: new Date() });
        const cycle = await core.syncThenUpload(0);
        return { punch, ...cycle, primaryLogins: primary.mock.calls.length, rosterLogins: roster.mock.calls.length };
      } finally {
        primary.mockRestore();
        roster.mockRestore();
      }
    });
    expect(sync.ok).toBe(true);
    expect(uploaded).toBe(1);
    expect({ primaryLogins, rosterLogins }).toEqual({ primaryLogins: 1, rosterLogins: 0 });
    expect((await admin.query('SELECT 1 FROM punches WHERE id = $1', [punch.id])).rowCount).toBe(1);
    const seenAfter = (await admin.query<{ t: Date }>('SELECT last_seen_at AS t FROM kiosks WHERE id = $1', [kiosk.id])).rows[0]?.t;
    expect(seenAfter?.getTime()).toBeGreaterThan(seenBefore?.getTime() ?? 0);
  });

  it('follows a roster change within seconds, by the roster head and not LISTEN (the hourly poll is far off)', async () => {
    const started = performance.now();
    const id = await addEmployee(admin, 'P-3', 'hq');
    await addTemplate(admin, id, randomDescriptor(random));
    await waitFor('P-3 on the kiosk', () => cached('P-3'), 15_000);
    const ms = performance.now() - started;
    console.log(`[pooled kiosk] roster change on central -> on the kiosk through PgBouncer: ${Math.round(ms)} ms (watch every 0.5 s)`);
    // Erasure too: a person removed on central leaves the kiosk.
    await admin.query('DELETE FROM employees WHERE id = $1', [id]);
    await waitFor('P-3 gone from the kiosk', () => !cached('P-3'), 15_000);
  });

  it('was registered for the pooler: its url leads there, with the shared watch login beside its own', () => {
    expect(new URL(kiosk.settings.url).port).toBe(String(pooler.port));
    expect(kiosk.settings.pooler).toBe('transaction');
    expect(kiosk.settings.watchLogin?.user).toMatch(/_watch$/);
  });

  it("the watch login can read the roster head of any site and nothing else", async () => {
    const url = new URL(central.url);
    url.username = kiosk.settings.watchLogin?.user ?? '';
    url.password = kiosk.settings.watchLogin?.password ?? '';
    const watch = new pg.Client({ connectionString: url.toString() });
    await watch.connect();
    const state = (sql: string) => watch.query(sql).then(() => 'ok', (e: { code?: string }) => e.code ?? 'error');
    try {
      expect(await state("SELECT roster_watch_head(ARRAY['hq'])")).toBe('ok');
      expect(await state('SELECT 1 FROM employees LIMIT 1')).toBe('42501');
      expect(await state('SELECT 1 FROM roster_changes LIMIT 1')).toBe('42501');
      expect(await state("SELECT roster_head(ARRAY['hq'])")).toBe('42501');
      expect(await state("SELECT kiosk_watch_login('x', 'y')")).toBe('42501');
      expect(await state('SELECT 1 FROM roster_watch_login')).toBe('42501');
      expect(await state('CREATE TEMP TABLE t (a int)')).toBe('42501');
    } finally {
      await watch.end();
    }
  });

  it('holds one connection to the pooler while idle (the watch login), and no more server sessions than its pool', async () => {
    // Idle once the sync, upload and heartbeat that followed the last change are over: the watch session stays, and
    // its looks every half second open nothing else.
    let quiet = 0;
    await waitFor('only the watch session left, for half a second', async () => {
      quiet = (await clientsOf(kiosk.settings.roleName)).length === 0 ? quiet + 1 : 0;
      return quiet >= 5;
    }, 10_000, 100);
    const counts: string[] = [];
    for (let i = 0; i < 20; i++) {
      counts.push(`${(await clientsOf(kiosk.settings.roleName)).length} own, ${(await clientsOf(kiosk.settings.watchLogin?.user ?? '')).length} watching`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // Its own login is not connected at all while idle: its pool on central can go idle too.
    expect(new Set(counts)).toEqual(new Set(['0 own, 1 watching']));
    // default_pool_size 1 (the shipped file): one server session at most, once any being replaced has closed.
    await waitFor('one server session at most', async () => (await serverSessionsOf(kiosk.settings.roleName)) <= 1, 10_000);
    expect(await serverSessionsOf(kiosk.settings.watchLogin?.user ?? '')).toBeLessThanOrEqual(1);
  });

  it("asks central's index through the pool (its search settings held for its own transaction)", async () => {
    const gateway = new CentralGateway(() => ({ ...core.settings }));
    const found = await gateway.nearestPeople(Float32Array.from(people['P-2']?.descriptor ?? []));
    expect(found.map((p) => p.employeeNo)).toEqual(['P-2', 'P-1']);
    expect(found[0]?.distance).toBeLessThan(1e-4);
  });

  it("is not reached by a role default someone with its password set: the pooler's session reset puts it back", async () => {
    // What a stolen password allows: ALTER ROLE … SET on itself. Made here by the superuser, to the same effect.
    await admin.query(`ALTER ROLE ${admin.escapeIdentifier(kiosk.settings.roleName)} SET default_transaction_read_only = on`);
    await pooler.command('RECONNECT'); // new server sessions from here on, which log in with the changed default
    core.recordPunch({ employeeId: people['P-2']?.id ?? 0, direction: 'in', method: 'pin', matchDistance: null, at: new Date() });
    expect(await core.upload()).toBe(1);
    expect(core.status().upload.connected).toBe(true);
  });

  it('a revoked kiosk is refused through the pool too, and keeps its punch for later', async () => {
    await revokeKiosk(admin, kiosk.settings.kioskName);
    core.recordPunch({ employeeId: people['P-1']?.id ?? 0, direction: 'out', method: 'face', matchDistance: 0.3, at: new Date() });
    expect(await core.upload()).toBe(0);
    expect(core.status().pendingPunches).toBe(1);
    expect(core.status().upload.uploadError?.code).toBe('CENTRAL_AUTH_FAILED');
  });
});
