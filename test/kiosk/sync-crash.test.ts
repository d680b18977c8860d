import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromVectorSend } from '../../electron/kiosk/central/vector-bytes.js';
import { KioskCore } from '../../electron/kiosk/kiosk-core.js';
import { getMeta } from '../../electron/kiosk/store/kiosk-meta.js';
import { DATABASE_FILE } from '../../electron/kiosk/kiosk-settings.js';
import { blobToDescriptor } from '../../electron/kiosk/roster-sync.js';
import type { VectorEngineName } from '../../electron/kiosk/vector-index/index.js';
import { FACE_MODEL_ID } from '../../shared/face-model.js';
import { centralFactories, startMigrated, type TestCentral } from '../support/centrals.js';
import { syncKilledAfterContact, watchConnections, type ConnectionWatch, type KilledSync } from '../support/kill-points.js';
import { seededRandom } from '../support/roster-fixtures.js';
import { runCli } from '../support/run-cli.js';
import { sqliteEngines } from '../support/vector-engines.js';

/**
 * Crash safety of roster sync, with the real CLI in its own process killed by SIGKILL (a crash or power cut as far
 * as the process can tell) at random points of a large sync. The kiosk must afterwards hold the old roster or the
 * new one, whole, never a mixture; its vector index must agree with its template table once KioskCore.open has
 * finished the index work the killed process left queued.
 *
 * Roster A: 2,000 employees at the kiosk's site with 2 templates each (plus 200 at another site). Roster B: A
 * after four big transactions (templates removed and added, employees deactivated, renamed, given a PIN, 1,000
 * new employees with templates, employees moved away and moved in). From A a sync is incremental; from an empty
 * folder it is a first snapshot.
 *
 * Kill points: seeded, uniform over 1.1 × the usual time from the process's first connection to central until it
 * exits (a TCP relay between kiosk and central notes the connection). Measured from the spawn instead, they mostly
 * fell into the start-up (about a second of tsx and module loading, varying by hundreds of milliseconds on a busy
 * two-core machine), which is longer than the sync itself; runs then all ended the same way.
 */

const FACTORY = centralFactories().at(-1)!; // the real server when configured, else the embedded central
const ENGINES = sqliteEngines();
const RUNS = 20;
/** Every SNAPSHOT_EVERY-th run starts from a folder that never synced (first snapshot: result empty or B). */
const SNAPSHOT_EVERY = 4;
const SITE = 'hq';
const OTHER_SITE = 'plant';

/** A roster exactly as the kiosk should hold it: one line per employee and per template (vector as a hash). */
interface RosterState {
  name: 'A' | 'B' | 'empty';
  lines: Set<string>;
  digest: string;
  employees: number;
  /** template id → its vector, as the kiosk stores it (128 little-endian float32) */
  templates: Map<number, Buffer>;
}

const employeeLine = (r: { id: number; employee_no: string; full_name: string; site: string; pin_hash: string | null }): string =>
  `e ${r.id} ${r.employee_no} ${r.full_name} ${r.site} ${r.pin_hash ?? '-'}`;
const templateLine = (id: number, employeeId: number, blob: Buffer): string =>
  `t ${id} ${employeeId} ${createHash('sha256').update(blob).digest('hex')}`;

function makeState(name: RosterState['name'], lines: string[], employees: number, templates: Map<number, Buffer>): RosterState {
  const sorted = [...lines].sort();
  return {
    name,
    lines: new Set(sorted),
    digest: createHash('sha256').update(sorted.join('\n')).digest('hex'),
    employees,
    templates,
  };
}

/**
 * `perEmployee` templates with random vectors for every employee (alias e) matching `where`; $1 is the model.
 * The vector's subquery mentions the outer row, so it runs once per row: a new vector each time.
 */
function insertTemplatesSql(where: string, perEmployee: number): string {
  return `INSERT INTO face_templates (employee_id, model_id, embedding, source)
    SELECT e.id, $1, (SELECT array_agg(random() * 0.4 - 0.2) FROM generate_series(1, 128) WHERE e.id > 0 AND k > 0)::vector(128), 'import'
    FROM employees e CROSS JOIN generate_series(1, ${perEmployee}) k WHERE ${where}`;
}

