import {
  assignTo,
  DispatchContext,
  DispatchDecision,
  DispatchStrategy,
  DispatchWorker,
  ForestDispatchStrategy,
  noWorker,
} from '@forest/plugin-api';

export interface WeightedOptions {
  /** The worker label that holds its weight (default `weight`). */
  label?: string;
}

export const DEFAULT_LABEL = 'weight';
/** The weight of a worker without the label, or with a value that is not a number >= 0. */
export const DEFAULT_WEIGHT = 1;
const ALLOWED = ['label'];
/**
 * Rotations kept, one per (group, target, label) in use. A bound, so a leader that lives
 * for months does not keep a rotation for every group that ever existed.
 */
const MAX_ROTATIONS = 1024;

/**
 * `weighted`: executions go to the workers with a free slot in proportion to a number in
 * one of their labels (`weight` unless `options.label` names another): a worker labelled
 * `weight=3` gets three executions for every one of a worker without the label.
 * `weight=0` takes no work (to drain a worker without stopping it).
 *
 * Smooth weighted round-robin (as in nginx), not a weighted random draw: on every pick each
 * free worker's credit grows by its weight, the worker with the most credit is chosen and
 * pays back the total weight. The shares are exact in every round of (sum of weights) picks
 * (3:1 gives the heavy worker 3 of every 4), its turns are spread out (a, a, b, a rather
 * than a, a, a, b), and tests need no random seed.
 *
 * A full worker is left out of a pick and keeps its credit: the others share its turns
 * meanwhile, and it rejoins the rotation where it was, without a burst to make up for the
 * turns it missed (it was full for a reason).
 *
 * The credits are advisory, in memory on the leader: after a leader change they start from
 * zero, and a pick the host does not apply (a dispatch txn that lost a race) costs one turn.
 * Either way the shares even out again within a round.
 */
@DispatchStrategy('weighted')
export class WeightedStrategy implements ForestDispatchStrategy<WeightedOptions> {
  /** Rotation key -> worker id -> credit. Map order = least recently used first. */
  private readonly rotations = new Map<string, Map<string, number>>();

  // Synchronous on purpose: the host then places the execution in the same txn that fires it.
  select(context: DispatchContext<WeightedOptions>): DispatchDecision {
    const { workers, job } = context;
    if (workers.length === 0) {
      return noWorker(`no live worker of group ${job.group} runs target ${job.target}`);
    }
    const label = context.options.label ?? DEFAULT_LABEL;
    const open = workers.filter((w) => w.free > 0);
    if (open.length === 0) return noWorker(`all ${workers.length} eligible workers are full`);
    const weighted = open
      .map((worker) => ({ worker, weight: weightOf(worker, label) }))
      .filter((w) => w.weight > 0);
    if (weighted.length === 0) {
      return noWorker(`all ${open.length} workers with a free slot have ${label}=0`);
    }

    const credits = this.rotation(`${job.group}\n${job.target}\n${label}`, workers);
    let total = 0;
    let best: DispatchWorker | undefined;
    let bestCredit = Number.NEGATIVE_INFINITY;
    // Workers come sorted by id, so ties go to the lower id and the order is reproducible.
    for (const { worker, weight } of weighted) {
      total += weight;
      const credit = (credits.get(worker.id) ?? 0) + weight;
      credits.set(worker.id, credit);
      if (credit > bestCredit) {
        best = worker;
        bestCredit = credit;
      }
    }
    credits.set(best!.id, bestCredit - total);
    return assignTo(best!);
  }

  validateOptions(options: Record<string, unknown>): string[] {
    const problems = Object.keys(options)
      .filter((key) => !ALLOWED.includes(key))
      .map(
        (key) =>
          `dispatch.options.${key} is not an option of the weighted strategy (allowed: ${ALLOWED.join(', ')})`,
      );
    const { label } = options;
    if (label !== undefined && (typeof label !== 'string' || label === '')) {
      problems.push(
        `dispatch.options.label must be a non-empty string, the name of the worker label holding the weight (got ${JSON.stringify(label) ?? typeof label})`,
      );
    }
    return problems;
  }

  /**
   * The credits of one rotation, holding only the workers offered now: a worker that left
   * takes its credit with it, a new one starts at zero.
   */
  private rotation(key: string, workers: readonly DispatchWorker[]): Map<string, number> {
    const previous = this.rotations.get(key);
    this.rotations.delete(key); // re-inserted below as the most recently used
    const credits = new Map<string, number>();
    for (const w of workers) credits.set(w.id, previous?.get(w.id) ?? 0);
    if (this.rotations.size >= MAX_ROTATIONS) {
      this.rotations.delete(this.rotations.keys().next().value!);
    }
    this.rotations.set(key, credits);
    return credits;
  }
}

/** The worker's weight: its label as a number >= 0, else DEFAULT_WEIGHT. */
export function weightOf(worker: DispatchWorker, label: string): number {
  const raw = Object.hasOwn(worker.labels, label) ? worker.labels[label].trim() : '';
  const weight = Number(raw);
  return raw !== '' && Number.isFinite(weight) && weight >= 0 ? weight : DEFAULT_WEIGHT;
}
