import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectCentral, KIOSK_QUERY_TIMEOUT_MS } from '../../electron/central/connect.js';
import { connectAsKiosk } from '../../electron/central/kiosk-connection.js';
import { listKiosks } from '../../electron/central/kiosk-fleet.js';
import { KIOSK_CONNECTION_LIMIT, registerKiosk, rekeyKiosk, type RegisteredKiosk } from '../../electron/central/kiosk-registry.js';
import { migrateCentral } from '../../electron/central/migrate.js';
import { toVectorLiteral } from '../../electron/central/vector-literal.js';
import { sendHeartbeat } from '../../electron/kiosk/central/index.js';
import { openKioskDb, type KioskDatabase } from '../../electron/kiosk/store/kiosk-db.js';
import { recordPunch } from '../../electron/kiosk/store/punch-store.js';
import { Uploader } from '../../electron/kiosk/uploader.js';
import { eraseEmployee, setActive } from '../../electron/roster/employee-admin.js';
import { FACE_MODEL_ID } from '../../shared/face-model.js';
import { serverFactories, startMigrated, type TestCentral } from '../support/centrals.js';
import { recordTally } from '../support/fault-tally.js';
import { addEmployee, addSite, addTemplate, randomDescriptor, seededRandom } from '../support/roster-fixtures.js';
import { runCli } from '../support/run-cli.js';

/**
 * What someone holding ONE kiosk's password can do to everyone else (issue 13, items 4, 5, 7, 8, 10): freeze the
 * roster feed, hold locks IT needs, take every connection, sabotage the real kiosk's sessions, fill central. Each case
 * is the attack as it was seen, on a real server, then what central does about it.
 *
 * Mutation check, by hand: CLOCKFACE_ABUSE_MUTATION=<name> (see MUTATIONS) removes one rule in this test's scratch
 * database; the case guarding it must go red. Rules that live in the app (the settings a kiosk sets at connect, the
 * migrator's lock) were checked by reverting the code; docs/security.md says how.
 */

const ABUSE = 'stolen kiosk login: denial of service and sabotage';
const vectors = (vs: number[][]) => `{${vs.map((v) => `"${toVectorLiteral(v)}"`).join(',')}}`;

const MUTATIONS: Record<string, string[]> = {
  'heartbeat-no-reaper': [`CREATE OR REPLACE FUNCTION end_stalled_kiosk_sessions(idle_for interval DEFAULT NULL) RETURNS integer
     LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$ SELECT 0 $$`],
  // The sweep record written by whoever finds the sweep due, waiting for its lock: a session stalled inside its own
  // heartbeat then holds every other heartbeat, and no sweep ever ends it.
  'sweep-waits-for-lock': [`CREATE OR REPLACE FUNCTION clockface_sweep_stalled_if_due() RETURNS void LANGUAGE plpgsql AS $$
     BEGIN
       UPDATE kiosk_stall_sweeps SET swept_at = clock_timestamp() WHERE swept_at < clock_timestamp() - interval '1 second';
       IF FOUND THEN PERFORM end_stalled_kiosk_sessions(); END IF;
     END $$`],
  'received-at-transaction-start': [`CREATE OR REPLACE FUNCTION punches_server_clock() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN NEW.received_at := now(); RETURN NEW; END $$`],
  'no-connection-limit': ['ALTER ROLE :a CONNECTION LIMIT -1'],
  'no-punch-limit': ['DROP TRIGGER punches_count_per_kiosk ON punches'],
  'no-snapshot-limit': ['DROP TRIGGER punch_snapshots_count_per_kiosk ON punch_snapshots'],
};

async function pollUntil(what: string, check: () => Promise<boolean>, tries = 100): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`still not true after ${tries} polls: ${what}`);
}

