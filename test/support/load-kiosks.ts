import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { withFileLimit } from './file-limit.js';

/**
 * Many real kiosks in a child process, for the load tests (issue 8): each kiosk is its own folder (settings made by
 * initKioskDir, its own SQLite file and central login role), opened with KioskCore and run by KioskService with
 * its follower on, exactly as the Electron main process runs it: roster sync on NOTIFY and on the poll timer,
 * upload right after each punch. Frames go in through the service's bridge API (submitFrame), so every punch takes
 * the product's path from descriptor to outbox to central. The parent only says when to punch and whom.
 *
 * Messages travel over Node's IPC channel (stdout stays free for the kiosks' own console output).
 */

export interface KioskSpec {
  /** Kiosk folder (kiosk.json + kiosk.db). */
  dir: string;
  name: string;
  /** Employees this kiosk punches, in turn; no other kiosk punches them, so "already" can only come from itself. */
  pool: number[];
  /** Seed of the camera noise added to each frame. */
  seed: number;
}

export interface PunchMade {
  kiosk: string;
  id: string;
  employeeId: number;
  direction: 'in' | 'out';
  /** The kiosk's clock when it recorded the punch (ISO). */
  at: string;
}

export interface PunchFailed {
  kiosk: string;
  employeeId: number;
  /** What the screen would have shown instead of a punch. */
  outcome: string;
}

export interface RunReport {
  punches: PunchMade[];
  failures: PunchFailed[];
  /** Per punch: how late its first frame went in against the plan (ms); shows whether the rate was really held. */
  lateMs: number[];
}

export interface KioskState {
  name: string;
  pending: number;
  employees: number;
  templates: number;
  /** roster_watermark (xid8 as decimal text) or null before the first sync. */
  watermark: string | null;
  online: boolean;
  lastError: string | null;
}

export interface ChildStatus {
  kiosks: KioskState[];
  /** Warnings and errors the kiosks logged, by scope and message (their fields are left out). */
  warnings: Record<string, number>;
}

export interface KioskPosition {
  /** roster_watermark (xid8 as decimal text), null before the first sync. */
  watermark: string | null;
  /** When its last sync finished (ISO, the kiosk's clock). */
  lastSyncAt: string | null;
}

export type ToChild =
  | { seq: number; type: 'open'; kiosks: KioskSpec[] }
  | { seq: number; type: 'status' }
  /** Per kiosk: its roster watermark and when it last synced (its clock: this machine's), without counting rows. */
  | { seq: number; type: 'positions' }
  /** Punch on a plan: per kiosk name, offsets (ms) from `startAt` (epoch ms) at which the next employee walks up. */
  | { seq: number; type: 'run'; startAt: number; plans: Record<string, number[]> }
  /** Stop a run early: the punches of its plan not yet started are not made. */
  | { seq: number; type: 'halt' }
  | { seq: number; type: 'stop' };

export type FromChild = { seq: number; ok: true; value: unknown } | { seq: number; ok: false; error: string };

const CHILD = fileURLToPath(new URL('./load-kiosk-child.ts', import.meta.url));

type Request = ToChild extends infer T ? (T extends { seq: number } ? Omit<T, 'seq'> : never) : never;

/** One child process holding a group of kiosks. */
export class LoadKioskChild {
  private seq = 0;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private exited: Error | null = null;

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (raw) => {
      const m = raw as FromChild;
      const w = this.waiting.get(m.seq);
      if (!w) return;
      this.waiting.delete(m.seq);
      if (m.ok) w.resolve(m.value);
      else w.reject(new Error(`load kiosk child: ${m.error}`));
    });
    child.on('exit', (code, signal) => {
      this.exited = new Error(`load kiosk child exited (code ${String(code)}, signal ${String(signal)})`);
      for (const w of this.waiting.values()) w.reject(this.exited);
      this.waiting.clear();
    });
  }

  /**
   * `fileLimit`: raise the child's open-files limit first (through the shell's ulimit, up to the hard limit): hundreds
   * of kiosks in one process hold a SQLite file, its WAL and a connection each.
   */
  static start(options: { fileLimit?: number } = {}): LoadKioskChild {
    const args = ['--import', 'tsx', CHILD];
    const stdio: ['ignore', 'inherit', 'inherit', 'ipc'] = ['ignore', 'inherit', 'inherit', 'ipc'];
    const command = options.fileLimit ? withFileLimit(options.fileLimit, [process.execPath, ...args]) : [process.execPath, ...args];
    const child = spawn(command[0] ?? process.execPath, command.slice(1), { stdio });
    return new LoadKioskChild(child);
  }

  /** The child's process id (the shell that raises the file limit execs node in its place, keeping the id). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  private request(message: Request): Promise<unknown> {
    if (this.exited) return Promise.reject(this.exited);
    const seq = ++this.seq;
    return new Promise((resolve, reject) => {
      this.waiting.set(seq, { resolve, reject });
      this.child.send({ ...message, seq } satisfies ToChild);
    });
  }

  async open(kiosks: KioskSpec[]): Promise<void> {
    await this.request({ type: 'open', kiosks });
  }

  async status(): Promise<ChildStatus> {
    return (await this.request({ type: 'status' })) as ChildStatus;
  }

  async positions(): Promise<Record<string, KioskPosition>> {
    return (await this.request({ type: 'positions' })) as Record<string, KioskPosition>;
  }

  async run(startAt: number, plans: Record<string, number[]>): Promise<RunReport> {
    return (await this.request({ type: 'run', startAt, plans })) as RunReport;
  }

  async halt(): Promise<void> {
    await this.request({ type: 'halt' });
  }

  /**
   * Stops every kiosk's service (follower, pending upload) and closes its database; then the process exits. A child
   * that does not exit within `timeoutMs` is killed, so that a hung kiosk cannot hang the test run.
   */
  async stop(timeoutMs = 60_000): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    const timer = setTimeout(() => this.kill(), timeoutMs);
    try {
      await this.request({ type: 'stop' }).catch(() => undefined);
      await gone;
    } finally {
      clearTimeout(timer);
    }
  }

  /** For a test that failed half-way: no orphan kiosks keep punching into the next test's database. */
  kill(): void {
    if (!this.exited) this.child.kill('SIGKILL');
  }
}

/** The statuses of several children, merged. */
export async function statusOf(children: readonly LoadKioskChild[]): Promise<ChildStatus> {
  const all = await Promise.all(children.map((c) => c.status()));
  const warnings: Record<string, number> = {};
  for (const s of all) for (const [k, n] of Object.entries(s.warnings)) warnings[k] = (warnings[k] ?? 0) + n;
  return { kiosks: all.flatMap((s) => s.kiosks), warnings };
}

/** p-th percentile (0..100) of `values`, nearest rank; NaN for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}
