import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Metric, prometheusContentType, Registry } from 'prom-client';
import { HttpMetrics } from './http-metrics';
import {
  AlertMetrics,
  DispatchMetrics,
  ElectionMetrics,
  ExecutionMetrics,
  HistoryMetrics,
  PlannerMetrics,
  PluginMetrics,
  StoreMetrics,
} from './metric-families';

/** The Prometheus text format, version 0.0.4. */
export const METRICS_CONTENT_TYPE = prometheusContentType;

/**
 * prom-client's default Node process metrics (CPU, memory, heap, event-loop lag, GC,
 * handles, file descriptors), made once per process: they describe the process, and each
 * set starts an event-loop monitor and a GC observer that are never stopped. Every node's
 * registry registers these same metric objects.
 */
let processMetrics: Registry | undefined;

function processMetricsRegistry(): Registry {
  if (!processMetrics) {
    processMetrics = new Registry();
    collectDefaultMetrics({ register: processMetrics });
  }
  return processMetrics;
}

/**
 * The one owner of this node's metrics: one prom-client registry, which GET /metrics
 * renders, and the metric families in it, one set per module that feeds them. Modules
 * inject this service and use their set; nothing registers metrics elsewhere, and no
 * global registry is used, so several nodes in one process (the tests) keep theirs apart.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  readonly planner = new PlannerMetrics(this.registry);
  readonly executions = new ExecutionMetrics(this.registry);
  readonly dispatch = new DispatchMetrics(this.registry);
  readonly election = new ElectionMetrics(this.registry);
  readonly store = new StoreMetrics(this.registry);
  readonly history = new HistoryMetrics(this.registry);
  readonly alerts = new AlertMetrics(this.registry);
  readonly plugins = new PluginMetrics(this.registry);
  readonly http = new HttpMetrics(this.registry);

  constructor() {
    // getMetricsAsArray() is typed as plain objects; they are the Metric instances.
    for (const metric of processMetricsRegistry().getMetricsAsArray()) {
      this.registry.registerMetric(metric as unknown as Metric);
    }
  }

  /** Every metric in the Prometheus text format (METRICS_CONTENT_TYPE). */
  render(): Promise<string> {
    return this.registry.metrics();
  }
}
