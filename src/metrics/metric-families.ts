import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The node's metric families, by the module that feeds them. MetricsService creates each
 * set once, in its one registry; modules inject MetricsService and use their set. Label
 * values are bounded: groups, statuses, operations, channel and strategy names, route
 * patterns — never execution or job ids.
 */

/** Seconds; from a millisecond to an hour late. */
const LAG_BUCKETS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600,
];

/**
 * A gauge read from a source each time it is scraped (and only then): the source sets the
 * label sets that exist now, the ones it no longer sets vanish. A module attaches the
 * source when it starts (`sampleFrom`) and detaches it when it stops.
 */
export class SampledGauge<L extends string = string> {
  readonly gauge: Gauge<L>;
  private source?: (gauge: Gauge<L>) => void;

  constructor(registry: Registry, name: string, help: string, labelNames: readonly L[] = []) {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const sampled = this;
    this.gauge = new Gauge<L>({
      name,
      help,
      labelNames,
      registers: [registry],
      collect(this: Gauge<L>) {
        this.reset();
        sampled.source?.(this);
      },
    });
  }

  /** Reads from `source` from now on; returns the function that detaches it. */
  sampleFrom(source: (gauge: Gauge<L>) => void): () => void {
    this.source = source;
    return () => {
      if (this.source === source) this.source = undefined;
    };
  }
}

/** A set of families in one registry (subclasses' fields are created after `registry` is set). */
export abstract class MetricSet {
  constructor(protected readonly registry: Registry) {}
}

/** Firing on the leader (names kept from the planner's own registry of before). */
export class PlannerMetrics extends MetricSet {
  readonly fires = new Counter({
    name: 'forest_planner_fires_total',
    help: 'Executions created by schedule fires, by job group and kind (regular or misfire catch-up)',
    labelNames: ['group', 'kind'] as const,
    registers: [this.registry],
  });

  readonly skips = new Counter({
    name: 'forest_planner_skipped_fires_total',
    help: 'Fires recorded `skipped` because their job was busy (concurrency forbid, or a replace catch-up), by job group',
    labelNames: ['group'] as const,
    registers: [this.registry],
  });

  readonly duplicatesPrevented = new Counter({
    name: 'forest_planner_duplicate_fires_prevented_total',
    help: 'Fires whose execution already existed (written by an earlier leader), not repeated',
    registers: [this.registry],
  });

  readonly misfires = new Counter({
    name: 'forest_planner_misfires_total',
    help: 'Times a job was found behind by more than the misfire threshold, by policy',
    labelNames: ['policy'] as const,
    registers: [this.registry],
  });

  readonly writeErrors = new Counter({
    name: 'forest_planner_fire_write_errors_total',
    help: 'Fire writes that failed (store unavailable, leadership lost); retried',
    registers: [this.registry],
  });

  readonly fireLag = new Histogram({
    name: 'forest_planner_fire_lag_seconds',
    help: 'Fire commit lag: execution record committed minus scheduled time (negative: written a lookahead early, counted as 0)',
    buckets: LAG_BUCKETS,
    registers: [this.registry],
  });

  /** Active jobs in the plan; PlannerService attaches the plan as its source. */
  readonly plannedJobs = new SampledGauge(
    this.registry,
    'forest_planner_jobs',
    'Active jobs in this node\u2019s plan',
  );

  readonly firing = new Gauge({
    name: 'forest_planner_firing',
    help: '1 while this node is the leader firing jobs',
    registers: [this.registry],
  });
}

/** Final statuses, retries and handler starts, counted by the node that recorded them. */
export class ExecutionMetrics extends MetricSet {
  readonly finished = new Counter({
    name: 'forest_executions_finished_total',
    help:
      'Executions that reached a final status, by job group and status, counted by the node ' +
      'that recorded it (sum over nodes for the cluster)',
    labelNames: ['group', 'status'] as const,
    registers: [this.registry],
  });

  readonly retries = new Counter({
    name: 'forest_execution_retries_total',
    help: 'Retry attempts created (a failed, timed-out or lost attempt with attempts left), by job group',
    labelNames: ['group'] as const,
    registers: [this.registry],
  });

  readonly handlerStartLag = new Histogram({
    name: 'forest_execution_handler_start_lag_seconds',
    help:
      'Handler start (as the worker reports it) minus the time the execution was due (its ' +
      'scheduled time, or a retry\u2019s backoff end), by job group; observed once per start',
    labelNames: ['group'] as const,
    buckets: LAG_BUCKETS,
    registers: [this.registry],
  });

  /** One final status recorded by this node. */
  recordFinished(group: string, status: string, retryCreated: boolean): void {
    this.finished.inc({ group, status });
    if (retryCreated) this.retries.inc({ group });
  }
}

