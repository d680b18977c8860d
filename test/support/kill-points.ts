import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { CLI } from './run-cli.js';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js';

/** How a `clockface` child process ended. */
export interface ChildEnd {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Wall-clock milliseconds from spawn to exit (for choosing kill points and for logs, never for assertions). */
  elapsedMs: number;
}

export interface KillableChild {
  child: ChildProcessWithoutNullStreams;
  /** Resolves when the process has exited (killed or not) and its output is closed. */
  ended: Promise<ChildEnd>;
  /** SIGKILL now, unless it already exited; true when the signal was sent to a live process. */
  kill(): boolean;
}

/** The environment a user's shell would give the CLI: this process's, minus every CLOCKFACE_* variable. */
export function cleanCliEnv(env: Record<string, string> = {}): NodeJS.ProcessEnv {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CLOCKFACE_')));
  return { ...clean, ...env };
}

/**
 * Starts `node ARGS` as its own process and hands back the child, so that a test can SIGKILL it at a moment of its
 * choosing: the way to prove what a power cut or a crash leaves behind. Past `timeoutMs` it is killed and `ended`
 * rejects, naming `label`. `onStdout` sees the output as it arrives (it is collected in `ended` either way).
 */
export function spawnKillable(
  args: string[],
  options: { label: string; env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number; onStdout?: (text: string) => void },
): KillableChild {
  const timeoutMs = options.timeoutMs ?? 120_000;
  const started = performance.now();
  const child = spawn(process.execPath, args, { env: options.env ?? cleanCliEnv(), ...(options.cwd ? { cwd: options.cwd } : {}) });
  let stdout = '';
  let stderr = '';
  let exited = false;
  child.stdout.on('data', (d: Buffer) => {
    const text = d.toString();
    stdout += text;
    options.onStdout?.(text);
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const ended = new Promise<ChildEnd>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${options.label} did not finish in ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('exit', () => (exited = true));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      exited = true;
      resolve({ code, signal, stdout, stderr, elapsedMs: performance.now() - started });
    });
  });
  return {
    child,
    ended,
    kill: () => {
      if (exited || child.exitCode !== null || child.signalCode !== null) return false;
      return child.kill('SIGKILL');
    },
  };
}

/** `clockface ARGS` (as run-cli.ts runs it) as a {@link KillableChild}. */
export function spawnCli(args: string[], env: Record<string, string> = {}, timeoutMs = 120_000): KillableChild {
  return spawnKillable([CLI, ...args], { label: `clockface ${args.join(' ')}`, env: cleanCliEnv(env), timeoutMs });
}

/**
 * A TCP relay between a kiosk and central that notes when a connection arrives: the moment a child process starts
 * talking to central, free of its start-up time (which on a busy two-core machine varies by more than the work that
 * follows it). Kill points measured from there land inside the work, not in the noise before it. It is the fault
 * proxy of tcp-proxy.ts, left passing everything through.
 */
export type ConnectionWatch = Pick<TcpProxy, 'port' | 'via' | 'nextConnection' | 'close'>;

export function watchConnections(targetUrl: string): Promise<ConnectionWatch> {
  return startTcpProxy(targetUrl);
}

/** How a run of {@link syncKilledAfterContact} went; the times are for choosing kill points and for logs only. */
export interface KilledSync extends ChildEnd {
  /** Ended by our SIGKILL (not by itself). */
  killed: boolean;
  /** Spawn to first contact with central (null: it never connected). */
  startupMs: number | null;
  /** First contact with central to exit (null: it never connected). */
  workMs: number | null;
}

/**
 * `clockface kiosk sync` on `dir` (its settings pointing at `relay`), SIGKILLed `killAfterMs` after it first connected
 * to central; never, when null. Counting from first contact keeps the kill inside the sync, not in Node's start-up.
 */
export async function syncKilledAfterContact(relay: ConnectionWatch, dir: string, killAfterMs: number | null): Promise<KilledSync> {
  const connected = relay.nextConnection();
  const child = spawnCli(['kiosk', 'sync', '--kiosk-dir', dir]);
  const spawnedAt = performance.now();
  const at = await Promise.race([connected, child.ended.then(() => null)]);
  let timer: NodeJS.Timeout | undefined;
  if (at !== null && killAfterMs !== null) timer = setTimeout(() => child.kill(), Math.max(0, killAfterMs - (performance.now() - at)));
  const end = await child.ended;
  clearTimeout(timer);
  return {
    ...end,
    killed: end.signal === 'SIGKILL',
    startupMs: at === null ? null : at - spawnedAt,
    workMs: at === null ? null : spawnedAt + end.elapsedMs - at,
  };
}
