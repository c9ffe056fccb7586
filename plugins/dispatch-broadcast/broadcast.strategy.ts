import {
  MAX_SHARDS,
  allWorkersFull,
  assignTo,
  DispatchContext,
  DispatchDecision,
  DispatchStrategy,
  DispatchWorker,
  ForestDispatchStrategy,
  leastBusy,
  noLiveWorker,
  noOptionsAllowed,
  noWorker,
  shardAcross,
} from '@forest/plugin-api';

/**
 * `broadcast`: each execution runs once on every live worker of the target, as shards
 * numbered by worker id order (shard index = position, total = number of workers).
 *
 * All shards start together or not at all: while any of those workers is full the
 * execution waits (none, naming how many are full), rather than starting on some workers
 * and leaving the rest to catch up later.
 *
 * With more than MAX_SHARDS (60) workers, only the first 60 by id get a shard; the others
 * are left out of this broadcast (and their fullness does not hold it back).
 *
 * An execution that is already one shard (its worker died, the host places it again) needs
 * one worker, not a new fan-out: it goes to the worker the least-busy strategy would choose
 * (the plugin API's `leastBusy`): the one with a free slot and the lowest load/capacity,
 * ties to fewer running, then lower load, then lower id. No options.
 */
@DispatchStrategy('broadcast')
export class BroadcastStrategy implements ForestDispatchStrategy {
  select(context: DispatchContext): DispatchDecision {
    const { workers, job } = context;
    if (workers.length === 0) return noLiveWorker(job);
    if (context.execution.shard) return replace(workers);
    const targets = workers.slice(0, MAX_SHARDS);
    const full = targets.filter((w) => w.free <= 0);
    if (full.length > 0) {
      return noWorker(
        `waiting for a free slot on every worker: ${full.length} of ${targets.length} are full (e.g. ${full[0].id})`,
      );
    }
    return shardAcross(targets);
  }

  validateOptions(options: Record<string, unknown>): string[] {
    return noOptionsAllowed('broadcast', options);
  }
}

/** One worker for a shard being placed again: the least busy one with a free slot. */
function replace(workers: readonly DispatchWorker[]): DispatchDecision {
  const best = leastBusy(workers);
  return best ? assignTo(best) : allWorkersFull(workers);
}
