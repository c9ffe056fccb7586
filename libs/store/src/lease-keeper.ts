import { LeaseNotFoundError } from './store.errors';
import { CoordinationStore, LeaseId } from './store.port';

const RETRY_DELAY_MS = 200;

export interface LeaseKeeperOptions {
  /** Called once when the lease is gone or must be presumed gone. Never called after stop(). */
  onLost: (reason: string) => void;
  /** Time source; tests inject a fake. */
  now?: () => number;
}

/**
 * Keeps one lease alive with keepAliveOnce every third of its TTL, on any adapter.
 *
 * The lease counts as lost as soon as the store says so, and also when no keepalive has
 * succeeded for (TTL - margin) since the last successful one was *sent*: the store may
 * already have expired it (we cannot see the store's clock), so leader work must stop
 * before that moment, not after it.
 */
export class LeaseKeeper {
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private lost = false;
  private lastRenewSentAt: number;
  private readonly now: () => number;

  private constructor(
    private readonly store: CoordinationStore,
    readonly id: LeaseId,
    readonly ttlSeconds: number,
    private readonly options: LeaseKeeperOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.lastRenewSentAt = this.now();
  }

  static async grant(
    store: CoordinationStore,
    ttlSeconds: number,
    options: LeaseKeeperOptions,
  ): Promise<LeaseKeeper> {
    const sentAt = (options.now ?? Date.now)();
    const grant = await store.grantLease(ttlSeconds);
    const keeper = new LeaseKeeper(store, grant.id, grant.ttlSeconds, options);
    keeper.lastRenewSentAt = sentAt;
    keeper.schedule();
    return keeper;
  }

  get isLost(): boolean {
    return this.lost;
  }

  /** The moment after which the lease must be presumed expired unless renewed. */
  get presumedExpiryAt(): number {
    return this.lastRenewSentAt + this.ttlSeconds * 1000 - this.safetyMarginMs;
  }

  /** Stops renewing and revokes the lease, deleting its keys at once (graceful shutdown). */
  async revoke(): Promise<void> {
    this.stop();
    await this.store.revokeLease(this.id);
  }

  /** Stops renewing; the lease expires on its own. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private get safetyMarginMs(): number {
    return Math.min(500, (this.ttlSeconds * 1000) / 4);
  }

  private schedule(retrying = false): void {
    if (this.stopped || this.lost) return;
    const interval = retrying ? RETRY_DELAY_MS : Math.max(100, (this.ttlSeconds * 1000) / 3);
    const untilPresumedExpiry = Math.max(0, this.presumedExpiryAt - this.now());
    this.timer = setTimeout(() => void this.renew(), Math.min(interval, untilPresumedExpiry));
    this.timer.unref();
  }

  private async renew(): Promise<void> {
    if (this.stopped || this.lost) return;
    if (this.now() >= this.presumedExpiryAt) {
      this.markLost(`no successful keepalive for ${this.ttlSeconds} s`);
      return;
    }
    const sentAt = this.now();
    try {
      await this.store.keepAliveOnce(this.id);
      this.lastRenewSentAt = sentAt;
      this.schedule();
    } catch (error) {
      if (error instanceof LeaseNotFoundError) {
        this.markLost('the store no longer has the lease');
        return;
      }
      // Transient (store unreachable): retry soon; presumedExpiryAt decides when to give up.
      this.schedule(true);
    }
  }

  private markLost(reason: string): void {
    if (this.stopped || this.lost) return;
    this.lost = true;
    clearTimeout(this.timer);
    this.options.onLost(`lease ${this.id} lost: ${reason}`);
  }
}