const distinctVectors = (state: RosterState): number => new Set([...state.templates.values()].map((b) => b.toString('base64'))).size;

const EMPTY: RosterState = makeState('empty', [], 0, new Map());

/** What the kiosk must hold: active employees of the site it serves, and their templates of the kiosk's model. */
async function centralState(client: pg.ClientBase, name: 'A' | 'B'): Promise<RosterState> {
  const employees = await client.query<{ id: number; employee_no: string; full_name: string; site: string; pin_hash: string | null }>(
    'SELECT id::int AS id, employee_no, full_name, site, pin_hash FROM employees WHERE active AND erased_at IS NULL AND site = $1',
    [SITE],
  );
  const templates = await client.query<{ id: number; employee_id: number; embedding: Buffer }>(
    `SELECT t.id::int AS id, t.employee_id::int AS employee_id, vector_send(t.embedding) AS embedding
     FROM face_templates t JOIN employees e ON e.id = t.employee_id
     WHERE e.active AND e.erased_at IS NULL AND e.site = $1 AND t.model_id = $2`,
    [SITE, FACE_MODEL_ID],
  );
  const vectors = new Map<number, Buffer>();
  const lines = employees.rows.map(employeeLine);
  for (const t of templates.rows) {
    const blob = fromVectorSend(t.embedding);
    vectors.set(t.id, blob);
    lines.push(templateLine(t.id, t.employee_id, blob));
  }
  return makeState(name, lines, employees.rows.length, vectors);
}

/** What the kiosk holds in its roster tables. */
function kioskState(core: KioskCore): RosterState {
  const employees = core.db.prepare('SELECT id, employee_no, full_name, site, pin_hash, active FROM employees').all() as Array<{
    id: number;
    employee_no: string;
    full_name: string;
    site: string;
    pin_hash: string | null;
    active: number;
  }>;
  const templates = core.db.prepare('SELECT id, employee_id, model_id, embedding FROM templates').all() as Array<{
    id: number;
    employee_id: number;
    model_id: string;
    embedding: Buffer;
  }>;
  const lines = employees.map((e) => (e.active === 1 ? employeeLine(e) : `${employeeLine(e)} INACTIVE`));
  const vectors = new Map<number, Buffer>();
  for (const t of templates) {
    vectors.set(t.id, t.embedding);
    lines.push(t.model_id === FACE_MODEL_ID ? templateLine(t.id, t.employee_id, t.embedding) : `t ${t.id} model ${t.model_id}`);
  }
  return makeState('empty', lines, employees.length, vectors);
}

/** Which of `allowed` the kiosk holds, or a description of how it differs from each. */
function whichState(held: RosterState, allowed: RosterState[]): RosterState['name'] | string {
  const match = allowed.find((s) => s.digest === held.digest);
  if (match) return match.name;
  return allowed
    .map((s) => {
      const extra = [...held.lines].filter((l) => !s.lines.has(l));
      const missing = [...s.lines].filter((l) => !held.lines.has(l));
      return `vs ${s.name}: ${extra.length} lines extra (e.g. ${extra.slice(0, 2).join(' | ')}), ${missing.length} missing (e.g. ${missing
        .slice(0, 2)
        .join(' | ')})`;
    })
    .join('; ');
}

/** `count` ids of `ids`, always the smallest and largest, the rest drawn by `random`. */
function sample(ids: number[], count: number, random: () => number): number[] {
  if (ids.length <= count) return ids;
  const sorted = [...ids].sort((a, b) => a - b);
  const out = new Set([sorted[0]!, sorted.at(-1)!]);
  while (out.size < count) out.add(sorted[Math.floor(random() * sorted.length)]!);
  return [...out];
}

/**
 * The vector index agrees with the roster the kiosk holds: as many rows as templates; a template's own vector finds
 * that template at distance ~0; a vector of a template the other roster version has and this one does not finds
 * something else (no stale or premature row).
 */
