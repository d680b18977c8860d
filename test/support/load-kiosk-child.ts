/**
 * Child process of the load tests: a group of real kiosks (see load-kiosks.ts for the protocol and why).
 * Started with `node --import tsx`; talks to its parent over IPC only.
 */
import { KioskCore } from '../../electron/kiosk/kiosk-core.js';
import { getMeta } from '../../electron/kiosk/store/kiosk-meta.js';
import { KioskService } from '../../electron/kiosk/kiosk-service.js';
import { blobToDescriptor } from '../../electron/kiosk/roster-sync.js';
import type { KioskApi } from '../../shared/kiosk/contract.js';
import { FACE_MODEL_ID } from '../../shared/face-model.js';
import { setLogSink } from '../../shared/logger.js';
import { gaussian, seededRandom } from './face-like-data.js';
import type { ChildStatus, FromChild, KioskPosition, KioskSpec, KioskState, PunchFailed, PunchMade, RunReport, ToChild } from './load-kiosks.js';

/** Camera noise per dimension: a second look at the same face, far inside the match threshold. */
const FRAME_NOISE_SD = 0.002;

interface Kiosk {
  spec: KioskSpec;
  core: KioskCore;
  service: KioskService;
  api: KioskApi;
  random: () => number;
  /** Index into spec.pool of the next employee to walk up. */
  cursor: number;
}

const kiosks = new Map<string, Kiosk>();
const warnings: Record<string, number> = {};
let halted = false;

// 50 kiosks logging every failed upload would bury the test output: count them and hand the counts to the parent.
setLogSink(({ level, scope, message, fields }) => {
  if (level !== 'warn' && level !== 'error') return;
  // The error text says why (refused connection, timeout…); numbers (pids, ports, ids) would split one cause in many.
  const why = typeof fields['error'] === 'string' ? `: ${fields['error'].replace(/\d+/g, 'N').slice(0, 90)}` : '';
  const key = `${level} [${scope}] ${message}${why}`;
  warnings[key] = (warnings[key] ?? 0) + 1;
});

function reply(message: FromChild): void {
  process.send?.(message);
}

function open(specs: KioskSpec[]): void {
  for (const spec of specs) {
    const core = KioskCore.open(spec.dir);
    const service = new KioskService(core, { follow: true });
    service.start();
    kiosks.set(spec.name, { spec, core, service, api: service.api(), random: seededRandom(spec.seed), cursor: 0 });
  }
}

function state(k: Kiosk): KioskState {
  const s = k.core.status();
  return {
    name: k.spec.name,
    pending: s.pendingPunches,
    employees: s.employees,
    templates: s.templates,
    watermark: getMeta(k.core.db, 'roster_watermark'),
    online: s.upload.connected,
    lastError: s.upload.uploadError?.message ?? null,
  };
}

/** The face the camera sees: one of the employee's templates as the kiosk's cache holds it, plus a little noise. */
function frameOf(k: Kiosk, employeeId: number): number[] {
  const row = k.core.db.prepare('SELECT embedding FROM templates WHERE employee_id = ? ORDER BY id LIMIT 1').get(employeeId) as
    | { embedding: Buffer }
    | undefined;
  if (!row) throw new Error(`${k.spec.name}: employee ${employeeId} has no template in the cache`);
  return Array.from(blobToDescriptor(row.embedding), (v) => v + FRAME_NOISE_SD * gaussian(k.random));
}

/** One employee walks up: the screen sends frames until the policy decides (two agreeing frames by default). */
async function punchOnce(k: Kiosk, made: PunchMade[], failed: PunchFailed[]): Promise<void> {
  const employeeId = k.spec.pool[k.cursor % k.spec.pool.length] ?? 0;
  k.cursor++;
  await k.api.resetFrames({});
  let last = '';
  for (let frame = 0; frame < 3; frame++) {
    const r = await k.api.submitFrame({ modelId: FACE_MODEL_ID, descriptor: frameOf(k, employeeId), issues: [], yaw: null });
    if (!r.ok) {
      last = `${r.error.code}: ${r.error.message}`;
      break;
    }
    const v = r.value;
    if (v.kind === 'pending') continue;
    if (v.kind === 'punched') {
      made.push({ kiosk: k.spec.name, id: v.punchId, employeeId, direction: v.direction, at: v.at });
      return;
    }
    last = JSON.stringify(v);
    break;
  }
  failed.push({ kiosk: k.spec.name, employeeId, outcome: last || 'still pending after 3 frames' });
}

async function run(startAt: number, plans: Record<string, number[]>): Promise<RunReport> {
  halted = false;
  const made: PunchMade[] = [];
  const failed: PunchFailed[] = [];
  const lateMs: number[] = [];
  await Promise.all(
    Object.entries(plans).map(async ([name, offsets]) => {
      const k = kiosks.get(name);
      if (!k) throw new Error(`no kiosk ${name} in this process`);
      for (const offset of offsets) {
        const due = startAt + offset;
        const wait = due - Date.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        if (halted) return;
        lateMs.push(Date.now() - due);
        await punchOnce(k, made, failed);
      }
    }),
  );
  return { punches: made, failures: failed, lateMs };
}

async function stop(): Promise<void> {
  for (const k of kiosks.values()) {
    await k.service.stop();
    k.core.close();
  }
  kiosks.clear();
}

async function handle(m: ToChild): Promise<unknown> {
  switch (m.type) {
    case 'open':
      open(m.kiosks);
      return null;
    case 'status':
      return { kiosks: [...kiosks.values()].map(state), warnings: { ...warnings } } satisfies ChildStatus;
    case 'positions':
      return Object.fromEntries(
        [...kiosks.values()].map((k) => [k.spec.name, { watermark: getMeta(k.core.db, 'roster_watermark'), lastSyncAt: getMeta(k.core.db, 'last_sync_at') } satisfies KioskPosition]),
      );
    case 'run':
      return run(m.startAt, m.plans);
    case 'halt':
      halted = true;
      return null;
    case 'stop':
      await stop();
      return null;
  }
}

process.on('message', (raw) => {
  const m = raw as ToChild;
  handle(m).then(
    (value) => {
      reply({ seq: m.seq, ok: true, value });
      if (m.type === 'stop') process.disconnect();
    },
    (e: unknown) => reply({ seq: m.seq, ok: false, error: e instanceof Error ? (e.stack ?? e.message) : String(e) }),
  );
});
// The parent went away (a crashed test run): no orphan kiosks left punching.
process.on('disconnect', () => {
  void stop().finally(() => process.exit(0));
});
