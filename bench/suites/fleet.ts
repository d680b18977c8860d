import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError } from 'commander';
import pg from 'pg';
import { registerKiosk } from '../../electron/central/kiosk-registry.js';
import { toVectorLiteral } from '../../electron/central/vector-literal.js';
import { initKioskDir } from '../../electron/kiosk/kiosk-init.js';
import { parseKioskSettings } from '../../electron/kiosk/kiosk-settings.js';
import { FACE_MODEL_ID } from '../../shared/face-model.js';
import { faceLikeSet } from '../../test/support/face-like-data.js';
import { holdsWithin } from '../../test/support/waiting.js';
import { LoadKioskChild, percentile, statusOf, type KioskPosition, type KioskSpec, type PunchMade } from '../../test/support/load-kiosks.js';
import { createCentralDatabase, pgClusterPart, startCluster, type PgCluster } from '../../test/support/pg-cluster.js';
import { pgbouncerPart, startPgBouncer, type PgBouncer } from '../../test/support/pgbouncer.js';
import type { BenchResult } from '../report.js';
import type { BenchSuite } from '../run.js';
import { requirePart } from '../support/missing-parts.js';
import { measureCpu, type CpuShares } from '../support/process-cpu.js';

/**
 * A fleet of kiosks on one central through PgBouncer in transaction mode (issue 19): N real kiosks (KioskCore and
 * KioskService, each with its own login, SQLite file, roster follower watching the roster head, outbox uploader and
 * heartbeat; frames go in as descriptors, so no face engine runs) in two child processes, against a private
 * PostgreSQL 15 cluster behind PgBouncer set up from resources/pgbouncer/. Phases: the idle fleet, steady punching, a
 * shift-change burst, then 1,000 roster changes (100 transactions of 10, one site each). Reported: server
 * connections (peak of client backends, sampled every 500 ms), punch → central (central's received_at minus the
 * kiosk's punch time, one clock: this machine's), commit → every kiosk of the site (the kiosk's last sync time when
 * its watermark was first seen past the transaction), the machine's CPU busy share and the shares of PostgreSQL,
 * PgBouncer and the simulated kiosks (bench/support/process-cpu.ts), punches lost and duplicated.
 * Quick: 50 kiosks; --full: 200, 500 and 1,000. Goals at 1,000: ≤ 100 server connections, punch p95 ≤ 1 s, roster
 * p95 ≤ 5 s, 0 lost, 0 duplicated.
 */

/** `--kiosks 200,500` → fleet sizes, each a whole number of kiosks from 1 to 5,000. */
export function parseFleetSizes(text: string): number[] {
  const sizes = text.split(',').map((s) => Number(s.trim()));
  if (sizes.length === 0 || sizes.some((n) => !Number.isInteger(n) || n < 1 || n > 5_000)) {
    throw new InvalidArgumentError(`"${text}" is not a list of fleet sizes (whole numbers of kiosks, 1 to 5,000)`);
  }
  return sizes;
}

const KIOSKS_PER_SITE = 10;
/** Each kiosk punches its own ten people in turn, so nobody comes round within the debounce. */
const POOL = 10;
const EMPLOYEES_PER_SITE = KIOSKS_PER_SITE * POOL;
const CHILDREN = 2;
const ROSTER_TRANSACTIONS = 100;
const CHANGES_PER_TRANSACTION = 10;

interface Profile {
  steadySeconds: number;
  /** One punch per kiosk every this many seconds while steady. */
  steadyEverySeconds: number;
  burstPerKiosk: number;
  burstWindowMs: number;
  rosterGapMs: number;
}

const PROFILE: Profile = { steadySeconds: 60, steadyEverySeconds: 20, burstPerKiosk: 5, burstWindowMs: 20_000, rosterGapMs: 300 };

/**
 * How long a phase may take before the bench gives up: `base` at 200 kiosks or fewer, growing with the fleet beyond
 * that. A fleet past what the machine serves is still measured (its p95s say how far past), not abandoned.
 */
