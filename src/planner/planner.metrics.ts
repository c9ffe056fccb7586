import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The planner's metrics, in its own prom-client registry: the /metrics endpoint (a later
 * module) merges registries, and tests read values without a global registry shared
 * between app instances.
 */
export class PlannerMetrics {
  readonly registry = new Registry();

  /** @param plannedJobs reads the plan's size when the gauge is collected */
  constructor(private readonly plannedJobs: () => number) {}

  readonly fires = new Counter({
    name: 'forest_planner_fires_total',
    help: 'Executions created by schedule fires, by kind (regular or misfire catch-up)',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  readonly skips = new Counter({
    name: 'forest_planner_skipped_fires_total',
    help: 'Fires recorded `skipped` because their job was busy (concurrency forbid / replace)',
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
    help: 'Execution record committed minus scheduled time',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });

  readonly planSize: Gauge = new Gauge({
    name: 'forest_planner_jobs',
    help: 'Active jobs in this node\u2019s plan',
    registers: [this.registry],
    collect: (): void => this.planSize.set(this.plannedJobs()),
  });

  readonly firing = new Gauge({
    name: 'forest_planner_firing',
    help: '1 while this node is the leader firing jobs',
    registers: [this.registry],
  });
}
