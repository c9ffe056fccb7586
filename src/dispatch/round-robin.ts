import { PoolWorker } from './worker-pool';

/**
 * The built-in dispatch strategy until strategies become plugins: each group's executions
 * go to its eligible workers in turn, in stable id order, skipping full ones — the next
 * pick is the first candidate after the last one chosen, so the rotation survives workers
 * filling up, joining or leaving.
 */
export class RoundRobin {
  private readonly last = new Map<string, string>();

  /** `candidates` must be sorted by worker id. */
  choose(group: string, candidates: PoolWorker[]): PoolWorker | undefined {
    if (candidates.length === 0) return undefined;
    const last = this.last.get(group);
    const next =
      (last === undefined ? undefined : candidates.find((w) => w.record.id > last)) ??
      candidates[0];
    this.last.set(group, next.record.id);
    return next;
  }
}
