import {
  DispatchContext,
  DispatchDecision,
  DispatchStrategy,
  ForestDispatchStrategy,
  noLiveWorker,
  noWorker,
  OptionsValidationContext,
  unknownOptions,
} from '@forest/plugin-api';

export interface LabelMatchOptions {
  /** Every entry must be among a worker's labels, with the same value. At least one. */
  labels: Record<string, string>;
  /** The strategy that chooses among the matching workers (default round-robin). */
  strategy?: string;
  /** That strategy's options (default {}). */
  options?: Record<string, unknown>;
}

const ALLOWED = ['labels', 'strategy', 'options'];
const NAME = 'label-match';
export const DEFAULT_STRATEGY = 'round-robin';

/**
 * `label-match`: only workers whose labels include every `labels` entry (same value) may
 * run the job, e.g. `{ region: 'eu', tier: 'gpu' }`; another strategy (`strategy`, with its
 * `options`) chooses among them. The matching workers are handed over full ones included,
 * so the inner strategy decides how to wait.
 *
 * `select` answers as the inner strategy does: synchronously for the built-ins (so the
 * fire txn places the execution at once), asynchronously for an asynchronous one.
 * The inner strategy cannot be label-match itself (narrowing twice is one selector with
 * more entries).
 */
@DispatchStrategy(NAME)
export class LabelMatchStrategy implements ForestDispatchStrategy<LabelMatchOptions> {
  select(
    context: DispatchContext<LabelMatchOptions>,
  ): DispatchDecision | Promise<DispatchDecision> {
    const { workers, job, options } = context;
    if (workers.length === 0) return noLiveWorker(job);
    const selector = Object.entries(options.labels ?? {});
    const matching = workers.filter((w) =>
      selector.every(([name, value]) => Object.hasOwn(w.labels, name) && w.labels[name] === value),
    );
    if (matching.length === 0) {
      const wanted = selector.map(([name, value]) => `${name}=${value}`).join(',');
      return noWorker(
        `no live worker has labels ${wanted} (${workers.length} eligible workers checked)`,
      );
    }
    return context.delegate(options.strategy ?? DEFAULT_STRATEGY, options.options ?? {}, matching);
  }

  async validateOptions(
    options: Record<string, unknown>,
    context: OptionsValidationContext,
  ): Promise<string[]> {
    const problems = unknownOptions(NAME, options, ALLOWED);
    problems.push(...labelProblems(options.labels));

    const { strategy = DEFAULT_STRATEGY, options: inner = {} } = options;
    const strategyProblem = strategyProblemOf(strategy, context.strategies);
    if (strategyProblem) problems.push(strategyProblem);
    if (!isPlainObject(inner)) {
      problems.push(`dispatch.options.options must be an object (got ${show(inner)})`);
    } else if (!strategyProblem && typeof strategy === 'string') {
      // The inner strategy names its options from `dispatch.options.`; here they live one
      // level down, under `dispatch.options.options.`.
      const nested = await context.validateStrategy(strategy, inner);
      problems.push(
        ...nested.map((p) =>
          p.startsWith('dispatch.options.')
            ? `dispatch.options.options.${p.slice('dispatch.options.'.length)}`
            : p,
        ),
      );
    }
    return problems;
  }
}

function strategyProblemOf(strategy: unknown, loaded: readonly string[]): string | undefined {
  if (typeof strategy !== 'string' || strategy === '') {
    return `dispatch.options.strategy must be a strategy name (got ${show(strategy)})`;
  }
  if (strategy === NAME) {
    return `dispatch.options.strategy cannot be ${NAME} (put all the labels in one selector instead)`;
  }
  if (!loaded.includes(strategy)) {
    const available = loaded.filter((name) => name !== NAME).join(', ') || 'none';
    return `dispatch.options.strategy "${strategy}" is not a loaded dispatch strategy; available: ${available}`;
  }
  return undefined;
}

function labelProblems(labels: unknown): string[] {
  const example = 'e.g. {"region": "eu"}';
  if (labels === undefined) {
    return [`dispatch.options.labels is required: the labels a worker must have, ${example}`];
  }
  if (!isPlainObject(labels)) {
    return [
      `dispatch.options.labels must be an object of label names to values, ${example} (got ${show(labels)})`,
    ];
  }
  const entries = Object.entries(labels);
  if (entries.length === 0) {
    return [`dispatch.options.labels must name at least one label, ${example}`];
  }
  const problems: string[] = [];
  for (const [name, value] of entries) {
    if (name === '') problems.push('dispatch.options.labels has an empty label name');
    else if (typeof value !== 'string' || value === '') {
      problems.push(
        `dispatch.options.labels.${name} must be a non-empty string (got ${show(value)})`,
      );
    }
  }
  return problems;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function show(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? String(value);
  return 'an object';
}
