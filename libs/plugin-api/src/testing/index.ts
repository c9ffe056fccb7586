/**
 * @forest/plugin-api/testing: small builders for unit-testing a dispatch strategy without
 * Nest or a cluster. Instantiate the strategy class yourself and call `select` with a
 * context built here:
 *
 * ```ts
 * const strategy = new MyStrategy();
 * const ctx = dispatchContext({ workers: [worker('w-1'), worker('w-2', { load: 4 })] });
 * expect(strategy.select(ctx)).toEqual(assignTo('w-1'));
 * expect(tally(strategy, ctx, 100)).toEqual({ 'w-1': 100 });
 * ```
 *
 * Kept out of the main entry point so plugins do not ship test code to the host.
 */
import type {
  DispatchContext,
  DispatchDecision,
  DispatchExecution,
  DispatchJob,
  DispatchWorker,
  ForestDispatchStrategy,
  OptionsValidationContext,
} from '../dispatch-strategy.interface';

/** Every worker built here registered at this instant unless told otherwise. */
export const TEST_REGISTERED_AT = '2025-01-01T00:00:00.000Z';

/** The strategies a default `validationContext` says are loaded: Forest's built-ins. */
export const BUILT_IN_STRATEGIES: readonly string[] = [
  'broadcast',
  'consistent-hash',
  'failover',
  'label-match',
  'least-busy',
  'random',
  'round-robin',
];

/** The key `tally` counts `none` decisions under (worker ids cannot contain parentheses). */
export const NO_WORKER = '(none)';

/**
 * A live worker: group 'g', host 'h', no labels, capacity 4, idle. `free` follows from
 * `capacity - load` unless given, so `worker('w-1', { load: 4 })` is full.
 */
export function worker(id: string, overrides: Partial<DispatchWorker> = {}): DispatchWorker {
  const capacity = overrides.capacity ?? 4;
  const load = overrides.load ?? 0;
  return {
    id,
    group: 'g',
    host: 'h',
    labels: {},
    running: 0,
    registeredAt: TEST_REGISTERED_AT,
    ...overrides,
    capacity,
    load,
    free: overrides.free ?? capacity - load,
  };
}

/** `count` idle workers named `w-01`, `w-02`, ... (zero-padded so id order = number order). */
export function workers(count: number, overrides: Partial<DispatchWorker> = {}): DispatchWorker[] {
  const width = String(count).length;
  return Array.from({ length: count }, (_, i) =>
    worker(`w-${String(i + 1).padStart(width, '0')}`, overrides),
  );
}

export interface DispatchContextInput<Options> {
  workers: readonly DispatchWorker[];
  options?: Options;
  job?: Partial<DispatchJob>;
  execution?: Partial<DispatchExecution>;
  /** What `context.delegate` does; by default it throws, as most strategies never call it. */
  delegate?: DispatchContext<Options>['delegate'];
}

/**
 * A context as the host builds it: the workers sorted by id (as the host offers them), job
 * `job-1` of group 'g' with target 't', a first scheduled execution of it, options `{}`.
 */
export function dispatchContext<Options extends object = Record<string, unknown>>(
  input: DispatchContextInput<Options>,
): DispatchContext<Options> {
  const job: DispatchJob = {
    id: 'job-1',
    name: input.job?.id ?? 'job-1',
    group: 'g',
    target: 't',
    params: {},
    ...input.job,
  };
  const execution: DispatchExecution = {
    id: `${job.id}~1`,
    jobId: job.id,
    trigger: 'schedule',
    attempt: 1,
    scheduledMs: 0,
    params: job.params,
    ...input.execution,
  };
  return {
    job,
    execution,
    workers: [...input.workers].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
    options: input.options ?? ({} as Options),
    delegate:
      input.delegate ??
      (() => {
        throw new Error('no delegate in this test');
      }),
  };
}

/**
 * What `validateOptions` gets from the host: the loaded strategy names (the built-ins by
 * default) and a `validateStrategy` that accepts any options of a loaded strategy unless
 * replaced.
 */
export function validationContext(
  overrides: Partial<OptionsValidationContext> = {},
): OptionsValidationContext {
  const strategies = overrides.strategies ?? BUILT_IN_STRATEGIES;
  return {
    strategies,
    validateStrategy:
      overrides.validateStrategy ??
      ((strategy) =>
        Promise.resolve(
          strategies.includes(strategy)
            ? []
            : [`dispatch.strategy "${strategy}" is not a loaded dispatch strategy`],
        )),
  };
}

/**
 * Calls a synchronous strategy's `select` `n` times and counts the chosen worker ids:
 * every worker of a `shards` decision counts once, `none` counts under `NO_WORKER`.
 * `context` is one context for every call, or a factory given the call's index (to vary
 * jobs, executions or loads). Throws if `select` answers with a Promise.
 */
export function tally<Options>(
  strategy: ForestDispatchStrategy<Options>,
  context: DispatchContext<Options> | ((call: number) => DispatchContext<Options>),
  n: number,
): Record<string, number> {
  const counts: Record<string, number> = {};
  const add = (key: string) => (counts[key] = (counts[key] ?? 0) + 1);
  for (let call = 0; call < n; call++) {
    const decision = strategy.select(typeof context === 'function' ? context(call) : context);
    if (decision instanceof Promise) {
      throw new Error('tally needs a synchronous select; this strategy answered with a Promise');
    }
    countDecision(decision, add);
  }
  return counts;
}

function countDecision(decision: DispatchDecision, add: (key: string) => void): void {
  switch (decision.type) {
    case 'worker':
      return void add(decision.workerId);
    case 'shards':
      return decision.workerIds.forEach(add);
    case 'none':
      return void add(NO_WORKER);
  }
}
