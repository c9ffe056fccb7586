import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { ADMIN_TOKEN, call, createToken } from '../auth/auth-test-support';
import { startTestApp, TestApp } from '../support/app-harness';
import { eventually } from '../support/wait';
import { WorkerFleet } from '../support/worker-fleet';

const GROUP = 'mx';
/** A schedule that never fires during a test (midnight, January 1st). */
const NEVER = '0 0 1 1 *';
const FLEET = [
  { name: 'mx-a', concurrency: 2 },
  { name: 'mx-b', concurrency: 3 },
];

/** One sample of the text format: `name{a="x",b="y"} value`. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples and the declared families (`# TYPE name type`) of a scrape. */
function parseMetrics(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line.startsWith('# TYPE ')) {
      const [, , name, type] = line.split(' ');
      types.set(name, type);
      continue;
    }
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
      labels[key] = value;
    }
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return { samples, types };
}

class Scrape {
  constructor(
    readonly samples: Sample[],
    readonly types: Map<string, string>,
  ) {}

  /** Samples of `name` whose labels include `labels`. */
  find(name: string, labels: Record<string, string> = {}): Sample[] {
    return this.samples.filter(
      (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
    );
  }

  /** The sum of the matching samples (0 when there are none). */
  sum(name: string, labels: Record<string, string> = {}): number {
    return this.find(name, labels).reduce((total, s) => total + s.value, 0);
  }
}

/**
 * GET /metrics of an embedded-store node on a real port, with in-process SDK workers
 * running a job every second and a job whose target always fails (triggered once, with
 * one retry): the families exist and their values match what happened.
 */
describe('GET /metrics (embedded node, in-process workers)', () => {
  let subject: TestApp;
  let baseUrl: string;
  let fleet: WorkerFleet;
  let failedId: string;

  async function api(method: string, path: string, body?: unknown): Promise<any> {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path} -> ${response.status} ${text}`);
    return text ? JSON.parse(text) : undefined;
  }

  async function scrape(): Promise<Scrape> {
    const response = await fetch(`${baseUrl}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const { samples, types } = parseMetrics(await response.text());
    return new Scrape(samples, types);
  }

  async function executionsOf(jobId: string): Promise<{ id: string; status: string }[]> {
    return (await api('GET', `/api/executions?jobId=${jobId}&limit=500`)).items;
  }

  beforeAll(async () => {
    subject = await startTestApp({ store: 'embedded' });
    await subject.app.listen(0, '127.0.0.1');
    const { port } = subject.app.getHttpServer().address() as AddressInfo;
    baseUrl = `http://127.0.0.1:${port}`;
    await api('POST', '/api/groups', { name: GROUP });
    fleet = new WorkerFleet(baseUrl, GROUP, {
      ok: () => 'ok',
      fail: (ctx) => {
        throw new Error(`attempt ${ctx.attempt} fails on purpose`);
      },
    });
    for (const spec of FLEET) await fleet.add(spec);
    await api('POST', '/api/jobs', {
      id: 'mx-tick',
      name: 'every second',
      group: GROUP,
      schedule: { cron: '* * * * * *' },
      target: 'ok',
    });
    await api('POST', '/api/jobs', {
      id: 'mx-boom',
      name: 'fails',
      group: GROUP,
      schedule: { cron: NEVER },
      target: 'fail',
      retry: { maxAttempts: 1, backoff: 'fixed', initialDelayMs: 200, maxDelayMs: 200 },
    });
    failedId = (await api('POST', '/api/jobs/mx-boom/trigger', {})).id;
    // The failing run and its retry both end failed; the per-second job runs meanwhile.
    await eventually(async () => {
      const boom = await executionsOf('mx-boom');
      expect(boom.map((e) => e.status)).toEqual(['failed', 'failed']);
      const ticks = await executionsOf('mx-tick');
      expect(ticks.filter((e) => e.status === 'succeeded').length).toBeGreaterThanOrEqual(3);
    }, 15_000);
  }, 30_000);

  afterAll(async () => {
    await fleet?.stopAll();
    await subject?.close();
  });

  it('declares every family of the node', async () => {
    const metrics = await scrape();
    const expected: Record<string, string> = {
      forest_planner_fires_total: 'counter',
      forest_planner_fire_lag_seconds: 'histogram',
      forest_planner_skipped_fires_total: 'counter',
      forest_planner_misfires_total: 'counter',
      forest_planner_duplicate_fires_prevented_total: 'counter',
      forest_planner_fire_write_errors_total: 'counter',
      forest_planner_jobs: 'gauge',
      forest_planner_firing: 'gauge',
      forest_executions_finished_total: 'counter',
      forest_execution_retries_total: 'counter',
      forest_execution_handler_start_lag_seconds: 'histogram',
      forest_pending_executions: 'gauge',
      forest_pending_oldest_age_seconds: 'gauge',
      forest_workers: 'gauge',
      forest_worker_slots: 'gauge',
      forest_worker_free_slots: 'gauge',
      forest_election_leader: 'gauge',
      forest_election_leader_changes_total: 'counter',
      forest_election_fenced_writes_refused_total: 'counter',
      forest_store_request_duration_seconds: 'histogram',
      forest_store_request_errors_total: 'counter',
      forest_store_watch_restarts_total: 'counter',
      forest_history_moved_total: 'counter',
      forest_history_move_failures_total: 'counter',
      forest_alert_deliveries_total: 'counter',
      forest_plugin_call_failures_total: 'counter',
      forest_http_requests_total: 'counter',
      forest_http_request_duration_seconds: 'histogram',
      // prom-client's default process metrics
      process_cpu_user_seconds_total: 'counter',
      process_resident_memory_bytes: 'gauge',
      nodejs_heap_size_used_bytes: 'gauge',
      nodejs_eventloop_lag_seconds: 'gauge',
    };
    const declared = Object.fromEntries(
      Object.keys(expected).map((name) => [name, metrics.types.get(name)]),
    );
    expect(declared).toEqual(expected);
  });

  it('has a Grafana dashboard that queries only metrics the node exposes', async () => {
    const metrics = await scrape();
    const dashboard = readFileSync(
      join(__dirname, '../../docs/grafana/forest-dashboard.json'),
      'utf8',
    );
    const panels = (JSON.parse(dashboard) as { panels: { targets?: { expr: string }[] }[] }).panels;
    const queried = new Set(
      panels
        .flatMap((panel) => panel.targets ?? [])
        .flatMap((target) => target.expr.match(/\b(forest|process|nodejs)_\w+/g) ?? [])
        .map((name) => name.replace(/_(bucket|count|sum)$/, '')),
    );
    expect(queried.size).toBeGreaterThan(20);
    expect([...queried].filter((name) => !metrics.types.has(name))).toEqual([]);
  });

  it('counts fires, final statuses and retries as they happened', async () => {
    const ticks = await executionsOf('mx-tick');
    const succeeded = ticks.filter((e) => e.status === 'succeeded').length;
    await eventually(async () => {
      const metrics = await scrape();
      // Every fire the API lists was counted (more may have fired since).
      expect(metrics.sum('forest_planner_fires_total', { group: GROUP })).toBeGreaterThanOrEqual(
        ticks.length,
      );
      expect(
        metrics.find('forest_planner_fires_total', { group: GROUP, kind: 'regular' }),
      ).toHaveLength(1);
      expect(metrics.sum('forest_planner_fire_lag_seconds_count')).toBeGreaterThanOrEqual(
        ticks.length,
      );
      expect(
        metrics.sum('forest_executions_finished_total', { group: GROUP, status: 'succeeded' }),
      ).toBeGreaterThanOrEqual(succeeded);
      // The triggered run and its retry, both failed; the retry was counted when created.
      expect(
        metrics.sum('forest_executions_finished_total', { group: GROUP, status: 'failed' }),
      ).toBe(2);
      expect(metrics.sum('forest_execution_retries_total', { group: GROUP })).toBe(1);
      expect(metrics.sum('forest_planner_jobs')).toBe(2);
      // Every finished execution left the store for the history (here the store's own).
      const finished = metrics.sum('forest_executions_finished_total');
      expect(metrics.sum('forest_history_moved_total', { history: 'store' })).toBe(finished);
      expect(metrics.sum('forest_history_move_failures_total')).toBe(0);
    }, 5000);
    expect(failedId).toMatch(/^mx-boom~/);
  });

  it('measures the handler start lag once per started execution', async () => {
    const started = fleet.runs.length;
    expect(started).toBeGreaterThanOrEqual(5);
    await eventually(async () => {
      const metrics = await scrape();
      const count = metrics.sum('forest_execution_handler_start_lag_seconds_count', {
        group: GROUP,
      });
      expect(count).toBeGreaterThanOrEqual(started);
      // Not more than the handlers the fleet ever started (once per start, not per report).
      expect(count).toBeLessThanOrEqual(fleet.runs.length);
      const sum = metrics.sum('forest_execution_handler_start_lag_seconds_sum', { group: GROUP });
      // The workers start on time (fires are written a lookahead early): well under a second each.
      expect(sum / count).toBeLessThan(1);
      const inf = metrics.find('forest_execution_handler_start_lag_seconds_bucket', {
        group: GROUP,
        le: '+Inf',
      });
      expect(inf.map((s) => s.value)).toEqual([count]);
    }, 5000);
  });

  it('reports the leader, its workers and their slots', async () => {
    const metrics = await scrape();
    expect(metrics.sum('forest_election_leader')).toBe(1);
    expect(metrics.sum('forest_planner_firing')).toBe(1);
    expect(metrics.sum('forest_election_fenced_writes_refused_total')).toBe(0);
    expect(metrics.sum('forest_workers', { group: GROUP })).toBe(FLEET.length);
    const capacity = FLEET.reduce((sum, w) => sum + w.concurrency, 0);
    expect(metrics.sum('forest_worker_slots', { group: GROUP })).toBe(capacity);
    const free = metrics.sum('forest_worker_free_slots', { group: GROUP });
    expect(free).toBeGreaterThanOrEqual(0);
    expect(free).toBeLessThanOrEqual(capacity);
  });

  it('measures store requests by operation, and alert deliveries by channel', async () => {
    const metrics = await scrape();
    for (const op of ['txn', 'range', 'watch', 'grant_lease', 'keep_alive']) {
      expect(metrics.sum('forest_store_request_duration_seconds_count', { op })).toBeGreaterThan(0);
    }
    // The two failures raised `failed` alerts through the default `log` channel.
    await eventually(async () => {
      const later = await scrape();
      expect(
        later.sum('forest_alert_deliveries_total', { channel: 'log', outcome: 'delivered' }),
      ).toBeGreaterThanOrEqual(2);
    }, 5000);
  });

  it('counts HTTP requests by route pattern and status, never by raw URL', async () => {
    await api('GET', '/api/jobs/mx-tick');
    expect((await fetch(`${baseUrl}/api/jobs/no-such-job`)).status).toBe(404);
    expect((await fetch(`${baseUrl}/api/no/such/route`)).status).toBe(404);
    // onResponse runs once the answer is sent: the last request may be counted a moment later.
    let metrics = await scrape();
    await eventually(async () => {
      metrics = await scrape();
      expect(metrics.sum('forest_http_requests_total', { route: 'unmatched' })).toBe(1);
    }, 2000);
    const count = (method: string, route: string, status: string) =>
      metrics.sum('forest_http_requests_total', { method, route, status });
    expect(count('POST', '/api/groups', '201')).toBe(1);
    expect(count('POST', '/api/jobs', '201')).toBe(2);
    expect(count('POST', '/api/jobs/:id/trigger', '201')).toBe(1);
    expect(count('GET', '/api/jobs/:id', '200')).toBe(1);
    expect(count('GET', '/api/jobs/:id', '404')).toBe(1);
    expect(count('GET', 'unmatched', '404')).toBe(1);
    expect(count('GET', '/api/executions', '200')).toBeGreaterThan(0);
    expect(count('POST', '/api/workers', '201')).toBe(FLEET.length);
    expect(count('POST', '/api/workers/:group/:workerId/reports', '200')).toBeGreaterThan(0);
    expect(count('GET', '/metrics', '200')).toBeGreaterThan(0);
    expect(
      metrics.sum('forest_http_request_duration_seconds_count', {
        method: 'GET',
        route: '/api/jobs/:id',
      }),
    ).toBe(2);
    const routes = new Set(metrics.find('forest_http_requests_total').map((s) => s.labels.route));
    for (const route of routes) {
      expect(route).not.toMatch(/mx-|~|no-such|\?/);
    }
  });
});