function patienceMs(base: number, kiosks: number): number {
  return base * Math.max(1, kiosks / 200);
}

/** Samples the server's client backends every 500 ms; peak() since the last reset. */
class ConnectionWatch {
  private timer: NodeJS.Timeout | null = null;
  private peakCount = 0;
  private constructor(private readonly client: pg.Client) {}

  static async start(url: string): Promise<ConnectionWatch> {
    const client = new pg.Client({ connectionString: url, application_name: 'clockface-fleet-watch' });
    await client.connect();
    const watch = new ConnectionWatch(client);
    watch.timer = setInterval(() => {
      client
        .query<{ n: number }>(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE backend_type = 'client backend' AND application_name NOT LIKE 'clockface-fleet-%'",
        )
        .then((r) => (watch.peakCount = Math.max(watch.peakCount, r.rows[0]?.n ?? 0)))
        .catch(() => undefined);
    }, 500);
    return watch;
  }

  reset(): void {
    this.peakCount = 0;
  }

  peak(): number {
    return this.peakCount;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.client.end().catch(() => undefined);
  }
}

/**
 * Where central's time went, printed (not a result row: the figures are wall time inside a CPU-bound server): the
 * statements that took the most of it, over every kiosk login (nested ones counted inside their callers too), and
 * how many server sessions were opened. PgBouncer closes a kiosk login's server session a second after its last
 * transaction, so nearly every kiosk transaction starts a new one, whose first statements plan on cold caches.
 */
async function printCentralTime(admin: pg.Client, n: number): Promise<void> {
  try {
    await admin.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    const { rows } = await admin.query<{ calls: number; ms: number; per: string; q: string }>(
      `SELECT sum(calls)::int AS calls, round(sum(total_exec_time)::numeric)::int AS ms,
              round((sum(total_exec_time) / sum(calls))::numeric, 2)::text AS per,
              left(regexp_replace(query, '\\s+', ' ', 'g'), 110) AS q
       FROM pg_stat_statements WHERE query NOT LIKE '%pg_stat_statements%' GROUP BY query ORDER BY 2 DESC LIMIT 12`,
    );
    const { rows: db } = await admin.query<{ sessions: string; xacts: string }>(
      'SELECT sessions::text, (xact_commit + xact_rollback)::text AS xacts FROM pg_stat_database WHERE datname = current_database()',
    );
    // An entry evicted for room takes its calls with it: say so rather than print a total that looks whole.
    const { rows: info } = await admin.query<{ dealloc: string }>('SELECT dealloc::text FROM pg_stat_statements_info');
    const evicted = Number(info[0]?.dealloc ?? 0) > 0 ? ` (entries evicted ${info[0]?.dealloc ?? '?'} times: undercounted)` : '';
    console.log(`[fleet ${n}] central: ${db[0]?.sessions ?? '?'} server sessions opened, ${db[0]?.xacts ?? '?'} transactions; statements by total time${evicted}:`);
    for (const r of rows) console.log(`[fleet ${n}]   ${String(r.ms).padStart(8)} ms  ${String(r.calls).padStart(7)} calls  ${r.per.padStart(8)} ms/call  ${r.q}`);
  } catch (e) {
    console.log(`[fleet ${n}] central's statement times not available: ${e instanceof Error ? e.message : String(e)}`);
  }
}

