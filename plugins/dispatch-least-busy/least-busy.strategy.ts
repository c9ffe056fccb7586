import {
  assignTo,
  DispatchContext,
  DispatchDecision,
  DispatchStrategy,
  DispatchWorker,
  ForestDispatchStrategy,
  noWorker,
} from '@forest/plugin-api';

/**
 * `least-busy`: each execution goes to the worker with a free slot whose load is the
 * smallest share of its capacity, so a worker with capacity 8 takes twice the work of one
 * with capacity 4. Ties go to the worker running fewer executions (load also counts ones
 * only assigned), then the lower load, then the lower id, so the answer is deterministic.
 * No options.
 */
@DispatchStrategy('least-busy')
export class LeastBusyStrategy implements ForestDispatchStrategy {
  select(context: DispatchContext): DispatchDecision {
    const { workers, job } = context;
    if (workers.length === 0) {
      return noWorker(`no live worker of group ${job.group} runs target ${job.target}`);
    }
    let best: DispatchWorker | undefined;
    for (const w of workers) {
      if (w.free > 0 && (!best || lessBusy(w, best))) best = w;
    }
    return best ? assignTo(best) : noWorker(`all ${workers.length} eligible workers are full`);
  }

  validateOptions(options: Record<string, unknown>): string[] {
    return Object.keys(options).map(
      (key) =>
        `dispatch.options.${key} is not an option of the least-busy strategy (allowed: none)`,
    );
  }
}

function lessBusy(a: DispatchWorker, b: DispatchWorker): boolean {
  // Division is correctly rounded, so equal fractions (2/4, 4/8) compare equal.
  const ratio = a.load / a.capacity - b.load / b.capacity;
  if (ratio !== 0) return ratio < 0;
  if (a.running !== b.running) return a.running < b.running;
  if (a.load !== b.load) return a.load < b.load;
  return a.id < b.id;
}
