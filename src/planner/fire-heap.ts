/**
 * The planner's timer queue: a binary min-heap of jobs keyed by their next fire time,
 * with an index by job id so a job change (watch event) re-keys or removes its entry in
 * O(log n) instead of rebuilding the heap. One timer for the earliest entry is all the
 * leader needs, so cost per fire is O(log n), not a scan of every job.
 *
 * Ties (same fire time) pop in job-id order, so batches of simultaneous fires are
 * deterministic.
 */
export interface HeapEntry {
  jobId: string;
  fireAt: number;
}

export class FireHeap {
  private readonly entries: HeapEntry[] = [];
  private readonly positions = new Map<string, number>();

  get size(): number {
    return this.entries.length;
  }

  /** The earliest entry, without removing it. */
  peek(): HeapEntry | undefined {
    return this.entries[0];
  }

  has(jobId: string): boolean {
    return this.positions.has(jobId);
  }

  fireAtOf(jobId: string): number | undefined {
    const index = this.positions.get(jobId);
    return index === undefined ? undefined : this.entries[index].fireAt;
  }

  /** Adds the job, or moves it to its new fire time if it is already queued. */
  upsert(jobId: string, fireAt: number): void {
    const index = this.positions.get(jobId);
    if (index === undefined) {
      this.entries.push({ jobId, fireAt });
      this.positions.set(jobId, this.entries.length - 1);
      this.siftUp(this.entries.length - 1);
      return;
    }
    const previous = this.entries[index].fireAt;
    this.entries[index] = { jobId, fireAt };
    if (fireAt < previous) this.siftUp(index);
    else this.siftDown(index);
  }

  /** Removes the job if queued; true when it was. */
  remove(jobId: string): boolean {
    const index = this.positions.get(jobId);
    if (index === undefined) return false;
    const last = this.entries.length - 1;
    this.swap(index, last);
    this.entries.pop();
    this.positions.delete(jobId);
    if (index < this.entries.length) {
      this.siftUp(index);
      this.siftDown(index);
    }
    return true;
  }

  /** Removes and returns every entry due at or before `now`, earliest first. */
  popDue(now: number): HeapEntry[] {
    const due: HeapEntry[] = [];
    while (this.entries.length > 0 && this.entries[0].fireAt <= now) {
      const top = this.entries[0];
      this.remove(top.jobId);
      due.push(top);
    }
    return due;
  }

  private less(a: number, b: number): boolean {
    const x = this.entries[a];
    const y = this.entries[b];
    return x.fireAt < y.fireAt || (x.fireAt === y.fireAt && x.jobId < y.jobId);
  }

  private siftUp(index: number): void {
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (!this.less(index, parent)) return;
      this.swap(index, parent);
      index = parent;
    }
  }

  private siftDown(index: number): void {
    for (;;) {
      const left = 2 * index + 1;
      const right = left + 1;
      let smallest = index;
      if (left < this.entries.length && this.less(left, smallest)) smallest = left;
      if (right < this.entries.length && this.less(right, smallest)) smallest = right;
      if (smallest === index) return;
      this.swap(index, smallest);
      index = smallest;
    }
  }

  private swap(a: number, b: number): void {
    if (a === b) return;
    const entryA = this.entries[a];
    const entryB = this.entries[b];
    this.entries[a] = entryB;
    this.entries[b] = entryA;
    this.positions.set(entryB.jobId, a);
    this.positions.set(entryA.jobId, b);
  }
}