async function runFleet(n: number, profile: Profile): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  const kase = `${n} kiosks through PgBouncer (transaction mode)`;
  const row = (metric: string, value: number, unit: string): void => {
    results.push({ suite: 'fleet', case: kase, metric, value, unit });
    console.log(`[fleet ${n}] ${metric}: ${Number.isInteger(value) ? value : value.toFixed(2)} ${unit}`);
  };
  const sites = Math.ceil(n / KIOSKS_PER_SITE);
  const root = mkdtempSync(join(tmpdir(), 'clockface-fleet-'));
  let cluster: PgCluster | null = null;
  let pooler: PgBouncer | null = null;
  let watch: ConnectionWatch | null = null;
  const children: LoadKioskChild[] = [];
  let admin: pg.Client | null = null;
  try {
    // pg_stat_statements (PostgreSQL's contrib, in Debian's server package): where central's time went (printCentralTime).
    // It keeps an entry per statement per login, and every kiosk is a login: room for 40 statements each.
    const statements = { shared_preload_libraries: 'pg_stat_statements', 'pg_stat_statements.track': 'all', 'pg_stat_statements.max': Math.max(10_000, 40 * n) };
    cluster = await startCluster({ name: 'fleet', conf: { max_connections: 200, shared_buffers: '256MB', fsync: true, ...statements } });
    const centralUrl = await createCentralDatabase(cluster);
    admin = new pg.Client({ connectionString: centralUrl, application_name: 'clockface-fleet-admin' });
    await admin.connect();
    const faces = faceLikeSet({ people: sites * EMPLOYEES_PER_SITE, samplesPerPerson: 1, seed: 19_019 });
    pooler = await startPgBouncer(centralUrl, { maxDbConnections: 80, fileLimit: 16_384 });
    const kiosks: Array<{ id: number; site: string; spec: KioskSpec }> = [];
    const setupStarted = performance.now();
    for (let s = 0; s < sites; s++) {
      const site = `fleet-${s}`;
      await admin.query("INSERT INTO sites (code, name, time_zone) VALUES ($1, $1, 'UTC')", [site]);
      const nos = Array.from({ length: EMPLOYEES_PER_SITE }, (_, i) => `F${s}-${String(i).padStart(3, '0')}`);
      const { rows } = await admin.query<{ id: number; employee_no: string }>(
        `INSERT INTO employees (employee_no, full_name, site) SELECT no, 'Fleet ' || no, $2 FROM unnest($1::text[]) AS no RETURNING id::int AS id, employee_no`,
        [nos, site],
      );
      const idOf = new Map(rows.map((r) => [r.employee_no, r.id]));
      const ids = nos.map((no) => idOf.get(no) ?? 0);
      const vectors = ids.map((_, i) => toVectorLiteral(Array.from(faces.rows[s * EMPLOYEES_PER_SITE + i]?.descriptor ?? [])));
      await admin.query(
        `INSERT INTO face_templates (employee_id, model_id, embedding, source) SELECT e, $2, v::vector, 'import' FROM unnest($1::bigint[], $3::text[]) AS u (e, v)`,
        [ids, FACE_MODEL_ID, vectors],
      );
      for (let j = 0; j < KIOSKS_PER_SITE && kiosks.length < n; j++) {
        const name = `fleet-s${s}-k${j}`;
        // As `clockface kiosk add NAME --site SITE --pooler-url postgres://127.0.0.1:PORT/` registers it.
        const registered = await registerKiosk(admin, centralUrl, { name, site }, { poolerUrl: `postgres://127.0.0.1:${pooler.port}/` });
        const dir = join(root, name);
        const settings = parseKioskSettings(
          { ...registered.settings, kioskId: registered.id, engine: 'sqlite-vec', policy: { confirmOppositeSeconds: 0, debounceSeconds: 5 } },
          'fleet bench',
        );
        await initKioskDir(dir, settings);
        kiosks.push({ id: registered.id, site, spec: { dir, name, pool: ids.slice(j * POOL, (j + 1) * POOL), seed: 19_000 + kiosks.length } });
      }
    }
    await admin.query('ANALYZE');
    for (let c = 0; c < CHILDREN; c++) children.push(LoadKioskChild.start({ fileLimit: 16_384 }));
    const childOf = new Map<string, LoadKioskChild>();
    const started = performance.now();
    await Promise.all(
      children.map((child, c) => {
        const mine = kiosks.filter((_, i) => i % CHILDREN === c);
        for (const k of mine) childOf.set(k.spec.name, child);
        return child.open(mine.map((k) => k.spec));
      }),
    );
    const withoutRoster = async (): Promise<number> => {
      const s = await statusOf(children);
      return n - s.kiosks.filter((k) => k.templates === EMPLOYEES_PER_SITE).length;
    };
    // Until every kiosk holds its roster, or the patience runs out, or 99 % do and none got there for 3 minutes: on a
    // central past its capacity the last few wait on PgBouncer's queue for many minutes each (above).
    let lastCount = n;
    let lastProgress = performance.now();
    const allSynced = await holdsWithin(async () => {
      const left = await withoutRoster();
      if (left < lastCount) [lastCount, lastProgress] = [left, performance.now()];
      return left === 0 || (left <= n / 100 && performance.now() - lastProgress > 180_000);
    }, patienceMs(600_000, n), 500) && lastCount === 0;
    row('set-up (roster, kiosk logins and folders)', (started - setupStarted) / 1000, 's');
    if (allSynced) row("every kiosk's first sync", (performance.now() - started) / 1000, 's');
    else {
      row('first sync: time waited', (performance.now() - started) / 1000, 's');
      row('first sync: kiosks still without their roster', await withoutRoster(), 'kiosks');
    }
    watch = await ConnectionWatch.start(centralUrl);

    // 1. The idle fleet: followers watching, heartbeats, nothing else. The first syncs' tail (uploads of the first
    // heartbeats, last roster pages) settles for 15 s before the 15 s that are measured.
    await new Promise((resolve) => setTimeout(resolve, 15_000));
    watch.reset();
    await new Promise((resolve) => setTimeout(resolve, 15_000));
    row('server connections, idle fleet (peak over 15 s)', watch.peak(), 'connections');
    const clients = (await pooler.show('CLIENTS')).filter((c) => c['database'] !== 'pgbouncer').length;
    row('client connections to PgBouncer, idle fleet', clients, 'connections');

    // Where the CPU went: central, the pooler, the simulated kiosks (on a real site they are other machines).
    const cpuParts = (): Record<string, Array<number | null | undefined>> => ({
      postgres: [cluster?.postmasterPid()],
      pgbouncer: [pooler?.pid()],
      kiosks: children.map((ch) => ch.pid),
    });
    const cpuRows = (what: string, shares: CpuShares): void => {
      row(`${what}: machine CPU busy`, shares.busy, '%');
      row(`${what}: CPU of PostgreSQL (share of the machine)`, shares.parts['postgres'] ?? 0, '%');
      row(`${what}: CPU of PgBouncer (share of the machine)`, shares.parts['pgbouncer'] ?? 0, '%');
      row(`${what}: CPU of the simulated kiosks (share of the machine)`, shares.parts['kiosks'] ?? 0, '%');
    };
    const made: PunchMade[] = [];
    /** Punches in every kiosk's outbox. A fleet past central's capacity can be minutes behind (pgbouncer/pgbouncer#131). */
    const pendingNow = async (): Promise<number> => (await statusOf(children)).kiosks.reduce((sum, k) => sum + k.pending, 0);
    const phase = async (what: string, plans: Map<string, number[]>): Promise<void> => {
      watch?.reset();
      const cpu = measureCpu(cpuParts);
      const startAt = Date.now() + 1_000;
      const reports = await Promise.all(
        children.map((child) => child.run(startAt, Object.fromEntries([...plans].filter(([name]) => childOf.get(name) === child)))),
      );
      const punches = reports.flatMap((r) => r.punches);
      const failures = reports.flatMap((r) => r.failures);
      const drained = await holdsWithin(async () => (await pendingNow()) === 0, patienceMs(300_000, n), 500);
      const shares = cpu();
      // Those still waiting are not in this phase's latencies (its p95 is then a floor); the count below waits for them.
      if (!drained) row(`${what}: punches still in kiosk outboxes after ${patienceMs(300_000, n) / 60_000} minutes`, await pendingNow(), 'punches');
      made.push(...punches);
      const { rows } = await (admin as pg.Client).query<{ ms: number }>(
        'SELECT extract(epoch FROM received_at - punched_at) * 1000 AS ms FROM punches WHERE id = ANY($1::uuid[])',
        [punches.map((p) => p.id)],
      );
      const ms = rows.map((r) => Number(r.ms));
      row(`${what}: punches made`, punches.length, 'punches');
      if (failures.length > 0) row(`${what}: frames that made no punch`, failures.length, 'punches');
      row(`${what}: punch → central p50`, percentile(ms, 50), 'ms');
      row(`${what}: punch → central p95`, percentile(ms, 95), 'ms');
      row(`${what}: server connections (peak)`, watch?.peak() ?? 0, 'connections');
      cpuRows(what, shares);
    };

    // 2. Steady punching: each kiosk once every steadyEverySeconds, at its own phase.
    const steady = new Map<string, number[]>();
    for (const [i, k] of kiosks.entries()) {
      const offsets: number[] = [];
      const phaseMs = ((i * 7_919) % (profile.steadyEverySeconds * 1000));
      for (let t = phaseMs; t < profile.steadySeconds * 1000; t += profile.steadyEverySeconds * 1000) offsets.push(t);
      steady.set(k.spec.name, offsets);
    }
    await phase('steady', steady);

    // 3. The shift change: burstPerKiosk punches per kiosk within burstWindowMs, spread evenly.
    const burst = new Map<string, number[]>();
    for (const [i, k] of kiosks.entries()) {
      const step = profile.burstWindowMs / profile.burstPerKiosk;
      burst.set(k.spec.name, Array.from({ length: profile.burstPerKiosk }, (_, b) => Math.floor(b * step + ((i * 613) % step))));
    }
    await phase('shift-change burst', burst);

    // Every punch on central exactly once: a punch still in an outbox is given as long again to arrive before it counts
    // as lost.
    await holdsWithin(async () => (await pendingNow()) === 0, patienceMs(300_000, n), 500);
    const ids = made.map((p) => p.id);
    const { rows: counted } = await admin.query<{ n: number; ids: number; punches: number }>(
      `SELECT count(*)::int AS n, count(DISTINCT id)::int AS ids, count(DISTINCT (employee_id, punched_at))::int AS punches
       FROM punches WHERE id = ANY($1::uuid[])`,
      [ids],
    );
    const c = counted[0] ?? { n: 0, ids: 0, punches: 0 };
    const { rows: all } = await admin.query<{ n: number }>('SELECT count(*)::int AS n FROM punches');
    row('punches lost', made.length - c.ids, 'punches');
    row('punches duplicated', c.n - c.ids + (c.ids - c.punches) + ((all[0]?.n ?? 0) - c.n), 'punches');

    // 4. 1,000 roster changes: 100 transactions of 10 renamed people, one site each, one every rosterGapMs.
    watch.reset();
    const rosterCpu = measureCpu(cpuParts);
    const commits: Array<{ txid: bigint; site: string; at: number }> = [];
    const kiosksOf = new Map<string, string[]>();
    for (const k of kiosks) kiosksOf.set(k.site, [...(kiosksOf.get(k.site) ?? []), k.spec.name]);
    // `${commit index} ${kiosk}` → ms from the commit to the end of the kiosk's first sync that holds it. Looked at
    // every 200 ms while the changes are made, so that a later sync does not stand in for the first.
    const arrived = new Map<string, number>();
    /** One arrival per commit per kiosk of its site. */
    const expectedArrivals = (): number => commits.reduce((sum, commit) => sum + (kiosksOf.get(commit.site)?.length ?? 0), 0);
    const look = async (): Promise<boolean> => {
      const positions = Object.assign({}, ...(await Promise.all(children.map((ch) => ch.positions())))) as Record<string, KioskPosition>;
      for (const [i, commit] of commits.entries()) {
        for (const name of kiosksOf.get(commit.site) ?? []) {
          const key = `${i} ${name}`;
          const p = positions[name];
          if (arrived.has(key) || !p?.watermark || !p.lastSyncAt || BigInt(p.watermark) <= commit.txid) continue;
          arrived.set(key, Math.max(0, Date.parse(p.lastSyncAt) - commit.at));
        }
      }
      return commits.length === ROSTER_TRANSACTIONS && arrived.size === expectedArrivals();
    };
    let committing = true;
    /** Whether every kiosk of each change's site held it within the patience after the last commit. */
    const looking = (async (): Promise<boolean> => {
      let deadline = Infinity;
      while (!(await look())) {
        if (!committing && deadline === Infinity) deadline = Date.now() + patienceMs(300_000, n);
        if (Date.now() > deadline) return false;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      return true;
    })();
    looking.catch(() => undefined); // awaited below; a failure while changes are still being made waits for that
    try {
      for (let t = 0; t < ROSTER_TRANSACTIONS; t++) {
        const site = `fleet-${t % sites}`;
        await admin.query('BEGIN');
        const { rows } = await admin.query<{ x: string }>('SELECT pg_current_xact_id()::text AS x');
        await admin.query(
          `UPDATE employees SET full_name = full_name || '.' WHERE id IN (SELECT id FROM employees WHERE site = $1 ORDER BY id LIMIT $2)`,
          [site, CHANGES_PER_TRANSACTION],
        );
        await admin.query('COMMIT');
        commits.push({ txid: BigInt(rows[0]?.x ?? '0'), site, at: Date.now() });
        await new Promise((resolve) => setTimeout(resolve, profile.rosterGapMs));
      }
    } finally {
      committing = false;
    }
    const reachedAll = await looking;
    const rosterShares = rosterCpu();
    const lags = [...arrived.values()];
    row('roster changes committed', ROSTER_TRANSACTIONS * CHANGES_PER_TRANSACTION, 'changes');
    if (!reachedAll) {
      // The p95 below is of the arrivals only, so a floor.
      row(`roster changes (commit, kiosk) not arrived ${patienceMs(300_000, n) / 60_000} minutes after the last commit`, expectedArrivals() - arrived.size, 'arrivals');
    }
    row('roster commit → every kiosk of the site p50', percentile(lags, 50), 'ms');
    row('roster commit → every kiosk of the site p95', percentile(lags, 95), 'ms');
    row('roster changes: server connections (peak)', watch.peak(), 'connections');
    cpuRows('roster changes', rosterShares);
    await printCentralTime(admin, n);
    const warnings = (await statusOf(children)).warnings;
    const warned = Object.values(warnings).reduce((a, b) => a + b, 0);
    if (warned > 0) console.log(`[fleet ${n}] kiosk warnings: ${JSON.stringify(warnings)}`);
    row('kiosk warnings logged', warned, 'lines');
    return results;
  } finally {
    await watch?.stop();
    await Promise.all(children.map((ch) => ch.stop().catch(() => ch.kill())));
    await admin?.end().catch(() => undefined);
    await pooler?.stop().catch(() => undefined);
    await cluster?.destroy();
    rmSync(root, { recursive: true, force: true });
  }
}

export const fleetSuite: BenchSuite = {
  name: 'fleet',
  description:
    'N real kiosks (no face engine) through PgBouncer in transaction mode on a private PostgreSQL 15: server connections, punch → central, roster commit → every kiosk, CPU, lost and duplicated',
  async run({ full, fleetSizes, checkpoint }) {
    if (!requirePart('fleet', pgClusterPart(), 'the kiosk fleet') || !requirePart('fleet', pgbouncerPart(), 'the kiosk fleet')) return [];
    const results: BenchResult[] = [];
    const sizes = fleetSizes ?? (full ? [200, 500, 1000] : [50]);
    for (const [i, n] of sizes.entries()) {
      results.push(...(await runFleet(n, PROFILE)));
      if (i < sizes.length - 1) checkpoint(results);
    }
    return results;
  },
};
