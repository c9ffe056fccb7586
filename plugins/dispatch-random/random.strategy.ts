import {
  assignTo,
  DispatchContext,
  DispatchDecision,
  DispatchStrategy,
  ForestDispatchStrategy,
  noWorker,
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
    if (workers.length === 0) {
      return noWorker(`no live worker of group ${job.group} runs target ${job.target}`);
    }
    const open = workers.filter((w) => w.free > 0);
    if (open.length === 0) return noWorker(`all ${workers.length} eligible workers are full`);
    // Math.random() < 1, so the index is always in range.
    return assignTo(open[Math.floor(Math.random() * open.length)]);
  }

  validateOptions(options: Record<string, unknown>): string[] {
    return Object.keys(options).map(
      (key) => `dispatch.options.${key} is not an option of the random strategy (allowed: none)`,
    );
  }
}
