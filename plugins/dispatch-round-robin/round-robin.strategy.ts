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
 * `round-robin`: the executions of each (group, target) go to its workers in turn, in id
 * order. It remembers the id of the last worker chosen, not a position, and picks the first
 * worker after that id with a free slot (wrapping around), so the rotation carries on when
 * workers fill up, join or leave. No options.
 *
 * The memory is per leader and in memory: after a leader change the rotation restarts at
 * the lowest id, which costs at most one uneven turn.
 */
@DispatchStrategy('round-robin')
export class RoundRobinStrategy implements ForestDispatchStrategy {
  /** (group, target) -> id of the worker chosen last; one entry per pair ever dispatched. */
  private readonly last = new Map<string, string>();

  select(context: DispatchContext): DispatchDecision {
    const { workers, job } = context;
    if (workers.length === 0) return noLiveWorker(job);
    // Group and target names are key segments, so a newline cannot occur in either.
    const key = `${job.group}\n${job.target}`;
    const last = this.last.get(key);
    const open = withFreeSlot(workers);
    const next = (last === undefined ? undefined : open.find((w) => w.id > last)) ?? open[0];
    if (!next) return allWorkersFull(workers);
    this.last.set(key, next.id);
    return assignTo(next);
  }

  validateOptions(options: Record<string, unknown>): string[] {
    return noOptionsAllowed('round-robin', options);
  }
}
