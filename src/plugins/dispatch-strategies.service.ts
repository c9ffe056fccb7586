import { Injectable, Logger, Optional } from '@nestjs/common';
import {
  DispatchContext,
  DispatchDecision,
  ForestDispatchStrategy,
  MAX_SHARDS,
  noWorker,
} from '@forest/plugin-api';
import { ForestConfig } from '../config/forest.config';
import { PluginMetrics } from '../metrics/metric-families';
import { MetricsService } from '../metrics/metrics.service';
import { callWithin, failureOf, isPromiseLike, ThrottledWarnings, wrap } from './plugin-call';
import { PluginRegistry, Registered } from './plugin-registry';

/** Nested `delegate` calls allowed (label-match -> another strategy -> ...). */
const MAX_DELEGATION = 3;

/** A strategy call's input, without the host-supplied `delegate`. */
export type DecisionInput = Omit<DispatchContext, 'delegate'>;

/**
 * The one way the host calls dispatch strategies. Every call is guarded: a strategy that
 * throws, answers nonsense (a full or unknown worker, too many shards) or does not answer
 * within FOREST_PLUGIN_TIMEOUT_MS yields `none`, so the execution stays pending, and the
 * failure is logged (throttled) with the strategy's and plugin's names. Nothing here
 * throws to the dispatcher.
 */
@Injectable()
export class DispatchStrategies {
  private readonly logger = new Logger(DispatchStrategies.name);
  private readonly warnings = new ThrottledWarnings((message) => this.logger.warn(message));
  /** Strategies that answered with a Promise once: they decide in the pending drain only. */
  private readonly asynchronous = new Set<string>();
  private readonly metrics?: PluginMetrics;

  constructor(
    private readonly registry: PluginRegistry,
    private readonly config: ForestConfig,
    @Optional() metrics?: MetricsService,
  ) {
    this.metrics = metrics?.plugins;
  }

  names(): string[] {
    return this.registry.strategyNames();
  }

  /**
   * False for strategies known to answer asynchronously: the fire txn cannot wait for
   * them, so their executions go to `pending/` and the drain awaits the answer.
   */
  answersSynchronously(name: string): boolean {
    return !this.asynchronous.has(name);
  }

  /** The decision; synchronous when the strategy answered synchronously. Never rejects. */
  decide(
    name: string,
    input: DecisionInput,
    depth = 0,
  ): DispatchDecision | Promise<DispatchDecision> {
    const registered = this.registry.strategy(name);
    if (!registered) {
      const reason = `dispatch strategy "${name}" is not loaded (loaded: ${this.names().join(', ') || 'none'})`;
      this.warnings.warnOnce(`unknown:${name}`, `job ${input.job.id}: ${reason}`);
      this.metrics?.failed('select', name, 'not_loaded');
      return noWorker(reason);
    }
    const label = labelOf(registered);
    const context: DispatchContext = {
      ...input,
      delegate: (strategy, options, workers) =>
        depth >= MAX_DELEGATION
          ? noWorker(`${label} delegated more than ${MAX_DELEGATION} levels deep`)
          : this.decide(strategy, { ...input, options, workers }, depth + 1),
    };
    let answer: DispatchDecision | Promise<DispatchDecision>;
    try {
      answer = registered.instance.select(context);
    } catch (error) {
      return this.failed(name, label, input, error);
    }
    if (!isPromiseLike<DispatchDecision>(answer)) return this.checked(name, label, input, answer);
    this.asynchronous.add(name);
    return callWithin(label, this.config.pluginTimeoutMs, () => answer).then(
      (decision) => this.checked(name, label, input, decision),
      (error: unknown) => this.failed(name, label, input, error),
    );
  }

  /**
   * Problems with a job's `dispatch` (unknown strategy, options the strategy rejects);
   * empty when valid.
   */
  async validate(name: string, options: Record<string, unknown>): Promise<string[]> {
    const registered = this.registry.strategy(name);
    if (!registered) {
      return [
        `dispatch.strategy "${name}" is not a loaded dispatch strategy; available: ${this.names().join(', ') || 'none'}`,
      ];
    }
    const validate = registered.instance.validateOptions?.bind(registered.instance);
    if (!validate) return [];
    const label = labelOf(registered);
    try {
      const problems = await callWithin(label, this.config.pluginTimeoutMs, () =>
        validate(options, {
          strategies: this.names(),
          validateStrategy: (strategy, nested) => this.validate(strategy, nested),
        }),
      );
      return Array.isArray(problems) ? problems.map(String) : [];
    } catch (error) {
      this.metrics?.failed('validate_options', name, failureOf(error));
      const message = wrap(label, error).message;
      this.warnings.warnOnce(`validate:${name}`, `validating dispatch.options: ${message}`);
      return [`dispatch.options could not be checked: ${message}`];
    }
  }

  /** A decision the host can apply, or `none` saying what was wrong with it. */
  private checked(
    name: string,
    label: string,
    input: DecisionInput,
    decision: unknown,
  ): DispatchDecision {
    const problem = this.problemWith(input, decision);
    if (!problem) return decision as DispatchDecision;
    this.metrics?.failed('select', name, 'invalid_answer');
    this.warnings.warnOnce(`bad:${label}`, `${label} ${problem} (job ${input.job.id})`);
    return noWorker(`${label} ${problem}`);
  }

  private problemWith(input: DecisionInput, decision: unknown): string | undefined {
    const d = decision as Partial<Record<string, unknown>> | null | undefined;
    const usable = (id: unknown) => {
      const worker = input.workers.find((w) => w.id === id);
      if (!worker) return `chose worker ${String(id)}, which is not one of the offered workers`;
      if (worker.free <= 0) return `chose worker ${worker.id}, which has no free slot`;
      return undefined;
    };
    switch (d?.type) {
      case 'none':
        return typeof d.reason === 'string' ? undefined : 'answered none without a reason';
      case 'worker':
        return usable(d.workerId);
      case 'shards': {
        const ids = d.workerIds;
        if (!Array.isArray(ids) || ids.length === 0) return 'answered shards without workers';
        if (input.execution.shard) return 'answered shards for an execution that is one shard';
        if (ids.length > MAX_SHARDS) return `answered ${ids.length} shards (at most ${MAX_SHARDS})`;
        if (new Set(ids).size !== ids.length) return 'named a worker twice in shards';
        for (const id of ids) {
          const problem = usable(id);
          if (problem) return problem;
        }
        return undefined;
      }
      default:
        return `answered ${JSON.stringify(decision) ?? 'undefined'}, which is not a decision`;
    }
  }

  private failed(
    name: string,
    label: string,
    input: DecisionInput,
    error: unknown,
  ): DispatchDecision {
    this.metrics?.failed('select', name, failureOf(error));
    const message = wrap(label, error).message;
    this.warnings.warnOnce(
      `failed:${label}`,
      `${message} (execution ${input.execution.id}); it stays pending and is offered again`,
    );
    return noWorker(message);
  }
}

function labelOf(registered: Registered<ForestDispatchStrategy>): string {
  const plugin = registered.plugin ? ` of plugin ${registered.plugin.info.name}` : '';
  return `dispatch strategy "${registered.name}"${plugin}`;
}
