import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { CLI } from './run-cli.js';

/** How a `clockface` child process ended. */
export interface ChildEnd {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Wall-clock milliseconds from spawn to exit (for choosing kill points and for logs, never for assertions). */
  elapsedMs: number;
}

export interface CliChild {
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
 * Starts `clockface ARGS` as its own process (as run-cli.ts does) but hands back the child, so that a test can
 * SIGKILL it at a moment of its choosing: the way to prove what a power cut or a crash leaves behind.
 */
export function spawnCli(args: string[], env: Record<string, string> = {}, timeoutMs = 120_000): CliChild {
  const started = performance.now();
  const child = spawn(process.execPath, [CLI, ...args], { env: cleanCliEnv(env) });
  let stdout = '';
  let stderr = '';
  let exited = false;
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const ended = new Promise<ChildEnd>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`clockface ${args.join(' ')} did not finish in ${timeoutMs} ms\n${stderr}`));
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

/**
 * A TCP relay between a kiosk and central that notes when a connection arrives: the moment a child process starts
 * talking to central, free of its start-up time (which on a busy two-core machine varies by more than the work that
 * follows it). Kill points measured from there land inside the work, not in the noise before it.
 */
export interface ConnectionWatch {
  /** Port the relay listens on (127.0.0.1). */
  port: number;
  /** `url` with its host and port replaced by the relay's. */
  via(url: string): string;
  /** Resolves with performance.now() of the next connection accepted after this call. */
  nextConnection(): Promise<number>;
  close(): Promise<void>;
}

export async function watchConnections(targetUrl: string): Promise<ConnectionWatch> {
  const target = new URL(targetUrl);
  const targetPort = Number(target.port || 5432);
  const targetHost = target.hostname;
  const sockets = new Set<Socket>();
  let waiting: Array<(at: number) => void> = [];
  const server = createServer((incoming) => {
    const at = performance.now();
    for (const resolve of waiting.splice(0)) resolve(at);
    const outgoing = connect(targetPort, targetHost);
    for (const s of [incoming, outgoing]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        incoming.destroy();
        outgoing.destroy();
      });
    }
    incoming.pipe(outgoing);
    outgoing.pipe(incoming);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    via(url: string): string {
      const u = new URL(url);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    nextConnection: () => new Promise<number>((resolve) => waiting.push(resolve)),
    async close() {
      waiting = [];
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
