import { WatchLogger } from './etcd-watch';

export interface EtcdCompactionPolicy {
  /**
   * Time-based retention, like etcd's `--auto-compaction-mode=periodic`: history newer
   * than this stays available for watches that reconnect (0: none by time).
   */
  intervalMs: number;
  /**
   * Revision-based retention: at most this many revisions of history are kept, so a high
   * write rate cannot grow the database within one interval (0: none by count).
   */
  keepRevisions: number;
  /**
   * Size-based safety net: when etcd's database in use (`dbSizeInUse`) is above this many
   * bytes, history is compacted to the revision seen one check ago, whatever the other two
   * bounds keep (0: none). Revisions are txns of any size, so only this bound follows bytes:
   * it keeps large records (outputs, params) from carrying etcd to its quota, past which
   * etcd refuses every write.
   */
  maxInUseBytes?: number;
  /** How often the revision- and size-based bounds are checked (default 5 s). */
  checkMs?: number;
}

/** Where a check reads etcd's state. */
export interface EtcdCompactionSources {
  /** The current revision. */
  revision: () => Promise<number>;
  /**
   * The database's size in use, in bytes; undefined when etcd does not say. Read only
   * when `maxInUseBytes` is set, and separately from the revision: a member status can be
   * refused (it needs the root role on some etcd versions), and that must never stop the
   * time and revision bounds.
   */
  inUseBytes?: () => Promise<number | undefined>;
}

/** At most one "over its size bound" warning per this many ms. */
const SIZE_WARN_EVERY_MS = 60_000;

/**
 * Periodic compaction. Every check it learns the current revision and compacts to the
 * latest of its targets: the newest revision seen at least `intervalMs` ago (time-based),
 * `current - keepRevisions` (revision-based), and, while the database in use is over
 * `maxInUseBytes`, the revision seen one check ago (size-based) — never to a revision newer
 * than the newest one seen `checkMs` ago, so a watch that just reconnected still finds its start.
 * Several nodes may run this at once; compacting to an already compacted revision is
 * rejected by etcd and ignored here.
 */
export class EtcdCompactor {
  private timer?: NodeJS.Timeout;
  /** (time, revision) seen at each check, oldest first, pruned to the interval. */
  private samples: { atMs: number; revision: number }[] = [];
  private compactedRevision = 0;
  private readonly checkMs: number;
  private lastSizeWarnMs = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly sources: EtcdCompactionSources,
    private readonly compact: (revision: number) => Promise<void>,
    private readonly policy: EtcdCompactionPolicy,
    private readonly logger: WatchLogger,
    private readonly now: () => number = Date.now,
  ) {
    const byTime = policy.intervalMs > 0 ? policy.intervalMs : Number.POSITIVE_INFINITY;
    const bounded = policy.keepRevisions > 0 || (policy.maxInUseBytes ?? 0) > 0;
    this.checkMs = bounded ? Math.min(policy.checkMs ?? 5_000, byTime) : policy.intervalMs;
  }

  start(): void {
    if (!(this.checkMs > 0) || !Number.isFinite(this.checkMs)) return;
    this.timer = setInterval(() => void this.tick(), this.checkMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** One check; public so tests can drive it without waiting for the interval. */
  async tick(): Promise<void> {
    try {
      const nowMs = this.now();
      const current = await this.sources.revision();
      const inUseBytes = await this.readInUseBytes(nowMs);
      const target = this.target(nowMs, current, this.overSize(nowMs, inUseBytes));
      this.samples.push({ atMs: nowMs, revision: current });
      if (target === undefined || target <= this.compactedRevision) return;
      await this.compact(target);
      this.compactedRevision = target;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (/required revision has been compacted/.test(message)) return;
      this.logger.warn(`etcd compaction failed: ${message}`);
    }
  }

  /** The size in use when the size bound is on and it can be read; a failed read is logged. */
  private async readInUseBytes(nowMs: number): Promise<number | undefined> {
    if (!((this.policy.maxInUseBytes ?? 0) > 0) || !this.sources.inUseBytes) return undefined;
    try {
      return await this.sources.inUseBytes();
    } catch (error) {
      this.warnAboutSize(
        nowMs,
        `cannot read etcd's database size for the compaction size bound ` +
          `(${error instanceof Error ? error.message : String(error)}); ` +
          'the time and revision bounds still apply',
      );
      return undefined;
    }
  }

  /** True when the database in use is over its size bound (warned about once a minute). */
  private overSize(nowMs: number, inUseBytes: number | undefined): boolean {
    const max = this.policy.maxInUseBytes ?? 0;
    if (!(max > 0) || inUseBytes === undefined || inUseBytes <= max) return false;
    const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(0);
    this.warnAboutSize(
      nowMs,
      `etcd's database in use is ${mib(inUseBytes)} MiB, over the compaction bound of ` +
        `${mib(max)} MiB: compacting its history to the revision seen ${this.checkMs} ms ago ` +
        '(if it stays over, the live keys themselves are that large: watches that fall ' +
        'further behind than that must reload)',
    );
    return true;
  }

  private warnAboutSize(nowMs: number, message: string): void {
    if (nowMs - this.lastSizeWarnMs < SIZE_WARN_EVERY_MS) return;
    this.lastSizeWarnMs = nowMs;
    this.logger.warn(message);
  }

  /** The revision to compact to now, or undefined for none yet. */
  private target(nowMs: number, current: number, overSize: boolean): number | undefined {
    // The newest revision seen at least one check ago bounds every target.
    const previous = this.samples.at(-1)?.revision;
    if (previous === undefined) return undefined;
    let target: number | undefined;
    if (this.policy.intervalMs > 0) {
      const old = this.samples.filter((s) => nowMs - s.atMs >= this.policy.intervalMs - 1);
      if (old.length > 0) {
        target = old[old.length - 1].revision;
        // Samples older than the one used now are never needed again.
        this.samples = this.samples.slice(old.length - 1);
      }
    } else {
      this.samples = this.samples.slice(-1);
    }
    if (this.policy.keepRevisions > 0 && current - this.policy.keepRevisions > 0) {
      target = Math.max(target ?? 0, current - this.policy.keepRevisions);
    }
    if (overSize) target = previous;
    return target === undefined ? undefined : Math.min(target, previous);
  }
}