function expectIndexMatches(core: KioskCore, held: RosterState, others: RosterState[], random: () => number): void {
  expect(core.index.count()).toBe(held.templates.size);
  for (const id of sample([...held.templates.keys()], 6, random)) {
    const hits = core.index.search(blobToDescriptor(held.templates.get(id)!), 1);
    expect(hits[0]?.templateId, `template ${id} is not found by its own vector`).toBe(id);
    expect(hits[0]!.distance).toBeLessThan(1e-3);
  }
  for (const other of others) {
    const absent = [...other.templates.keys()].filter((id) => !held.templates.has(id));
    for (const id of sample(absent, 4, random)) {
      const hit = core.index.search(blobToDescriptor(other.templates.get(id)!), 1)[0];
      if (hit === undefined) continue; // empty index
      expect(hit.templateId, `template ${id} of roster ${other.name} is in the index of roster ${held.name}`).not.toBe(id);
      expect(hit.distance).toBeGreaterThan(1e-3);
    }
  }
}

/**
 * Opens the folder as the kiosk would after the crash (which finishes the index work left queued) and returns which
 * of `allowed` rosters it holds, failing the test when it holds none of them or its index disagrees.
 */
function inspect(dir: string, engine: VectorEngineName, allowed: RosterState[], others: RosterState[], random: () => number): RosterState['name'] {
  const core = KioskCore.open(dir, { engine });
  try {
    expect(core.recovery, 'a kill must not damage the kiosk database').toBeNull();
    expect(core.index.engine).toBe(engine);
    expect(getMeta(core.db, 'index_rebuild'), 'open must finish a flagged index rebuild').toBeNull();
    expect((core.db.prepare('SELECT count(*) AS n FROM index_pending').get() as { n: number }).n, 'open must apply queued index work').toBe(0);
    const held = kioskState(core);
    const which = whichState(held, allowed);
    expect(['A', 'B', 'empty'], `the kiosk holds a roster that is none of ${allowed.map((s) => s.name).join(', ')}: ${which}`).toContain(which);
    const state = allowed.find((s) => s.name === which)!;
    expectIndexMatches(core, state, others.filter((o) => o.name !== state.name), random);
    return state.name;
  } finally {
    core.close();
  }
}

/**
 * What a killed process left for the next open to finish: queued index work, a flagged rebuild, or an index whose
 * row count disagrees with the template table. Read before KioskCore.open, on a plain connection (as the next
 * process would open it after a crash); never creates the database file.
 */
function indexWorkLeft(dir: string): string | null {
  const file = join(dir, DATABASE_FILE);
  if (!existsSync(file)) return null;
  const db = new Database(file, { fileMustExist: true });
  try {
    const has = (table: string): boolean => db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?").get(table) !== undefined;
    if (!has('index_pending')) return null;
    const pending = (db.prepare('SELECT count(*) AS n FROM index_pending').get() as { n: number }).n;
    const rebuild = db.prepare("SELECT value FROM kiosk_meta WHERE key = 'index_rebuild'").get() !== undefined;
    const templates = (db.prepare('SELECT count(*) AS n FROM templates').get() as { n: number }).n;
    const indexed = has('vector_index_meta')
      ? (db.prepare('SELECT sum(row_count) AS n FROM vector_index_meta').get() as { n: number | null }).n ?? 0
      : 0;
    const left = [
      pending > 0 ? `${pending} queued` : '',
      rebuild ? 'rebuild flagged' : '',
      indexed !== templates ? `index ${indexed} rows vs ${templates} templates` : '',
    ].filter(Boolean);
    return left.length > 0 ? left.join(', ') : null;
  } finally {
    db.close();
  }
}

