import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

/**
 * A TCP proxy between a kiosk and central that a test can break on purpose (issue 8, network faults):
 *
 * - pass-through (the default, and after `heal()`);
 * - `cut()`: every open connection is destroyed at once (both ends see a reset); with `{ refuse: true }` new
 *   connections are reset as soon as they arrive, until `heal()`: central unreachable;
 * - `stall()`: sockets stay open but no byte moves in either direction, nor a FIN: the nasty case in which
 *   nothing errors (a NAT or firewall dropping packets silently). What arrives meanwhile is held and delivered by
 *   `heal()`, in order, as TCP would once the path is back; a side that closed meanwhile is closed then too;
 * - `slow(latencyMs, bytesPerSecond?)`: each chunk is delivered `latencyMs` later, and no faster than the rate;
 * - `cutAfterBytes(n)` / `stallAfterBytes(n)`: the same, once `n` more bytes (both directions together) have been
 *   forwarded: a fault at a chosen point inside a protocol exchange (between a query and its answer, between
 *   central's commit and the kiosk hearing of it), not only between exchanges.
 *
 * It also notes when each connection arrives (`nextConnection()`), which is all watchConnections in kill-points.ts
 * uses it for.
 */
export interface TcpProxy {
  /** Port the proxy listens on (127.0.0.1). */
  readonly port: number;
  /** `url` with its host and port replaced by the proxy's (user, password and database kept). */
  via(url: string): string;
  cut(options?: { refuse?: boolean }): void;
  stall(): void;
  slow(latencyMs: number, bytesPerSecond?: number): void;
  heal(): void;
  /** Cuts once `bytes` more bytes have been forwarded; resolves when it did. */
  cutAfterBytes(bytes: number, options?: { refuse?: boolean }): Promise<void>;
  /** Stalls once `bytes` more bytes have been forwarded; resolves when it did. */
  stallAfterBytes(bytes: number): Promise<void>;
  /** Drops a pending cutAfterBytes/stallAfterBytes that has not fired (its promise never resolves). */
  disarm(): void;
  /** Resolves with performance.now() of the next connection accepted (relayed, not refused) after this call. */
  nextConnection(): Promise<number>;
  readonly mode: ProxyMode;
  readonly stats: ProxyStats;
  close(): Promise<void>;
}

export type ProxyMode = 'pass' | 'stalled' | 'refusing' | 'slow';

export interface ProxyStats {
  /** Connections accepted and relayed to central. */
  accepted: number;
  /** Connections reset on arrival while refusing. */
  refused: number;
  /** Connections destroyed by cut(). */
  cut: number;
  /** Connections open now. */
  open: number;
  /** Bytes forwarded kiosk → central and central → kiosk. */
  bytesUp: number;
  bytesDown: number;
}

/** One direction of one connection: chunks queued for delivery, in order. */
class Lane {
  private readonly queue: Array<{ chunk: Buffer | null; dueAt: number }> = [];
  private timer: NodeJS.Timeout | null = null;
  /** When the last queued chunk is due: deliveries never overtake each other. */
  private lastDue = 0;
  closed = false;

  constructor(
    private readonly to: Socket,
    private readonly proxy: ProxyState,
    private readonly onBytes: (n: number) => void,
    private readonly onFinDelivered: () => void,
  ) {}

  /** A chunk from the source (null: the source sent FIN). */
  push(chunk: Buffer | null): void {
    const now = Date.now();
    const { latencyMs, bytesPerSecond } = this.proxy.shaping();
    const transfer = chunk && bytesPerSecond ? (chunk.length / bytesPerSecond) * 1000 : 0;
    const dueAt = Math.max(now + latencyMs, this.lastDue + transfer);
    this.lastDue = dueAt;
    this.queue.push({ chunk, dueAt });
    this.pump();
  }

  pump(): void {
    if (this.timer || this.closed) return;
    while (this.queue.length > 0) {
      if (this.proxy.mode === 'stalled') return; // held until heal() pumps again
      const head = this.queue[0];
      if (!head) return;
      const wait = head.dueAt - Date.now();
      if (wait > 0) {
        this.timer = setTimeout(() => {
          this.timer = null;
          this.pump();
        }, wait);
        return;
      }
      this.queue.shift();
      if (head.chunk === null) {
        this.to.end();
        this.closed = true;
        this.onFinDelivered();
        return;
      }
      if (this.to.destroyed) return;
      this.to.write(head.chunk);
      this.onBytes(head.chunk.length);
    }
  }

  drop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.queue.length = 0;
    this.closed = true;
  }
}

interface ProxyState {
  mode: ProxyMode;
  shaping(): { latencyMs: number; bytesPerSecond: number | null };
}

interface Connection {
  incoming: Socket;
  outgoing: Socket;
  up: Lane;
  down: Lane;
  /** A side that closed (reset or destroyed) while the link was stalled: the other side closes on heal. */
  pendingDestroy: boolean;
}

