import {
  allWorkersFull,
  assignTo,
  DispatchContext,
  DispatchDecision,
  DispatchStrategy,
  ForestDispatchStrategy,
  noLiveWorker,
  noOptionsAllowed,
  withFreeSlot,
} from '@forest/plugin-api';

/**
 * `random`: each execution goes to a worker drawn uniformly among those with a free slot.
 * Stateless, so it needs no coordination between leaders and spreads load well when
 * executions are many and alike. No options.
 */
@DispatchStrategy('random')
export class RandomStrategy implements ForestDispatchStrategy {
  select(context: DispatchContext): DispatchDecision {
    const { workers, job } = context;
    if (workers.length === 0) return noLiveWorker(job);
    const open = withFreeSlot(workers);
    if (open.length === 0) return allWorkersFull(workers);
    // Math.random() < 1, so the index is always in range.
    return assignTo(open[Math.floor(Math.random() * open.length)]);
  }

  validateOptions(options: Record<string, unknown>): string[] {
    return noOptionsAllowed('random', options);
  }
}