describe(`roster sync killed by SIGKILL at random points, against ${FACTORY.label}`, () => {
  const root = mkdtempSync(join(tmpdir(), 'clockface-sync-crash-'));
  let central: TestCentral;
  let relay: ConnectionWatch;
  let rosterA: RosterState;
  let rosterB: RosterState;
  /** Per engine: a kiosk folder synced to A, and one set up but never synced. */
  const templateA = new Map<VectorEngineName, string>();
  const templateFresh = new Map<VectorEngineName, string>();
  let copies = 0;
  const copyOf = (from: string): string => {
    const to = join(root, `run-${copies++}`);
    cpSync(from, to, { recursive: true });
    return to;
  };

  beforeAll(async () => {
    central = await startMigrated(FACTORY);
    const admin = await central.connect();
    try {
      // Roster A, set-based.
      await admin.query(`INSERT INTO sites (code, name) VALUES ('${SITE}', 'Head office'), ('${OTHER_SITE}', 'Plant')`);
      await admin.query(
        `INSERT INTO employees (employee_no, full_name, site)
         SELECT 'A' || lpad(g::text, 4, '0'), 'Employee A' || g, '${SITE}' FROM generate_series(1, 2000) g
         UNION ALL SELECT 'P' || lpad(g::text, 4, '0'), 'Employee P' || g, '${OTHER_SITE}' FROM generate_series(1, 200) g`,
      );
      await admin.query('SELECT setseed(0.2026)');
      await admin.query(insertTemplatesSql('true', 2), [FACE_MODEL_ID]);
      rosterA = await centralState(admin, 'A');
      expect(rosterA.employees).toBe(2000);
      expect(rosterA.templates.size).toBe(4000);
      expect(distinctVectors(rosterA)).toBe(4000); // a vector per row, not one for all
    } finally {
      await admin.end();
    }

    // The kiosk, registered and set up as IT would: `kiosk add --json` → `kiosk init --settings`.
    const added = await runCli(['kiosk', 'add', 'door-1', '--site', SITE, '--json'], { CLOCKFACE_DATABASE_URL: central.url });
    expect(added.code, added.stderr).toBe(0);
    const settingsFile = join(root, 'door-1.json');
    // Through a relay that notes when the kiosk starts talking to central (see watchConnections).
    relay = await watchConnections(central.url);
    const settings = JSON.parse(added.stdout) as { url: string };
    writeFileSync(settingsFile, JSON.stringify({ ...settings, url: relay.via(settings.url) }));
    for (const engine of ENGINES) {
      const synced = join(root, `template-A-${engine}`);
      const init = await runCli(['kiosk', 'init', '--kiosk-dir', synced, '--settings', settingsFile, '--engine', engine]);
      expect(init.code, init.stderr).toBe(0);
      expect(init.stdout).toContain(`first sync: 2000 employees, 4000 templates (${engine})`);
      templateA.set(engine, synced);
      const fresh = join(root, `template-fresh-${engine}`);
      const initFresh = await runCli(['kiosk', 'init', '--kiosk-dir', fresh, '--settings', settingsFile, '--engine', engine, '--no-sync']);
      expect(initFresh.code, initFresh.stderr).toBe(0);
      templateFresh.set(engine, fresh);
    }

    // Roster B, in four big transactions.
    const client = await central.connect();
    try {
      const inRange = (from: number, to: number): string =>
        `e.employee_no BETWEEN 'A${String(from).padStart(4, '0')}' AND 'A${String(to).padStart(4, '0')}'`;
      const tx = async (body: () => Promise<unknown>): Promise<void> => {
        await client.query('BEGIN');
        await body();
        await client.query('COMMIT');
      };
      await tx(async () => {
        // One of two templates gone for 150 people, both for 50, a third one for 100.
        await client.query(
          `DELETE FROM face_templates WHERE id IN (
             SELECT min(t.id) FROM face_templates t JOIN employees e ON e.id = t.employee_id WHERE ${inRange(1, 150)}
             GROUP BY t.employee_id)`,
        );
        await client.query(`DELETE FROM face_templates t USING employees e WHERE e.id = t.employee_id AND ${inRange(151, 200)}`);
        await client.query('SELECT setseed(0.7)');
        await client.query(insertTemplatesSql(inRange(201, 300), 1), [FACE_MODEL_ID]);
      });
      await tx(async () => {
        await client.query(`UPDATE employees e SET active = false WHERE ${inRange(301, 500)}`);
        await client.query(`UPDATE employees e SET full_name = full_name || ' (renamed)' WHERE ${inRange(501, 600)}`);
        await client.query(`UPDATE employees e SET pin_hash = 'scrypt$test$' || e.id WHERE ${inRange(601, 650)}`);
      });
      await tx(async () => {
        await client.query(
          `INSERT INTO employees (employee_no, full_name, site)
           SELECT 'N' || lpad(g::text, 4, '0'), 'Employee N' || g, '${SITE}' FROM generate_series(1, 1000) g`,
        );
        await client.query('SELECT setseed(0.9)');
        await client.query(insertTemplatesSql("e.employee_no LIKE 'N%'", 2), [FACE_MODEL_ID]);
      });
      await tx(async () => {
        await client.query(`UPDATE employees e SET site = '${OTHER_SITE}' WHERE ${inRange(651, 800)}`);
        await client.query(`UPDATE employees e SET site = '${SITE}' WHERE e.employee_no BETWEEN 'P0001' AND 'P0100'`);
      });
      rosterB = await centralState(client, 'B');
    } finally {
      await client.end();
    }
    // B differs from A in every way listed above; the two share most of their rows.
    expect(rosterB.employees).toBe(2000 - 200 - 150 + 100 + 1000);
    expect(rosterB.templates.size).toBe(4000 - 150 - 100 + 100 - 400 - 300 + 200 + 2000);
    expect(distinctVectors(rosterB)).toBe(rosterB.templates.size);
    console.log(
      `[sync-crash] ${FACTORY.label}: roster A ${rosterA.employees} employees / ${rosterA.templates.size} templates; ` +
        `roster B ${rosterB.employees} / ${rosterB.templates.size}`,
    );
  }, 240_000);

  afterAll(async () => {
    await relay?.close();
    await central?.close();
    rmSync(root, { recursive: true, force: true });
  });

  describe.each(ENGINES)('on %s', (engine) => {
    const random = seededRandom(engine === 'sqlite-vss' ? 20260302 : 20260303);
    /**
     * Milliseconds from the kiosk's first connection to central to its exit, of uninterrupted incremental syncs A → B
     * and first snapshots of B: the window the kill points are spread over is their median. Runs that finish before
     * their kill add to them, so that a first estimate made while the machine was busier is corrected as we go.
     */
    const syncWork = { incremental: [] as number[], snapshot: [] as number[] };
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
    /** Kill points of incremental runs that were killed and left roster A. */
    const killsThatLeftA: number[] = [];

    const sync = (dir: string, killAfterMs: number | null): Promise<KilledSync> => syncKilledAfterContact(relay, dir, killAfterMs);

    it('the folder made by `kiosk init` holds roster A; an uninterrupted sync takes it to B, as does a first snapshot', async () => {
      expect(inspect(copyOf(templateA.get(engine)!), engine, [rosterA], [rosterB], random)).toBe('A');
      // Three runs of each: one alone (the first especially) can be far off the usual.
      const startup: number[] = [];
      const incremental: number[] = [];
      const snapshot: number[] = [];
      for (let i = 0; i < 3; i++) {
        const incrementalDir = copyOf(templateA.get(engine)!);
        const inc = await sync(incrementalDir, null);
        expect(inc.code, inc.stderr).toBe(0);
        expect(inc.stdout).toMatch(/roster: \d+ changes; /);
        incremental.push(inc.workMs!);
        startup.push(inc.startupMs!);
        expect(inspect(incrementalDir, engine, [rosterB], [rosterA], random)).toBe('B');

        const snapshotDir = copyOf(templateFresh.get(engine)!);
        const snap = await sync(snapshotDir, null);
        expect(snap.code, snap.stderr).toBe(0);
        expect(snap.stdout).toContain('roster: snapshot (first sync)');
        snapshot.push(snap.workMs!);
        startup.push(snap.startupMs!);
        expect(inspect(snapshotDir, engine, [rosterB], [rosterA], random)).toBe('B');
        rmSync(incrementalDir, { recursive: true, force: true });
        rmSync(snapshotDir, { recursive: true, force: true });
      }
      syncWork.incremental.push(...incremental);
      syncWork.snapshot.push(...snapshot);
      const ms = (xs: number[]): string => xs.map((x) => Math.round(x)).join(', ');
      console.log(
        `[sync-crash ${engine}] uninterrupted runs, ms: start-up until central is contacted ${ms(startup)}; ` +
          `then until exit: incremental A→B ${ms(incremental)}, first snapshot ${ms(snapshot)}`,
      );
    }, 120_000);

    it(`SIGKILL at ${RUNS} random points during a large sync leaves the roster the old or the new complete version`, async () => {
      const outcomes = { incremental: { old: 0, new: 0 }, snapshot: { old: 0, new: 0 } };
      let finishedBeforeKill = 0;
      let indexWorkLeftBehind = 0;
      for (let run = 0; run < RUNS; run++) {
        const snapshot = run % SNAPSHOT_EVERY === SNAPSHOT_EVERY - 1;
        const kind = snapshot ? 'snapshot' : 'incremental';
        // Spread over the whole sync after start-up, and a little past its usual end.
        const delay = Math.round(random() * median(syncWork[kind]) * 1.1);
        const dir = copyOf((snapshot ? templateFresh : templateA).get(engine)!);
        const end = await sync(dir, delay);
        const killed = end.signal === 'SIGKILL';
        if (!killed) {
          expect(end.code, end.stderr).toBe(0);
          finishedBeforeKill++;
          syncWork[kind].push(end.workMs!);
        }
        const left = indexWorkLeft(dir);
        if (left !== null) indexWorkLeftBehind++;
        const old = snapshot ? EMPTY : rosterA;
        const held = inspect(dir, engine, [old, rosterB], [rosterA, rosterB], random);
        outcomes[kind][held === 'B' ? 'new' : 'old']++;
        if (killed && held === 'A') killsThatLeftA.push(delay);
        console.log(
          `[sync-crash ${engine}] run ${String(run + 1).padStart(2)} ${kind.padEnd(11)} kill ${String(delay).padStart(4)} ms after ` +
            `contacting central (start-up ${Math.round(end.startupMs ?? -1)} ms): ` +
            `${killed ? 'killed' : `had finished (after ${Math.round(end.workMs ?? -1)} ms)`}, kiosk holds ${held === 'B' ? 'B (new)' : `${held} (old)`}` +
            (left === null ? '' : `; index work left for the next open: ${left}`),
        );
        rmSync(dir, { recursive: true, force: true });
      }
      const old = outcomes.incremental.old + outcomes.snapshot.old;
      const fresh = outcomes.incremental.new + outcomes.snapshot.new;
      console.log(
        `[sync-crash ${engine}] ${RUNS} runs: old ${old} (incremental ${outcomes.incremental.old}, snapshot ${outcomes.snapshot.old}), ` +
          `new ${fresh} (incremental ${outcomes.incremental.new}, snapshot ${outcomes.snapshot.new}); ` +
          `${finishedBeforeKill} finished before their kill; ${indexWorkLeftBehind} left index work for the next open`,
      );
      // Otherwise the kill points did not straddle the commit, and the runs proved less than they claim.
      expect(old, 'no run was killed before the sync committed').toBeGreaterThan(0);
      expect(fresh, 'no run was killed after the sync committed').toBeGreaterThan(0);
    }, 200_000);

    it('a normal sync after a killed one reaches B', async () => {
      const dir = copyOf(templateA.get(engine)!);
      // A kill point that left roster A above, so that the next sync most likely has all the work still to do.
      const killed = await sync(dir, killsThatLeftA.length > 0 ? Math.min(...killsThatLeftA) : Math.round(median(syncWork.incremental) / 4));
      // Straight to the CLI: the next sync itself must cope with whatever the killed one left.
      const again = await runCli(['kiosk', 'sync', '--kiosk-dir', dir]);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).toContain(`${rosterB.employees} employees, ${rosterB.templates.size} templates`);
      console.log(
        `[sync-crash ${engine}] ${killed.signal === 'SIGKILL' ? 'killed mid-sync' : 'the kill came too late (it had finished)'}; ` +
          `the next sync: ${again.stdout.split('\n')[0] ?? ''}`,
      );
      expect(inspect(dir, engine, [rosterB], [rosterA], random)).toBe('B');
    }, 60_000);
  });
});
