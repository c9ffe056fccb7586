/**
 * Small building blocks for dispatch strategies: the usual refusals (with the wording the
 * built-in strategies use, so a plugin's reasons read like Forest's own), picking among
 * workers with a free slot, and rejecting option keys a strategy does not know.
 *
 * ```ts
 * select({ workers, job }: DispatchContext): DispatchDecision {
 *   if (workers.length === 0) return noLiveWorker(job);
 *   const best = leastBusy(workers);
 *   return best ? assignTo(best) : allWorkersFull(workers);
 * }
 * validateOptions(options: Record<string, unknown>): string[] {
 *   return noOptionsAllowed('my-strategy', options);
 * }
 * ```
 */
import {
  DispatchDecision,
  DispatchJob,
  DispatchWorker,
  noWorker,
} from './dispatch-strategy.interface';

/** The workers that can take an execution now (`free > 0`), in the order given. */
export function withFreeSlot(workers: readonly DispatchWorker[]): DispatchWorker[] {
  return workers.filter((w) => w.free > 0);
}

/**
 * Whether `a` is less busy than `b`: the lower load/capacity, ties to the one running fewer
 * executions (load also counts ones only assigned), then the lower load, then the lower id.
 * A strict total order for distinct ids, so the choice never depends on the workers' order.
 */
export function isLessBusy(a: DispatchWorker, b: DispatchWorker): boolean {
  // Division is correctly rounded, so equal fractions (2/4, 4/8) compare equal.
  const ratio = a.load / a.capacity - b.load / b.capacity;
  if (ratio !== 0) return ratio < 0;
  if (a.running !== b.running) return a.running < b.running;
  if (a.load !== b.load) return a.load < b.load;
  return a.id < b.id;
}

/**
 * The least busy worker with a free slot (ordered as `isLessBusy`: lowest load/capacity,
 * then fewer running, then lower load, then lower id), or undefined when every worker is
 * full or there are none. The `least-busy` strategy's choice.
 */
export function leastBusy(workers: readonly DispatchWorker[]): DispatchWorker | undefined {
  let best: DispatchWorker | undefined;
  for (const w of workers) {
    if (w.free > 0 && (!best || isLessBusy(w, best))) best = w;
  }
  return best;
}

/** The refusal when no live worker of the job's group runs its target (`workers` is empty). */
export function noLiveWorker(job: Pick<DispatchJob, 'group' | 'target'>): DispatchDecision {
  return noWorker(`no live worker of group ${job.group} runs target ${job.target}`);
}

/** The refusal when there are workers but none has a free slot; counts `workers`. */
export function allWorkersFull(workers: readonly DispatchWorker[]): DispatchDecision {
  return noWorker(`all ${workers.length} eligible workers are full`);
}

/**
 * `validateOptions` problems for the keys of `options` not in `allowed`, one per key in
 * key order: `dispatch.options.<key> is not an option of the <strategy> strategy (allowed:
 * a, b)`, or `(allowed: none)` when `allowed` is empty.
 */
export function unknownOptions(
  strategy: string,
  options: Record<string, unknown>,
  allowed: readonly string[] = [],
): string[] {
  const list = allowed.length > 0 ? allowed.join(', ') : 'none';
  return Object.keys(options)
    .filter((key) => !allowed.includes(key))
    .map(
      (key) =>
        `dispatch.options.${key} is not an option of the ${strategy} strategy (allowed: ${list})`,
    );
}

/**
 * `validateOptions` for a strategy that takes no options: one problem per key given
 * (`dispatch.options.<key> is not an option of the <strategy> strategy (allowed: none)`).
 */
export function noOptionsAllowed(strategy: string, options: Record<string, unknown>): string[] {
  return unknownOptions(strategy, options);
}
