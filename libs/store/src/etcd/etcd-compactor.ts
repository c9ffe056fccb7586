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
  /** How often the revision-based bound is checked (default 5 s). */
  checkMs?: number;
}

/**
 * Periodic compaction. Every check it learns the current revision and compacts to the
 * later of two targets: the newest revision seen at least `intervalMs` ago (time-based)
 * and `current - keepRevisions` (revision-based), never to a revision newer than the
 * newest one seen `checkMs` ago, so a watch that just reconnected still finds its start.
 * Several nodes may run this at once; compacting to an already compacted revision is
 * rejected by etcd and ignored here.
 */
export class EtcdCompactor {
  private timer?: NodeJS.Timeout;
  /** (time, revision) seen at each check, oldest first, pruned to the interval. */
  private samples: { atMs: number; revision: number }[] = [];
  private compactedRevision = 0;
  private readonly checkMs: number;

  constructor(
    private readonly currentRevision: () => Promise<number>,
    private readonly compact: (revision: number) => Promise<void>,
    private readonly policy: EtcdCompactionPolicy,
    private readonly logger: WatchLogger,
    private readonly now: () => number = Date.now,
  ) {
    const byTime = policy.intervalMs > 0 ? policy.intervalMs : Number.POSITIVE_INFINITY;
    this.checkMs =
      policy.keepRevisions > 0 ? Math.min(policy.checkMs ?? 5_000, byTime) : policy.intervalMs;
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
      const current = await this.currentRevision();
      const target = this.target(nowMs, current);
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

  /** The revision to compact to now, or undefined for none yet. */
  private target(nowMs: number, current: number): number | undefined {
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
    return target === undefined ? undefined : Math.min(target, previous);
  }
}
