import {
  allWorkersFull,
  assignTo,
  DispatchContext,
  DispatchDecision,
  DispatchStrategy,
  ForestDispatchStrategy,
  leastBusy,
  noLiveWorker,
  noOptionsAllowed,
} from '@forest/plugin-api';

/**
 * `least-busy`: each execution goes to the worker with a free slot whose load is the
 * smallest share of its capacity, so a worker with capacity 8 takes twice the work of one
 * with capacity 4. Ties go to the worker running fewer executions (load also counts ones
 * only assigned), then the lower load, then the lower id, so the answer is deterministic
 * (the plugin API's `leastBusy`). No options.
 */
@DispatchStrategy('least-busy')
export class LeastBusyStrategy implements ForestDispatchStrategy {
  select(context: DispatchContext): DispatchDecision {
    const { workers, job } = context;
    if (workers.length === 0) return noLiveWorker(job);
    const best = leastBusy(workers);
    return best ? assignTo(best) : allWorkersFull(workers);
  }

  validateOptions(options: Record<string, unknown>): string[] {
    return noOptionsAllowed('least-busy', options);
  }
}