describe('GET /metrics with FOREST_AUTH=on', () => {
  const apps: TestApp[] = [];

  afterAll(async () => {
    await Promise.allSettled(apps.map((app) => app.close()));
  });

  async function node(env: Record<string, string> = {}): Promise<TestApp> {
    const app = await startTestApp({
      store: 'embedded',
      env: { FOREST_AUTH: 'on', FOREST_ADMIN_TOKEN: ADMIN_TOKEN, ...env },
    });
    apps.push(app);
    return app;
  }

  it('needs a read token: 401 without one, 403 for a worker token, 200 for a viewer', async () => {
    const { app } = await node();
    const bare = await call(app, 'GET', '/metrics');
    expect(bare.statusCode).toBe(401);
    expect(bare.body.code).toBe('UNAUTHENTICATED');
    const viewer = await createToken(app, { name: 'prometheus', role: 'viewer' });
    const scraped = await call(app, 'GET', '/metrics', { token: viewer.token });
    expect(scraped.statusCode).toBe(200);
    expect(scraped.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(scraped.text).toContain('forest_election_leader 1');
    const worker = await createToken(app, { name: 'w', role: 'worker' });
    expect((await call(app, 'GET', '/metrics', { token: worker.token })).statusCode).toBe(403);
    // The refusals are counted too, under the route's pattern.
    const again = await call(app, 'GET', '/metrics', { token: viewer.token });
    const counted = (status: string) =>
      parseMetrics(again.text).samples.find(
        (s) =>
          s.name === 'forest_http_requests_total' &&
          s.labels.route === '/metrics' &&
          s.labels.status === status,
      )?.value;
    expect([counted('401'), counted('403'), counted('200')]).toEqual([1, 1, 1]);
  });

  it('answers without a token with FOREST_METRICS_PUBLIC=true; the API still needs one', async () => {
    const { app } = await node({ FOREST_METRICS_PUBLIC: 'true' });
    const bare = await call(app, 'GET', '/metrics');
    expect(bare.statusCode).toBe(200);
    expect(bare.text).toContain('# TYPE forest_planner_fires_total counter');
    expect((await call(app, 'GET', '/api/jobs')).statusCode).toBe(401);
  });
});