export async function startTcpProxy(targetUrl: string): Promise<TcpProxy> {
  const target = new URL(targetUrl);
  const targetPort = Number(target.port || 5432);
  const targetHost = target.hostname;
  const connections = new Set<Connection>();
  const stats: ProxyStats = { accepted: 0, refused: 0, cut: 0, open: 0, bytesUp: 0, bytesDown: 0 };
  let latencyMs = 0;
  let bytesPerSecond: number | null = null;
  const state: ProxyState = {
    mode: 'pass',
    shaping: () => ({ latencyMs, bytesPerSecond }),
  };
  let trigger: { remaining: number; fire: () => void } | null = null;
  let awaitingConnection: Array<(at: number) => void> = [];

  const counted = (direction: 'up' | 'down') => (n: number): void => {
    if (direction === 'up') stats.bytesUp += n;
    else stats.bytesDown += n;
    if (trigger) {
      trigger.remaining -= n;
      if (trigger.remaining <= 0) {
        const fire = trigger.fire;
        trigger = null;
        fire();
      }
    }
  };

  /** `reset`: send RST, so the peer sees ECONNRESET at once, as when a link or a middlebox drops the flow. */
  function destroyConnection(c: Connection, reset = true): void {
    c.up.drop();
    c.down.drop();
    for (const s of [c.incoming, c.outgoing]) {
      if (s.destroyed) continue;
      if (reset && s.readyState !== 'closed' && s.readyState !== 'opening') s.resetAndDestroy();
      else s.destroy();
    }
    if (connections.delete(c)) stats.open = connections.size;
  }

  const server = createServer({ allowHalfOpen: true }, (incoming) => {
    if (state.mode === 'refusing') {
      stats.refused++;
      incoming.on('error', () => undefined);
      incoming.resetAndDestroy();
      return;
    }
    stats.accepted++;
    const at = performance.now();
    for (const resolve of awaitingConnection.splice(0)) resolve(at);
    const outgoing = connect({ port: targetPort, host: targetHost, allowHalfOpen: true });
    const c: Connection = {
      incoming,
      outgoing,
      up: new Lane(outgoing, state, counted('up'), () => finished()),
      down: new Lane(incoming, state, counted('down'), () => finished()),
      pendingDestroy: false,
    };
    // Both directions ended normally (FIN each way, delivered): nothing left to relay.
    const finished = (): void => {
      if (c.up.closed && c.down.closed) destroyConnection(c, false);
    };
    connections.add(c);
    stats.open = connections.size;
    incoming.on('data', (d: Buffer) => c.up.push(d));
    outgoing.on('data', (d: Buffer) => c.down.push(d));
    incoming.on('end', () => c.up.push(null));
    outgoing.on('end', () => c.down.push(null));
    const broken = (): void => {
      // While stalled, the other side must not learn of it (nothing moves); heal() passes it on.
      if (state.mode === 'stalled') c.pendingDestroy = true;
      else destroyConnection(c);
    };
    for (const s of [incoming, outgoing]) {
      s.on('error', broken);
      // A close without error after FINs both ways is the normal end, handled when the second FIN is delivered.
      s.on('close', (hadError) => (hadError ? broken() : undefined));
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  const proxy: TcpProxy = {
    port,
    via(url: string): string {
      const u = new URL(url);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    cut(options) {
      for (const c of [...connections]) {
        destroyConnection(c);
        stats.cut++;
      }
      state.mode = options?.refuse ? 'refusing' : 'pass';
      latencyMs = 0;
      bytesPerSecond = null;
    },
    stall() {
      state.mode = 'stalled';
    },
    slow(latency, rate) {
      state.mode = 'slow';
      latencyMs = latency;
      bytesPerSecond = rate ?? null;
    },
    heal() {
      state.mode = 'pass';
      latencyMs = 0;
      bytesPerSecond = null;
      for (const c of [...connections]) {
        c.up.pump();
        c.down.pump();
        if (c.pendingDestroy) destroyConnection(c);
      }
    },
    cutAfterBytes(bytes, options) {
      return new Promise<void>((resolve) => {
        trigger = {
          remaining: bytes,
          fire: () => {
            proxy.cut(options);
            resolve();
          },
        };
      });
    },
    stallAfterBytes(bytes) {
      return new Promise<void>((resolve) => {
        trigger = {
          remaining: bytes,
          fire: () => {
            proxy.stall();
            resolve();
          },
        };
      });
    },
    disarm() {
      trigger = null;
    },
    nextConnection: () => new Promise<number>((resolve) => awaitingConnection.push(resolve)),
    get mode() {
      return state.mode;
    },
    stats,
    async close() {
      trigger = null;
      awaitingConnection = [];
      for (const c of [...connections]) destroyConnection(c);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return proxy;
}
