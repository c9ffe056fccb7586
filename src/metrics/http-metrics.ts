import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Counter, Histogram } from 'prom-client';
import { MetricSet } from './metric-families';

/** The route label of requests no route matched (404s, refusals before routing). */
export const UNMATCHED_ROUTE = 'unmatched';

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

interface RouteLabels {
  /** Labels of the duration histogram. */
  route: { method: string; route: string };
  /** Labels of the request counter, by status code. */
  byStatus: Map<number, { method: string; route: string; status: string }>;
}

/**
 * HTTP requests by method, route pattern (`/api/jobs/:id`, never the raw URL) and status,
 * recorded by a Fastify onResponse hook. The label objects are made once per method, route
 * and status and reused, so a request allocates nothing here beyond prom-client's own
 * bookkeeping.
 */
export class HttpMetrics extends MetricSet {
  readonly requests = new Counter({
    name: 'forest_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status code',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });

  readonly duration = new Histogram({
    name: 'forest_http_request_duration_seconds',
    help: 'Time to answer HTTP requests, by method and route pattern (worker long polls wait up to their waitMs)',
    labelNames: ['method', 'route'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });

  /** method -> route pattern -> labels. */
  private readonly labels = new Map<string, Map<string, RouteLabels>>();

  record(method: string, route: string | undefined, status: number, seconds: number): void {
    const labels = this.labelsOf(METHODS.has(method) ? method : 'OTHER', route ?? UNMATCHED_ROUTE);
    let counted = labels.byStatus.get(status);
    if (!counted) {
      counted = { ...labels.route, status: String(status) };
      labels.byStatus.set(status, counted);
    }
    this.requests.inc(counted);
    this.duration.observe(labels.route, seconds);
  }

  /** Adds the onResponse hook to the app's root Fastify instance (before it is ready). */
  hook(fastify: FastifyInstance): void {
    fastify.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done) => {
      this.record(
        request.method,
        request.routeOptions.url,
        reply.statusCode,
        reply.elapsedTime / 1000,
      );
      done();
    });
  }

  private labelsOf(method: string, route: string): RouteLabels {
    let routes = this.labels.get(method);
    if (!routes) this.labels.set(method, (routes = new Map<string, RouteLabels>()));
    let labels = routes.get(route);
    if (!labels) {
      labels = { route: { method, route }, byStatus: new Map() };
      routes.set(route, labels);
    }
    return labels;
  }
}