describe.each(serverFactories())('a stolen kiosk login against everyone else ($label)', (factory) => {
  let central: TestCentral;
  let root: pg.Client;
  let a: RegisteredKiosk;
  let b: RegisteredKiosk;
  const employees = new Map<string, number>();
  const random = seededRandom(4242);
  const mutation = process.env['CLOCKFACE_ABUSE_MUTATION'];
  const dir = mkdtempSync(join(tmpdir(), 'clockface-abuse-'));

  beforeAll(async () => {
    central = await startMigrated(factory);
    root = await central.connect();
    await addSite(root, 'hq');
    for (const no of ['H-1', 'H-2', 'H-3', 'H-OFF', 'H-ERASE']) {
      const id = await addEmployee(root, no, 'hq');
      employees.set(no, id);
      await addTemplate(root, id, randomDescriptor(random));
    }
    a = await registerKiosk(root, central.url, { name: 'stolen-door', site: 'hq' });
    b = await registerKiosk(root, central.url, { name: 'honest-door', site: 'hq' });
    if (mutation) {
      const steps = MUTATIONS[mutation];
      if (!steps) throw new Error(`unknown mutation ${mutation}; known: ${Object.keys(MUTATIONS).join(', ')}`);
      console.warn(`\n*** MUTATION ${mutation} applied: this run is expected to FAIL in the case guarding that rule ***\n`);
      for (const step of steps) await root.query(step.replaceAll(':a', root.escapeIdentifier(a.settings.roleName)));
    }
  });

  afterAll(async () => {
    await root?.end();
    await central?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const id = (no: string): number => employees.get(no) ?? 0;
  const punchSql = `INSERT INTO punches (id, employee_id, kiosk_id, direction, punched_at, method, match_distance)
                    SELECT gen_random_uuid(), $1, $2, 'in', now() - (g || ' seconds')::interval, 'face', 0.3 FROM generate_series(1, $3) g`;

  /**
   * The stolen login's session inside a transaction it will leave open, after `firstStatement`, with its own timeouts
   * switched off (they are its to switch off; central's role defaults do not bind it). Returns the session and its pid.
   */
  const openStalledSession = async (firstStatement: string, params: unknown[] = []): Promise<{ attacker: pg.Client; pid: number | undefined }> => {
    const attacker = await connectAsKiosk(a.settings);
    attacker.on('error', () => undefined);
    const pid = (await attacker.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid;
    await attacker.query('SET idle_in_transaction_session_timeout = 0');
    await attacker.query('SET statement_timeout = 0');
    await attacker.query('BEGIN');
    await attacker.query(firstStatement, params);
    return { attacker, pid };
  };

  it('a transaction it leaves open no longer holds back every kiosk: the next heartbeat of any kiosk ends it', async () => {
    await root.query("UPDATE central_settings SET kiosk_stalled_after = '1 second'");
    const { attacker, pid } = await openStalledSession('SELECT pg_current_xact_id()');
    // IT changes the roster after that: the feed hands out only transactions older than the oldest open one.
    const late = await addEmployee(root, 'LATE-1', 'hq');
    const honest = await connectAsKiosk(b.settings);
    const feedHas = async () =>
      ((await honest.query("SELECT 1 FROM roster_changes_since('0') WHERE employee_id = $1", [late])).rowCount ?? 0) > 0;
    try {
      expect(await feedHas(), 'held back while the stalled transaction is open').toBe(false);
      await pollUntil('the attacker idle past kiosk_stalled_after', async () =>
        (await root.query("SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND state_change < clock_timestamp() - interval '1.2 seconds'", [pid])).rowCount === 1,
      );
      await honest.query("SELECT kiosk_heartbeat($1, '1.0')", [b.id]);
      await pollUntil('the stalled session gone', async () => (await root.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid])).rowCount === 0, 20).catch(() => undefined);
      expect(await feedHas(), 'delivered once the stalled session is ended').toBe(true);
      await expect(attacker.query('SELECT 1')).rejects.toThrow();
    } finally {
      await honest.end();
      await attacker.end().catch(() => undefined);
      await root.query("UPDATE central_settings SET kiosk_stalled_after = '2 minutes'");
    }
    recordTally({ area: 'hostile', kind: ABUSE, count: 1, outcome: 'idle transaction holding the feed: ended by the next kiosk heartbeat' });
  });

  it('a session stalled inside its own heartbeat does not stop the sweeps: the next heartbeat of another kiosk ends it', async () => {
    // Heartbeats sweep at most every min(kiosk_stalled_after, 10 s) (0180), recorded in one row. The attacker calls a
    // heartbeat in a transaction it keeps open, so it holds that row's lock and has written a sweep nobody else sees.
    await root.query("UPDATE central_settings SET kiosk_stalled_after = '1 second'");
    await root.query("UPDATE kiosk_stall_sweeps SET swept_at = '-infinity'");
    const { attacker, pid } = await openStalledSession("SELECT kiosk_heartbeat($1, '1.0')", [a.id]);
    const honest = await connectAsKiosk(b.settings);
    try {
      await pollUntil('the attacker idle past kiosk_stalled_after', async () =>
        (await root.query("SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND state_change < clock_timestamp() - interval '1.2 seconds'", [pid])).rowCount === 1,
      );
      // The honest kiosk's heartbeat neither waits for the attacker's lock nor believes its unseen sweep.
      await honest.query("SELECT kiosk_heartbeat($1, '1.0')", [b.id]);
      await pollUntil('the stalled session gone', async () => (await root.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid])).rowCount === 0, 20).catch(() => undefined);
      await expect(attacker.query('SELECT 1')).rejects.toThrow();
      // And the sweeps go on being recorded once it is gone.
      await root.query("UPDATE kiosk_stall_sweeps SET swept_at = '-infinity'");
      await honest.query("SELECT kiosk_heartbeat($1, '1.0')", [b.id]);
      expect((await root.query<{ recorded: boolean }>("SELECT swept_at > '-infinity' AS recorded FROM kiosk_stall_sweeps")).rows).toEqual([{ recorded: true }]);
    } finally {
      await honest.end();
      await attacker.end().catch(() => undefined);
      await root.query("UPDATE central_settings SET kiosk_stalled_after = '2 minutes'");
    }
    recordTally({ area: 'hostile', kind: ABUSE, count: 1, outcome: 'stalled inside its own heartbeat, holding the sweep record: ended by the next kiosk heartbeat' });
  });

  it('received_at is central clock at the insert, so a transaction held open cannot back-date it', async () => {
    const attacker = await connectAsKiosk(a.settings);
    try {
      await attacker.query('BEGIN');
      await attacker.query('SELECT pg_sleep(0.3)');
      const punch = randomUUID();
      await attacker.query(
        `INSERT INTO punches (id, employee_id, kiosk_id, direction, punched_at, method, match_distance)
         VALUES ($1, $2, $3, 'in', now(), 'face', 0.3)`,
        [punch, id('H-1'), a.id],
      );
      // Compared on central, to the microsecond: the transaction started 0.3 s before the insert.
      const { rows } = await attacker.query<{ later: boolean }>(
        'SELECT received_at > transaction_timestamp() AS later FROM punches WHERE id = $1',
        [punch],
      );
      await attacker.query('COMMIT');
      expect(rows).toEqual([{ later: true }]);
    } finally {
      await attacker.end();
    }
  });

  it("an enrolment it leaves open blocks none of IT's updates; erasure ends the session and runs", async () => {
    const attacker = await connectAsKiosk(a.settings);
    attacker.on('error', () => undefined);
    await attacker.query('BEGIN');
    const added = await attacker.query<{ templates_added: number }>(
      'SELECT templates_added FROM kiosk_enrol($1, $2, NULL, $3, $4::vector[])',
      [a.id, 'H-ERASE', FACE_MODEL_ID, vectors([randomDescriptor(random)])],
    );
    expect(added.rows[0]?.templates_added).toBe(1);
    try {
      // IT renames and deactivates the person meanwhile: no waiting on the kiosk's open transaction.
      const it_ = await central.connect();
      try {
        await it_.query("SET lock_timeout = '3s'");
        await it_.query("UPDATE employees SET full_name = 'Erin Erase' WHERE employee_no = 'H-ERASE'");
        await setActive(it_, 'H-ERASE', false);
        await setActive(it_, 'H-ERASE', true);
        // Erasure must wait for the enrolment in flight (or it could miss its template): after its lock wait, central
        // ends kiosk sessions stalled in a transaction and the erasure runs.
        const erased = await eraseEmployee(it_, 'H-ERASE');
        expect(erased.templatesDeleted).toBe(1); // the imported one; the open enrolment never lands
      } finally {
        await it_.end();
      }
      await expect(attacker.query('COMMIT')).rejects.toThrow();
      const { rows } = await root.query<{ n: number }>('SELECT count(*)::int AS n FROM face_templates WHERE employee_id = $1', [id('H-ERASE')]);
      expect(rows).toEqual([{ n: 0 }]);
    } finally {
      await attacker.end().catch(() => undefined);
    }
    recordTally({ area: 'hostile', kind: ABUSE, count: 1, outcome: 'open kiosk_enrol: IT updates not blocked; erasure ended it' });
  });

  it("the migrator's old advisory lock, held by a kiosk, no longer holds `db migrate` back", async () => {
    const attacker = await connectAsKiosk(a.settings);
    try {
      await attacker.query('SELECT pg_advisory_lock($1)', [0x636c6f63]);
      const migrator = await central.connect();
      try {
        expect((await migrateCentral(migrator)).applied).toEqual([]);
      } finally {
        await migrator.end();
      }
    } finally {
      await attacker.end();
    }
  });

  it(`takes at most ${KIOSK_CONNECTION_LIMIT} connections; other kiosks and IT still get theirs`, async () => {
    const held: pg.Client[] = [];
    try {
      for (let i = 0; i < KIOSK_CONNECTION_LIMIT; i++) held.push(await connectAsKiosk(a.settings));
      await expect(connectAsKiosk(a.settings)).rejects.toMatchObject({ code: '53300', message: expect.stringMatching(/too many connections for role/) });
      const other = await connectAsKiosk(b.settings);
      await other.end();
      const it_ = await central.connect();
      await it_.end();
      await expect(held[0]?.query('ALTER ROLE CURRENT_USER CONNECTION LIMIT -1')).rejects.toMatchObject({ code: '42501' });
    } finally {
      for (const c of held) await c.end();
    }
    recordTally({ area: 'hostile', kind: ABUSE, count: KIOSK_CONNECTION_LIMIT + 2, outcome: `connections capped at ${KIOSK_CONNECTION_LIMIT} per kiosk` });
  });

  it("sabotaged role defaults do not reach the real kiosk's sessions, and re-keying clears them", async () => {
    const attacker = await connectAsKiosk(a.settings);
    const sabotage: Array<[string, string]> = [
      ['default_transaction_read_only', 'on'],
      ['statement_timeout', '1ms'],
      ['lock_timeout', '1ms'],
      ['search_path', 'pg_temp'],
      ['synchronous_commit', 'off'],
      ['extra_float_digits', '-15'],
      ['DateStyle', 'SQL, DMY'],
      ['default_transaction_isolation', 'serializable'],
    ];
    try {
      for (const [name, value] of sabotage) await attacker.query(`ALTER ROLE CURRENT_USER SET ${name} = '${value}'`);
    } finally {
      await attacker.end();
    }
    // The real kiosk's next session, opened the way KioskCore opens every one.
    const kiosk = await connectCentral({ url: a.settings.url, embeddedDefault: false }, { queryTimeoutMs: KIOSK_QUERY_TIMEOUT_MS });
    try {
      const settings = (await kiosk.query<Record<string, string>>(
        `SELECT current_setting('default_transaction_read_only') AS ro, current_setting('search_path') AS sp,
                current_setting('synchronous_commit') AS sc, current_setting('extra_float_digits') AS efd,
                current_setting('DateStyle') AS ds, current_setting('transaction_isolation') AS iso,
                current_setting('statement_timeout') AS st`,
      )).rows[0];
      expect(settings).toEqual({ ro: 'off', sp: 'public', sc: 'on', efd: '1', ds: 'ISO, MDY', iso: 'read committed', st: '1min' });
      // It punches, syncs, and reads a template to the last bit.
      await kiosk.query(punchSql, [id('H-1'), a.id, 1]);
      const { rows } = await kiosk.query<{ e: string }>('SELECT embedding::text AS e FROM face_templates WHERE employee_id = $1', [id('H-2')]);
      const { rows: exact } = await root.query<{ e: string }>('SELECT embedding::text AS e FROM face_templates WHERE employee_id = $1', [id('H-2')]);
      expect(rows).toEqual(exact);
      const stamp = (await kiosk.query<{ t: Date }>('SELECT now() AS t')).rows[0]?.t;
      expect(stamp).toBeInstanceOf(Date);
      expect(Number.isNaN(stamp?.getTime())).toBe(false);
    } finally {
      await kiosk.end();
    }
    // IT re-keys the kiosk (or revokes it): the role's own defaults are reset to central's.
    await rekeyKiosk(root, central.url, a.settings.kioskName).then((fresh) => {
      a = fresh;
    });
    const { rows } = await root.query<{ config: string[] }>(
      'SELECT setconfig AS config FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole WHERE r.rolname = $1',
      [a.settings.roleName],
    );
    expect(rows.flatMap((r) => r.config).sort()).toEqual(['idle_in_transaction_session_timeout=2min', 'lock_timeout=30s', 'statement_timeout=2min']);
    recordTally({ area: 'hostile', kind: ABUSE, count: sabotage.length, outcome: "role defaults sabotaged: the kiosk's sessions set their own; re-key reset them" });
  });

  it('a punch flood stops at the per-kiosk hourly limit; the uploader keeps the rest queued, not refused', async () => {
    await root.query('UPDATE central_settings SET kiosk_punches_per_hour = 30');
    const attacker = await connectAsKiosk(a.settings);
    try {
      // Whatever this test sent earlier this hour counts too: start from what central has counted.
      const used = (await root.query<{ n: number }>("SELECT coalesce(sum(punches), 0)::int AS n FROM kiosk_usage WHERE kiosk_id = $1 AND hour = date_trunc('hour', clock_timestamp())", [a.id])).rows[0]?.n ?? 0;
      await attacker.query(punchSql, [id('H-2'), a.id, 30 - used]);
      await expect(attacker.query(punchSql, [id('H-2'), a.id, 5])).rejects.toMatchObject({ code: 'CFL01' });
      // IT is not a kiosk: bulk loads are not limited.
      await root.query(punchSql, [id('H-2'), a.id, 50]);
    } finally {
      await attacker.end();
    }
    const db: KioskDatabase = openKioskDb(join(dir, 'flood.db'));
    try {
      for (let i = 0; i < 3; i++) {
        recordPunch(db, { employeeId: id('H-3'), direction: i % 2 ? 'out' : 'in', method: 'pin', matchDistance: null, at: new Date(Date.now() - 60_000 + i * 1000) });
      }
      const uploader = new Uploader(db, { kioskId: a.id });
      expect(await uploader.drain(() => connectAsKiosk(a.settings))).toBe(0);
      // Central answered (a limit, not a lost link): still connected, and the code says why nothing went.
      expect(uploader.getStatus()).toMatchObject({ connected: true, pending: 3, refused: 0, uploadError: { code: 'CENTRAL_LIMIT_REACHED', message: expect.stringMatching(/limit/) } });
      // A heartbeat getting through afterwards does not hide why the punches wait.
      uploader.noteContact();
      expect(uploader.getStatus().uploadError).toMatchObject({ code: 'CENTRAL_LIMIT_REACHED' });
    } finally {
      db.close();
      await root.query('UPDATE central_settings SET kiosk_punches_per_hour = 20000');
    }
    recordTally({ area: 'hostile', kind: ABUSE, count: 2, outcome: 'punch flood stopped at the hourly limit; queued punches wait, none refused' });
  });

  it('audit snapshots: only JPEG, and at most the hourly limit', async () => {
    await root.query('UPDATE central_settings SET kiosk_snapshots_per_hour = 2');
    const attacker = await connectAsKiosk(a.settings);
    try {
      const own = async () => {
        const p = randomUUID();
        await attacker.query(
          `INSERT INTO punches (id, employee_id, kiosk_id, direction, punched_at, method, match_distance) VALUES ($1, $2, $3, 'in', now(), 'face', 0.3)`,
          [p, id('H-3'), a.id],
        );
        return p;
      };
      const jpeg = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(1000, 7), Buffer.from([0xff, 0xd9])]);
      await expect(attacker.query('INSERT INTO punch_snapshots (punch_id, jpeg) VALUES ($1, $2)', [await own(), Buffer.alloc(262_144, 0xab)])).rejects.toMatchObject({ code: '23514' });
      await attacker.query('INSERT INTO punch_snapshots (punch_id, jpeg) VALUES ($1, $2)', [await own(), jpeg]);
      await attacker.query('INSERT INTO punch_snapshots (punch_id, jpeg) VALUES ($1, $2)', [await own(), jpeg]);
      await expect(attacker.query('INSERT INTO punch_snapshots (punch_id, jpeg) VALUES ($1, $2)', [await own(), jpeg])).rejects.toMatchObject({ code: 'CFL01' });
    } finally {
      await attacker.end();
      await root.query('UPDATE central_settings SET kiosk_snapshots_per_hour = 1200');
    }
    recordTally({ area: 'hostile', kind: ABUSE, count: 2, outcome: 'non-JPEG snapshot refused; snapshot flood stopped at the hourly limit' });
  });

  it('enrolment from a kiosk is bounded per day, and IT sees what each kiosk enrolled', async () => {
    await root.query('UPDATE central_settings SET kiosk_enrol_templates_per_day = 3, kiosk_enrol_employees_per_day = 1');
    const attacker = await connectAsKiosk(b.settings);
    const enrol = (no: string, name: string | null, n: number) =>
      attacker.query('SELECT * FROM kiosk_enrol($1, $2, $3, $4, $5::vector[])', [b.id, no, name, FACE_MODEL_ID, vectors(Array.from({ length: n }, () => randomDescriptor(random)))]);
    try {
      expect((await enrol('NEW-1', 'New One', 2)).rows[0]).toMatchObject({ templates_added: 2 });
      await expect(enrol('NEW-2', 'New Two', 1)).rejects.toMatchObject({ code: 'CFL01', message: expect.stringMatching(/added 1 employees/) });
      await expect(enrol('H-1', null, 2)).rejects.toMatchObject({ code: 'CFL01', message: expect.stringMatching(/enrolled 2 faces/) });
      expect((await enrol('H-1', null, 1)).rows[0]).toMatchObject({ templates_added: 1 });
    } finally {
      await attacker.end();
      await root.query('UPDATE central_settings SET kiosk_enrol_templates_per_day = 100, kiosk_enrol_employees_per_day = 25');
    }
    expect((await listKiosks(root)).find((k) => k.name === 'honest-door')).toMatchObject({ facesEnrolled24h: 3, peopleEnrolled24h: 1 });
    const listed = await runCli(['kiosk', 'list'], { CLOCKFACE_DATABASE_URL: central.url });
    expect(listed.stdout).toMatch(/honest-door .*enrolled 3 face\(s\), 1 new employee\(s\) in 24 h/);
    recordTally({ area: 'hostile', kind: ABUSE, count: 4, outcome: 'kiosk enrolment bounded per day (faces, new people), shown in kiosk list' });
  });

  it("a punch central refuses (someone deactivated since) stays queued, counted, shown to IT, and goes once IT reactivates them", async () => {
    const db: KioskDatabase = openKioskDb(join(dir, 'refused.db'));
    let now = new Date();
    try {
      recordPunch(db, { employeeId: id('H-2'), direction: 'in', method: 'pin', matchDistance: null, at: new Date(now.getTime() - 5000) });
      const stale = recordPunch(db, { employeeId: id('H-OFF'), direction: 'in', method: 'pin', matchDistance: null, at: new Date(now.getTime() - 4000) });
      await setActive(root, 'H-OFF', false); // on central, before the kiosk's upload
      const uploader = new Uploader(db, { kioskId: b.id, clock: { now: () => now, monotonicNow: () => 0 } });
      expect(await uploader.drain(() => connectAsKiosk(b.settings))).toBe(1);
      expect(uploader.getStatus()).toMatchObject({ pending: 1, refused: 1 });
      const hb = await connectAsKiosk(b.settings);
      try {
        await sendHeartbeat(hb, b.id, { appVersion: '1.0', ...uploader.getStatus() }, () => new Date());
      } finally {
        await hb.end();
      }
      expect((await runCli(['kiosk', 'list'], { CLOCKFACE_DATABASE_URL: central.url })).stdout).toMatch(/honest-door .*1 punch waiting \(1 refused by central\)/);
      await setActive(root, 'H-OFF', true);
      now = new Date(now.getTime() + 6 * 60_000); // past the longest back-off
      expect(await uploader.drain(() => connectAsKiosk(b.settings))).toBe(1);
      expect(uploader.getStatus()).toMatchObject({ pending: 0, refused: 0 });
      expect((await root.query('SELECT 1 FROM punches WHERE id = $1', [stale.id])).rowCount).toBe(1);

      // Sent, committed on central, then the kiosk died before it marked it sent; meanwhile the person was deactivated.
      // Central now refuses the re-send (its rule sees the row before the conflict), yet it has the punch: delivered.
      const sent = recordPunch(db, { employeeId: id('H-OFF'), direction: 'out', method: 'pin', matchDistance: null, at: new Date(now.getTime() - 1000) });
      const k = await connectAsKiosk(b.settings);
      try {
        await k.query(
          `INSERT INTO punches (id, employee_id, kiosk_id, direction, punched_at, method) VALUES ($1, $2, $3, 'out', $4, 'pin')`,
          [sent.id, id('H-OFF'), b.id, new Date(now.getTime() - 1000)],
        );
      } finally {
        await k.end();
      }
      await setActive(root, 'H-OFF', false);
      expect(await uploader.drain(() => connectAsKiosk(b.settings))).toBe(0);
      expect(uploader.getStatus()).toMatchObject({ pending: 0, refused: 0 });
    } finally {
      db.close();
    }
  });

  it('a heartbeat central does not accept is an error with its own code, never contact', async () => {
    const kiosk = await connectAsKiosk(a.settings);
    try {
      await expect(sendHeartbeat(kiosk, b.id, { appVersion: '1.0', pending: 0, refused: 0 }, () => new Date())).rejects.toMatchObject({ code: 'KIOSK_NOT_REGISTERED' });
    } finally {
      await kiosk.end();
    }
  });

  it("names a kiosk typed or IT imported are printed without the terminal obeying what is in them", async () => {
    await root.query("INSERT INTO employees (employee_no, full_name, site) VALUES ('ESC-1', E'Eve\\033[2J\\033]0;pwned\\007\\u202Eevil', 'hq')");
    const list = await runCli(['employee', 'list', '--site', 'hq'], { CLOCKFACE_DATABASE_URL: central.url });
    expect(list.code, list.stderr).toBe(0);
    expect([...list.stdout].filter((c) => '\u001b\u0007\u202e'.includes(c))).toEqual([]);
    expect(list.stdout).toContain('Eve\\u{1b}[2J\\u{1b}]0;pwned\\u{7}\\u{202e}evil');
    const json = await runCli(['employee', 'show', 'ESC-1', '--json'], { CLOCKFACE_DATABASE_URL: central.url });
    expect([...json.stdout].filter((c) => '\u001b\u0007\u202e'.includes(c))).toEqual([]);
    expect((JSON.parse(json.stdout) as { fullName: string }).fullName).toBe('Eve\u001b[2J\u001b]0;pwned\u0007\u202eevil');
  });
});
