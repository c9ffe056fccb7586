import { HistoryRetention } from './history.port';

/** What retention needs to know of one stored history record, without reading it again. */
export interface IndexedRecord {
  jobId: string;
  /** Bytes of the stored value. */
  bytes: number;
  /** Finish time (epoch ms); the key time when the record has none. */
  finishedMs: number;
  /** Mod revision of its key: the delete compares it. */
  modRevision: number;
}

export interface PrunePlan {
  /** Sort keys to delete, by reason. */
  age: string[];
  count: string[];
  size: string[];
}

/** Entries planned per slice before planPrune yields to the event loop. */
const PLAN_SLICE = 10_000;

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * The stored history records by sort key, in memory, so a retention pass decides what to
 * delete without reading the records. Keys are kept sorted: new records almost always
 * sort newest (appended at the end), a retry of an old fire is inserted in place; deleted
 * keys are dropped from the sorted list lazily (compacted once they are half of it), so a
 * pass that deletes thousands of keys costs no quadratic shuffling.
 */
export class HistoryIndex {
  private readonly entries = new Map<string, IndexedRecord>();
  /** Ascending; may still hold deleted keys (not in `entries`) until the next compaction. */
  private sorted: string[] = [];
  private totalBytes = 0;

  get size(): number {
    return this.entries.size;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  get(sortKey: string): IndexedRecord | undefined {
    return this.entries.get(sortKey);
  }

  set(sortKey: string, entry: IndexedRecord): void {
    const previous = this.entries.get(sortKey);
    if (previous) {
      this.totalBytes -= previous.bytes;
    } else if (!this.hasSortedKey(sortKey)) {
      this.insertSorted(sortKey);
    }
    this.entries.set(sortKey, entry);
    this.totalBytes += entry.bytes;
  }

  delete(sortKey: string): void {
    const entry = this.entries.get(sortKey);
    if (!entry) return;
    this.entries.delete(sortKey);
    this.totalBytes -= entry.bytes;
    if (this.sorted.length > 1024 && this.entries.size < this.sorted.length / 2) {
      this.sorted = this.sorted.filter((key) => this.entries.has(key));
    }
  }

  clear(): void {
    this.entries.clear();
    this.sorted = [];
    this.totalBytes = 0;
  }

  /** Sort keys present now, oldest first. */
  keys(): string[] {
    return this.sorted.filter((key) => this.entries.has(key));
  }

  /**
   * What a retention pass deletes: records that finished before the cutoff; beyond the
   * newest `keepPerJob` of their job; then, oldest first, whatever keeps the rest above
   * `maxBytes`. Works on a snapshot of the keys and yields to the event loop between
   * slices, so a large index never stalls the node; records changed meanwhile are caught
   * by the deletes' revision compares.
   */
  async planPrune(policy: HistoryRetention): Promise<PrunePlan> {
    const plan: PrunePlan = { age: [], count: [], size: [] };
    const keys = this.keys();
    const keptPerJob = new Map<string, number>();
    const kept: string[] = [];
    let keptBytes = 0;
    for (let index = keys.length - 1, done = 0; index >= 0; index--, done++) {
      if (done > 0 && done % PLAN_SLICE === 0) await yieldToEventLoop();
      const key = keys[index];
      const entry = this.entries.get(key);
      if (!entry) continue;
      if (entry.finishedMs < policy.cutoffMs) {
        plan.age.push(key);
        continue;
      }
      const jobCount = keptPerJob.get(entry.jobId) ?? 0;
      if (jobCount >= policy.keepPerJob) {
        plan.count.push(key);
        continue;
      }
      keptPerJob.set(entry.jobId, jobCount + 1);
      kept.push(key);
      keptBytes += entry.bytes;
    }
    const maxBytes = policy.maxBytes ?? 0;
    // `kept` is newest first: the oldest are at its end.
    for (let index = kept.length - 1; maxBytes > 0 && keptBytes > maxBytes && index >= 0; index--) {
      const entry = this.entries.get(kept[index]);
      if (!entry) continue;
      plan.size.push(kept[index]);
      keptBytes -= entry.bytes;
    }
    return plan;
  }

  private hasSortedKey(sortKey: string): boolean {
    const at = this.lowerBound(sortKey);
    return at < this.sorted.length && this.sorted[at] === sortKey;
  }

  private insertSorted(sortKey: string): void {
    const last = this.sorted[this.sorted.length - 1];
    if (last === undefined || last < sortKey) {
      this.sorted.push(sortKey);
      return;
    }
    this.sorted.splice(this.lowerBound(sortKey), 0, sortKey);
  }

  /** First position whose key is >= sortKey. */
  private lowerBound(sortKey: string): number {
    let lo = 0;
    let hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.sorted[mid] < sortKey) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
