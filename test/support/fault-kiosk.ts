import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { expect } from 'vitest';
import { registerKiosk, type RegisteredKiosk } from '../../electron/central/kiosk-registry.js';
import { KioskCore, type KioskCoreOptions } from '../../electron/kiosk/kiosk-core.js';
import type { KioskDatabase } from '../../electron/kiosk/store/kiosk-db.js';
import { initKioskDir } from '../../electron/kiosk/kiosk-init.js';
import { parseKioskSettings } from '../../electron/kiosk/kiosk-settings.js';
import { blobToDescriptor } from '../../electron/kiosk/roster-sync.js';
import type { VectorEngineName } from '../../electron/kiosk/vector-index/index.js';
import { FACE_MODEL_ID } from '../../shared/face-model.js';
import type { Expected } from './kiosk-cache.js';
import { spawnKillable, type ChildEnd } from './kill-points.js';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js';
import { addEmployee, addTemplate, randomDescriptor } from './roster-fixtures.js';
import { offsetClock } from './test-clock.js';

/** Shared by the kill, disk-full and corruption tests of test/faults: a kiosk folder, its punches, and central's. */

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const CHILD = fileURLToPath(new URL('./kiosk-child.ts', import.meta.url));

/** `count` employees of `site` with one random template each; returns employee id → descriptor. */
export async function addFaces(admin: pg.ClientBase, site: string, prefix: string, count: number, random: () => number): Promise<Map<number, number[]>> {
  const faces = new Map<number, number[]>();
  for (let i = 0; i < count; i++) {
    const id = await addEmployee(admin, `${prefix}${String(i).padStart(4, '0')}`, site);
    const descriptor = randomDescriptor(random);
    await addTemplate(admin, id, descriptor);
    faces.set(id, descriptor);
  }
  return faces;
}

interface KioskDirOptions {
  name: string;
  site: string;
  engine: VectorEngineName | 'auto';
  uploadBatchSize?: number;
  /** Rewrites the central URL the kiosk is given (a proxy's `via`); unchanged when absent. */
  via?: (url: string) => string;
}

/** Registers a kiosk as IT would and makes `dir` its folder (no sync yet). */
export async function registerKioskDir(admin: pg.ClientBase, centralUrl: string, dir: string, options: KioskDirOptions): Promise<RegisteredKiosk> {
  const kiosk = await registerKiosk(admin, centralUrl, { name: options.name, site: options.site });
  await initKioskDir(
    dir,
    parseKioskSettings(
      {
        ...kiosk.settings,
        url: options.via ? options.via(kiosk.settings.url) : kiosk.settings.url,
        kioskId: kiosk.id,
        engine: options.engine,
        // The rigs punch employees in turn a minute apart: no "Clock OUT so soon?" question in the way of the faults
        // they test (test/kiosk/presentation.test.ts tests the question).
        policy: { confirmOppositeSeconds: 0 },
        ...(options.uploadBatchSize ? { uploadBatchSize: options.uploadBatchSize } : {}),
      },
      'test settings',
    ),
  );
  return kiosk;
}

/**
 * A kiosk that reaches central only through a fault proxy (tcp-proxy.ts): registered, its folder made, opened with
 * `core` options (its clock, its timeouts) and synced once, ready for the test to break the link.
 */
export async function openKioskBehindProxy(
  admin: pg.ClientBase,
  centralUrl: string,
  dir: string,
  options: Omit<KioskDirOptions, 'via'> & { core: KioskCoreOptions },
): Promise<{ kiosk: RegisteredKiosk; proxy: TcpProxy; core: KioskCore }> {
  const proxy = await startTcpProxy(centralUrl);
  const kiosk = await registerKioskDir(admin, centralUrl, dir, { ...options, via: (url) => proxy.via(url) });
  const core = KioskCore.open(dir, options.core);
  await core.syncRoster(5_000);
  return { kiosk, proxy, core };
}

export interface PunchLine {
  id: string;
  employeeId: number;
  direction: string;
  at: string;
}

const line = (p: PunchLine): string => `${p.id} ${p.employeeId} ${p.direction} ${p.at}`;

export function localPunches(db: KioskDatabase): PunchLine[] {
  return (
    db.prepare('SELECT id, employee_id, direction, punched_at FROM punches ORDER BY id').all() as Array<{
      id: string;
      employee_id: number;
      direction: string;
      punched_at: string;
    }>
  ).map((r) => ({ id: r.id, employeeId: r.employee_id, direction: r.direction, at: r.punched_at }));
}

