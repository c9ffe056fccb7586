/**
 * The dispatch strategy contract: given one execution, its job and the live workers that
 * can run it, say which worker runs it — or several (broadcast, with shard numbers), or
 * none, with the reason.
 */

/** A live worker of the job's group that declared the job's target. */
export interface DispatchWorker {
  readonly id: string;
  readonly group: string;
  readonly host: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Most executions it runs at once. */
  readonly capacity: number;
  /** Executions it holds now: assigned, running, and dispatches in flight. */
  readonly load: number;
  /** Of those, the ones running. */
  readonly running: number;
  /** capacity - load: a decision that names a worker with no free slot is not applied. */
  readonly free: number;
  /** When it registered (ISO); a stable order for failover-style strategies. */
  readonly registeredAt: string;
}

/**
 * Most shards one broadcast may have: the host writes every shard's execution and
 * assignment in one etcd txn, under etcd's limit of 128 operations.
 */
export const MAX_SHARDS = 60;

/** Which part of a broadcast an execution is: index 0..total-1. */
export interface ShardInfo {
  readonly index: number;
  readonly total: number;
}

export interface DispatchExecution {
  /** `{jobId}~{key}`, as in the executions API. */
  readonly id: string;
  readonly jobId: string;
  readonly trigger: 'schedule' | 'manual' | 'retry';
  readonly attempt: number;
  readonly scheduledMs: number;
  readonly params: unknown;
  /**
   * Set when this execution is already one shard of a broadcast (it is being placed again
   * because its worker died): it needs exactly one worker now, not a new fan-out.
   */
  readonly shard?: ShardInfo;
}

export interface DispatchJob {
  readonly id: string;
  readonly name: string;
  readonly group: string;
  readonly target: string;
  readonly params: unknown;
}

export interface DispatchContext<Options = Record<string, unknown>> {
  readonly execution: DispatchExecution;
  readonly job: DispatchJob;
  /**
   * Live workers of the group that run the job's target, sorted by id. Full workers are
   * included (free = 0) so a sticky strategy can tell "my worker is busy" from "gone".
   */
  readonly workers: readonly DispatchWorker[];
  /** The job's `dispatch.options`, as `validateOptions` accepted them. */
  readonly options: Options;
  /**
   * Asks another registered strategy to decide among `workers` (label-match narrows the
   * workers, then delegates). The call is guarded like any plugin call, and answers
   * synchronously when that strategy does, so return it as it is.
   */
  delegate(
    strategy: string,
    options: Record<string, unknown>,
    workers: readonly DispatchWorker[],
  ): DispatchDecision | Promise<DispatchDecision>;
}

export type DispatchDecision =
  | { readonly type: 'worker'; readonly workerId: string }
  | { readonly type: 'shards'; readonly workerIds: readonly string[] }
  | { readonly type: 'none'; readonly reason: string };

/** Run the execution on this worker. */
export function assignTo(worker: DispatchWorker | string): DispatchDecision {
  return { type: 'worker', workerId: typeof worker === 'string' ? worker : worker.id };
}

/** Run one copy on each of these workers; shard index = position in the list. */
export function shardAcross(workers: readonly (DispatchWorker | string)[]): DispatchDecision {
  return { type: 'shards', workerIds: workers.map((w) => (typeof w === 'string' ? w : w.id)) };
}

/** Nobody runs it now: it waits in `pending/` and is offered again when workers change. */
export function noWorker(reason: string): DispatchDecision {
  return { type: 'none', reason };
}

/** Host services for validating options, e.g. a strategy that delegates to another. */
export interface OptionsValidationContext {
  /** Names of the registered dispatch strategies. */
  readonly strategies: readonly string[];
  /** Problems with `options` for `strategy` (unknown name included); empty when valid. */
  validateStrategy(strategy: string, options: Record<string, unknown>): Promise<string[]>;
}

/**
 * A dispatch strategy. Decorate the class with `@DispatchStrategy('name')` and list it in
 * its plugin's providers.
 *
 * `select` runs on the leader for every execution, so keep it fast and synchronous when
 * you can: a synchronous answer is applied in the same txn that fires the execution. A
 * returned Promise is allowed (the execution then waits in `pending/` for the answer), and
 * is cut off by the host's timeout (FOREST_PLUGIN_TIMEOUT_MS). A strategy that throws or
 * times out leaves the execution pending; the error is logged with the plugin's name.
 */
export interface ForestDispatchStrategy<Options = Record<string, unknown>> {
  select(context: DispatchContext<Options>): DispatchDecision | Promise<DispatchDecision>;
  /**
   * Checks a job's `dispatch.options` when the job is created or changed. Return the
   * problems (each names the option and what is allowed); an empty list or nothing when
   * the options are valid. Without this method any options are accepted.
   */
  validateOptions?(
    options: Record<string, unknown>,
    context: OptionsValidationContext,
  ): string[] | void | Promise<string[] | void>;
}
