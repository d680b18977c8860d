import type { RosterListener, RosterListenerEvents } from './central/index.js';
import { createLogger } from '../../shared/logger.js';

const log = createLogger('kiosk.follower');

export interface RosterFollowerOptions {
  /**
   * One sync; errors are logged and retried at the next trigger. Resolves whether the kiosk caught up: `false`
   * means "central still holds back changes behind an open transaction", and the follower looks again after
   * `behindRetryMs`.
   */
  sync: () => Promise<boolean>;
  /** Opens a roster listener on the primary (NOTIFY is not replicated to read replicas): KioskCore.listenForRoster. */
  listen: (events: RosterListenerEvents) => Promise<RosterListener>;
  /** Poll interval: the fallback when notifications do not arrive (poolers, the embedded central); each ±25 %. */
  pollMs: number;
  /** [0, 1) for the poll's spread: Math.random unless a test fixes it. */
  random?: () => number;
  /** Wait before reconnecting a lost listener. */
  retryMs?: number;
  /** Wait before syncing again when a sync could not catch up. Default 1 s. */
  behindRetryMs?: number;
}

/**
 * Keeps the kiosk's roster following central: a sync on every `clockface_roster` notification (central sends one
 * per committing statement that touches the roster), on a timer as the fallback, and after every reconnect
 * (notifications sent while disconnected are lost). Syncs never overlap; triggers during a sync coalesce into one
 * more sync after it.
 */
export class RosterFollower {
  private running = false;
  private again = false;
  private stopped = false;
  private listener: RosterListener | null = null;
  private pollTimer: NodeJS.Timeout | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private behindTimer: NodeJS.Timeout | null = null;
  private idle: Promise<void> = Promise.resolve();
  private syncs = 0;

  constructor(private readonly options: RosterFollowerOptions) {}

  /** Syncs completed (successfully or not) since start. */
  get completed(): number {
    return this.syncs;
  }

  get listening(): boolean {
    return this.listener !== null;
  }

  start(): void {
    this.schedulePoll();
    void this.connectListener();
    this.trigger();
  }

  /**
   * The next poll, after pollMs ±25 %: kiosks started together (a site's power back, central back after an outage)
   * would otherwise poll in step, every one at the same instant (the fleet benchmark's 50 kiosks did).
   */
  private schedulePoll(): void {
    if (this.stopped) return;
    const random = this.options.random ?? Math.random;
    this.pollTimer = setTimeout(() => {
      this.trigger();
      this.schedulePoll();
    }, this.options.pollMs * (0.75 + 0.5 * random()));
    this.pollTimer.unref();
  }

  trigger(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    this.idle = this.loop();
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      try {
        if ((await this.options.sync()) === false) this.retryBehind();
      } catch (e) {
        log.warn('roster sync failed; will retry', { error: (e as Error).message });
      }
      this.syncs++;
    } while (this.again && !this.stopped);
    this.running = false;
  }

  private async connectListener(): Promise<void> {
    if (this.stopped) return;
    try {
      let current: RosterListener | null = null;
      const listener = await this.options.listen({
        notified: () => this.trigger(),
        lost: (why) => {
          if (current === null || this.listener !== current) return;
          this.listener = null;
          log.warn('roster notifications lost; polling until reconnected', { why });
          this.scheduleReconnect();
        },
      });
      current = listener;
      if (this.stopped) {
        await listener.close();
        return;
      }
      this.listener = listener;
      this.trigger(); // anything committed while not listening
    } catch (e) {
      log.info('cannot listen for roster notifications; polling', { error: (e as Error).message });
      this.scheduleReconnect();
    }
  }

  /** A notification says "something committed", but the feed may not hand it out yet: look again shortly. */
  private retryBehind(): void {
    if (this.stopped || this.behindTimer) return;
    this.behindTimer = setTimeout(() => {
      this.behindTimer = null;
      this.trigger();
    }, this.options.behindRetryMs ?? 1_000);
    this.behindTimer.unref();
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.connectListener();
    }, this.options.retryMs ?? 5_000);
    this.retryTimer.unref();
  }

  /** Stops triggering, waits for a running sync, closes the listener. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.pollTimer) clearTimeout(this.pollTimer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.behindTimer) clearTimeout(this.behindTimer);
    const listener = this.listener;
    this.listener = null;
    await listener?.close();
    await this.idle;
  }
}