export function outboxIds(db: KioskDatabase): Set<string> {
  return new Set(db.prepare('SELECT punch_id FROM outbox').pluck().all() as string[]);
}

export async function centralPunches(admin: pg.ClientBase, kioskId: number): Promise<PunchLine[]> {
  const { rows } = await admin.query<{ id: string; employee_id: number; direction: string; punched_at: Date }>(
    'SELECT id::text, employee_id::int AS employee_id, direction, punched_at FROM punches WHERE kiosk_id = $1 ORDER BY id::text',
    [kioskId],
  );
  return rows.map((r) => ({ id: r.id, employeeId: r.employee_id, direction: r.direction, at: r.punched_at.toISOString() }));
}

/** Punches that share employee and time with another of `punches` (one punch stored twice under two ids). */
export function duplicates(punches: readonly PunchLine[]): number {
  return punches.length - new Set(punches.map((p) => `${p.employeeId} ${p.at}`)).size;
}

/**
 * Nothing lost, nothing doubled, between a kiosk and central at any moment: every kiosk punch is still waiting in the
 * outbox or already on central with the same content; central holds nothing the kiosk does not; every punch in
 * `confirmed` (what the screen told a person) is on the kiosk with the content shown.
 */
export async function expectNothingLost(
  admin: pg.ClientBase,
  kioskId: number,
  db: KioskDatabase,
  confirmed: ReadonlyMap<string, PunchLine>,
): Promise<{ local: number; onCentral: number; waiting: number; unconfirmedStored: number }> {
  const local = localPunches(db);
  const byId = new Map(local.map((p) => [p.id, p]));
  const waiting = outboxIds(db);
  const central = await centralPunches(admin, kioskId);
  const centralById = new Map(central.map((p) => [p.id, p]));
  const missing = [...confirmed.values()].filter((p) => byId.get(p.id) === undefined || line(byId.get(p.id)!) !== line(p));
  expect(missing.map(line), 'punches confirmed to a person are missing or different on the kiosk').toEqual([]);
  const neither = local.filter((p) => !waiting.has(p.id) && !centralById.has(p.id));
  expect(neither.map(line), 'punches neither waiting in the outbox nor on central').toEqual([]);
  const differ = central.filter((p) => byId.get(p.id) === undefined || line(byId.get(p.id)!) !== line(p));
  expect(differ.map(line), 'central punches the kiosk does not have, or has otherwise').toEqual([]);
  expect(duplicates(local), 'a punch stored twice on the kiosk').toBe(0);
  expect(duplicates(central), 'a punch stored twice on central').toBe(0);
  return {
    local: local.length,
    onCentral: central.length,
    waiting: waiting.size,
    unconfirmedStored: local.filter((p) => !confirmed.has(p.id)).length,
  };
}

/** Central holds exactly the kiosk's punches, each once, and nothing waits any more. */
export async function expectAllUploaded(admin: pg.ClientBase, kioskId: number, db: KioskDatabase, confirmed: ReadonlyMap<string, PunchLine>): Promise<number> {
  const local = localPunches(db);
  const central = await centralPunches(admin, kioskId);
  expect(outboxIds(db).size, 'punches still waiting after a normal upload').toBe(0);
  expect(central.map(line)).toEqual(local.map(line));
  expect(duplicates(central)).toBe(0);
  const centralIds = new Set(central.map((p) => p.id));
  expect([...confirmed.keys()].filter((id) => !centralIds.has(id)), 'confirmed punches missing on central').toEqual([]);
  return central.length;
}

export interface KioskChild {
  /** Lines printed so far. */
  lines: string[];
  /** Resolves when the child printed READY (true) or exited before (false). */
  ready: Promise<boolean>;
  ended: Promise<ChildEnd>;
  /** SIGKILL now, unless it already exited; true when the signal was sent to a live process. */
  kill(): boolean;
}

/** Starts test/support/kiosk-child.ts (see there) in its own process; its stdout read line by line. */
export function spawnKioskChild(args: string[], timeoutMs = 120_000): KioskChild {
  const lines: string[] = [];
  let partial = '';
  let onReady: (ok: boolean) => void = () => undefined;
  const ready = new Promise<boolean>((resolve) => (onReady = resolve));
  const killable = spawnKillable(['--import', 'tsx', CHILD, ...args], {
    label: `kiosk child ${args.join(' ')}`,
    cwd: REPO,
    timeoutMs,
    onStdout: (text) => {
      partial += text;
      const parts = partial.split('\n');
      partial = parts.pop() ?? '';
      for (const l of parts) {
        lines.push(l);
        if (l === 'READY') onReady(true);
      }
    },
  });
  // The last line may lack its newline (a child killed mid-write); READY never came if it exited first.
  const settle = (): void => {
    if (partial !== '') lines.push(partial);
    partial = '';
    onReady(false);
  };
  const ended = killable.ended.then(
    (end) => (settle(), end),
    (error: unknown) => {
      settle();
      throw error;
    },
  );
  return { lines, ready, ended, kill: killable.kill };
}

