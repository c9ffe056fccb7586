import { WatchLogger } from './etcd-watch';

/**
 * Periodic compaction with time-based retention, like etcd's `--auto-compaction-mode=periodic`:
 * at every tick compact to the revision seen one tick earlier, so at least one interval of
 * history stays available for watches that reconnect. Several nodes may run this at once;
 * compacting to an already compacted revision is rejected by etcd and ignored here.
 */
export class EtcdCompactor {
  private timer?: NodeJS.Timeout;
  private previousRevision?: number;
  private compactedRevision = 0;

  constructor(
    private readonly currentRevision: () => Promise<number>,
    private readonly compact: (revision: number) => Promise<void>,
    private readonly intervalMs: number,
    private readonly logger: WatchLogger,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** One round; public so tests can drive it without waiting for the interval. */
  async tick(): Promise<void> {
    try {
      const target = this.previousRevision;
      this.previousRevision = await this.currentRevision();
      if (target === undefined || target <= this.compactedRevision) return;
      await this.compact(target);
      this.compactedRevision = target;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (/required revision has been compacted/.test(message)) return;
      this.logger.warn(`etcd compaction failed: ${message}`);
    }
  }
}
