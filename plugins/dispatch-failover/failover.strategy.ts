import {
  allWorkersFull,
  assignTo,
  DispatchContext,
  DispatchDecision,
  DispatchStrategy,
  DispatchWorker,
  ForestDispatchStrategy,
  noLiveWorker,
  unknownOptions,
} from '@forest/plugin-api';

export interface FailoverOptions {
  /** The preference order: oldest registration first (default), or worker id. */
  order?: 'registration' | 'id';
}

const ALLOWED = ['order'];

/**
 * `failover`: all work goes to one primary worker, the first in a stable order that has a
 * free slot; when it is full or gone the next one takes over, and work returns to the
 * primary as soon as it has room again. For targets that should run in one place (a
 * single-writer job, a licensed tool) with standbys.
 *
 * `order: 'registration'` (default) prefers the worker that registered first (ties and
 * unparseable times by id); a restarted worker registers anew (new id, new time) at the
 * back, so the long-lived one stays primary. `order: 'id'` makes the primary predictable by
 * name.
 */
@DispatchStrategy('failover')
export class FailoverStrategy implements ForestDispatchStrategy<FailoverOptions> {
  select(context: DispatchContext<FailoverOptions>): DispatchDecision {
    const { workers, job } = context;
    if (workers.length === 0) return noLiveWorker(job);
    let best: DispatchWorker | undefined;
    let bestAt = 0;
    // Workers come sorted by id, so for order 'id' the first free one is the answer.
    for (const w of workers) {
      if (w.free <= 0) continue;
      if (context.options.order === 'id') return assignTo(w);
      const at = registeredMs(w);
      if (!best || at < bestAt) {
        best = w;
        bestAt = at;
      }
    }
    return best ? assignTo(best) : allWorkersFull(workers);
  }

  validateOptions(options: Record<string, unknown>): string[] {
    const problems = unknownOptions('failover', options, ALLOWED);
    const { order } = options;
    if (order !== undefined && order !== 'registration' && order !== 'id') {
      problems.push(`dispatch.options.order must be "registration" or "id" (got ${show(order)})`);
    }
    return problems;
  }
}

/** Registration time in ms; an unparseable one sorts after every real one. */
function registeredMs(worker: DispatchWorker): number {
  const ms = Date.parse(worker.registeredAt);
  return Number.isNaN(ms) ? Number.POSITIVE_INFINITY : ms;
}

function show(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? String(value);
  return 'an object';
}