/** The leader's view of dispatch: read from its watched state when scraped. */
export class DispatchMetrics extends MetricSet {
  readonly pending = new SampledGauge(
    this.registry,
    'forest_pending_executions',
    'Executions waiting for a worker (in pending/), by group; reported by the leader',
    ['group'],
  );

  readonly oldestPendingAge = new SampledGauge(
    this.registry,
    'forest_pending_oldest_age_seconds',
    'How long the longest-waiting dispatchable execution has waited (a retry from the end of its backoff), by group; reported by the leader',
    ['group'],
  );

  readonly workers = new SampledGauge(
    this.registry,
    'forest_workers',
    'Live workers, by group; reported by the leader',
    ['group'],
  );

  readonly slots = new SampledGauge(
    this.registry,
    'forest_worker_slots',
    'Slots (declared capacity) of live workers, by group; reported by the leader',
    ['group'],
  );

  readonly freeSlots = new SampledGauge(
    this.registry,
    'forest_worker_free_slots',
    'Free slots of live workers (capacity less assigned, running and reserved), by group; reported by the leader',
    ['group'],
  );
}

export class ElectionMetrics extends MetricSet {
  readonly leader = new Gauge({
    name: 'forest_election_leader',
    help: '1 while this node is the leader',
    registers: [this.registry],
  });

  readonly leaderChanges = new Counter({
    name: 'forest_election_leader_changes_total',
    help: 'Times this node saw the leader change to another node (its first sight of a leader after start is not a change)',
    registers: [this.registry],
  });

  readonly fencedWritesRefused = new Counter({
    name: 'forest_election_fenced_writes_refused_total',
    help: 'Fenced writes refused because this node\u2019s fencing token was no longer valid (it is deposed)',
    registers: [this.registry],
  });
}

export const STORE_OPERATIONS = [
  'get',
  'range',
  'put',
  'delete',
  'delete_prefix',
  'txn',
  'revision',
  'grant_lease',
  'keep_alive',
  'revoke_lease',
  'lease_ttl',
  'watch',
] as const;
export type StoreOperation = (typeof STORE_OPERATIONS)[number];

export class StoreMetrics extends MetricSet {
  readonly duration = new Histogram({
    name: 'forest_store_request_duration_seconds',
    help: 'Coordination store requests (etcd or embedded) by operation, failed ones included',
    labelNames: ['op'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly errors = new Counter({
    name: 'forest_store_request_errors_total',
    help: 'Coordination store requests that failed, by operation and error (unavailable, compacted, lease_not_found, closed, request, access_denied, other)',
    labelNames: ['op', 'error'] as const,
    registers: [this.registry],
  });

  readonly watchRestarts = new Counter({
    name: 'forest_store_watch_restarts_total',
    help: 'Watches that ended (history compacted, or failed for good) and are restarted by their owner, by keyspace',
    labelNames: ['keyspace'] as const,
    registers: [this.registry],
  });
}

/** Finished executions leaving the coordination store for the execution history. */
export class HistoryMetrics extends MetricSet {
  readonly moved = new Counter({
    name: 'forest_history_moved_total',
    help: 'Finished executions this node moved from the coordination store into the execution history, by history kind (store, postgres)',
    labelNames: ['history'] as const,
    registers: [this.registry],
  });

  readonly moveFailures = new Counter({
    name: 'forest_history_move_failures_total',
    help: 'Finished executions whose move into the execution history failed (they stay in the coordination store until the leader sweeps them), by history kind',
    labelNames: ['history'] as const,
    registers: [this.registry],
  });
}

export class AlertMetrics extends MetricSet {
  readonly deliveries = new Counter({
    name: 'forest_alert_deliveries_total',
    help: 'Alert deliveries by channel and outcome (delivered, failed)',
    labelNames: ['channel', 'outcome'] as const,
    registers: [this.registry],
  });
}

export type PluginCall = 'select' | 'validate_options' | 'send';
export type PluginFailure = 'error' | 'timeout' | 'invalid_answer' | 'not_loaded';

export class PluginMetrics extends MetricSet {
  readonly callFailures = new Counter({
    name: 'forest_plugin_call_failures_total',
    help:
      'Plugin calls that failed, by call (select, validate_options, send), strategy or channel ' +
      'name, and reason (error, timeout, invalid_answer, not_loaded)',
    labelNames: ['call', 'name', 'reason'] as const,
    registers: [this.registry],
  });

  failed(call: PluginCall, name: string, reason: PluginFailure): void {
    this.callFailures.inc({ call, name, reason });
  }
}