/** The CONFIRMED lines a punch child printed, by punch id. */
export function confirmedPunches(lines: readonly string[]): Map<string, PunchLine> {
  const out = new Map<string, PunchLine>();
  for (const l of lines) {
    const m = /^CONFIRMED (\S+) (\d+) (in|out) (\S+)$/.exec(l);
    if (m) out.set(m[1]!, { id: m[1]!, employeeId: Number(m[2]), direction: m[3]!, at: m[4]! });
  }
  return out;
}

export const journalDir = (dir: string): string => join(dir, 'journal');

/**
 * A server error that says the shared PostgreSQL is out of connection slots (other test files, e.g. the load test,
 * may hold most of them on a developer machine): the kiosk reported it correctly; it is not a kiosk failure.
 */
export const SERVER_FULL = /remaining connection slots|too many clients/;

/**
 * Uploads the folder's outbox the way a kiosk that keeps trying does: each attempt a fresh open, an hour later on its
 * clock than the one before (past any back-off). Returns the errors of the attempts that did not finish.
 */
export async function uploadUntilDone(dir: string, attempts = 10): Promise<string[]> {
  const errors: string[] = [];
  for (let i = 0; i < attempts; i++) {
    const core = KioskCore.open(dir, { clock: offsetClock(i * 3_600_000) });
    try {
      await core.upload();
      const status = core.uploader.getStatus();
      if (status.pending === 0) return errors;
      errors.push(status.uploadError?.message ?? `${status.pending} still waiting`);
    } finally {
      core.close();
    }
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
  throw new Error(`the outbox did not empty in ${attempts} attempts: ${errors.join(' | ')}`);
}

/** A roster sync, tried again (up to 5 times) only when the server was out of connection slots. */
export async function syncRetrying(core: KioskCore): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      await core.syncRoster(10_000);
      return;
    } catch (e) {
      if (i >= 4 || !SERVER_FULL.test((e as Error).message)) throw e;
      await new Promise((resolve) => setTimeout(resolve, 2_000));
    }
  }
}

/** A roster as a digest of its lines: employees and templates (each vector by its float32 bytes). */
function rosterDigest(lines: string[]): string {
  return createHash('sha256').update([...lines].sort().join('\n')).digest('hex');
}
const vectorHash = (v: Float32Array): string => createHash('sha256').update(Buffer.from(v.buffer, v.byteOffset, v.byteLength)).digest('hex');

/** What central says the kiosk should hold (kiosk-cache.ts expectedFor), as a digest comparable with kioskDigest. */
export function expectedDigest(expected: Expected): string {
  const lines: string[] = [];
  for (const [id, e] of expected.employees) lines.push(`e ${id} ${e.employeeNo} ${e.fullName} ${e.pinHash ?? '-'}`);
  for (const [id, t] of expected.templates) lines.push(`t ${id} ${t.employeeId} ${vectorHash(t.vector)}`);
  return rosterDigest(lines);
}

/** The roster a kiosk database holds, as a digest: equal digests, equal rosters (an inactive row or another model differs). */
export function kioskDigest(db: KioskDatabase): string {
  const lines: string[] = [];
  const employees = db.prepare('SELECT id, employee_no, full_name, pin_hash, active FROM employees').all() as Array<{
    id: number;
    employee_no: string;
    full_name: string;
    pin_hash: string | null;
    active: number;
  }>;
  for (const e of employees) lines.push(`e ${e.id} ${e.employee_no} ${e.full_name} ${e.pin_hash ?? '-'}${e.active === 1 ? '' : ' INACTIVE'}`);
  const templates = db.prepare('SELECT id, employee_id, model_id, embedding FROM templates').all() as Array<{
    id: number;
    employee_id: number;
    model_id: string;
    embedding: Buffer;
  }>;
  for (const t of templates) lines.push(`t ${t.id} ${t.employee_id} ${t.model_id === FACE_MODEL_ID ? vectorHash(blobToDescriptor(t.embedding)) : t.model_id}`);
  return rosterDigest(lines);
}
