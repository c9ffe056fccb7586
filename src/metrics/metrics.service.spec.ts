import Fastify from 'fastify';
import { METRICS_CONTENT_TYPE, MetricsService } from './metrics.service';
import { UNMATCHED_ROUTE } from './http-metrics';

describe('MetricsService', () => {
  it('keeps one registry per node, each with the process metrics and every family', async () => {
    const a = new MetricsService();
    const b = new MetricsService();
    expect(a.registry).not.toBe(b.registry);
    a.election.leader.set(1);
    const [textA, textB] = [await a.render(), await b.render()];
    expect(textA).toContain('forest_election_leader 1');
    expect(textB).toContain('forest_election_leader 0');
    for (const text of [textA, textB]) {
      expect(text).toContain('# TYPE process_cpu_user_seconds_total counter');
      expect(text).toContain('# TYPE nodejs_heap_size_used_bytes gauge');
      expect(text).toContain('# TYPE forest_planner_fires_total counter');
    }
    expect(METRICS_CONTENT_TYPE).toMatch(/^text\/plain; version=0\.0\.4/);
  });

  it('reads sampled gauges from their source when scraped: gone label sets vanish, a detached source leaves none', async () => {
    const metrics = new MetricsService();
    let groups: Record<string, number> = { a: 2, b: 1 };
    const detach = metrics.dispatch.workers.sampleFrom((gauge) => {
      for (const [group, n] of Object.entries(groups)) gauge.set({ group }, n);
    });
    const read = async () =>
      (await metrics.dispatch.workers.gauge.get()).values.map((v) => [v.labels.group, v.value]);
    expect(await read()).toEqual([
      ['a', 2],
      ['b', 1],
    ]);
    groups = { b: 3 };
    expect(await read()).toEqual([['b', 3]]);
    detach();
    expect(await read()).toEqual([]);
  });

  it('counts HTTP requests by route pattern (never the URL), reusing its label objects', async () => {
    const metrics = new MetricsService();
    const fastify = Fastify();
    metrics.http.hook(fastify);
    fastify.get('/api/jobs/:id', async (request, reply) =>
      reply.code((request.params as { id: string }).id === 'x' ? 404 : 200).send({}),
    );
    for (const url of ['/api/jobs/a', '/api/jobs/b', '/api/jobs/x', '/nothing?here=1']) {
      await fastify.inject({ method: 'GET', url });
    }
    await fastify.inject({ method: 'POST', url: '/api/jobs/a' });
    await fastify.close();
    const { values } = await metrics.http.requests.get();
    expect(values.map((v) => [v.labels.method, v.labels.route, v.labels.status, v.value])).toEqual([
      ['GET', '/api/jobs/:id', '200', 2],
      ['GET', '/api/jobs/:id', '404', 1],
      ['GET', UNMATCHED_ROUTE, '404', 1],
      ['POST', UNMATCHED_ROUTE, '404', 1],
    ]);
    const duration = await metrics.http.duration.get();
    const count = duration.values.find(
      (v) =>
        v.metricName === 'forest_http_request_duration_seconds_count' &&
        v.labels.route === '/api/jobs/:id',
    );
    expect(count?.value).toBe(3);
    // An unknown method is one label value, not one per method name.
    metrics.http.record('BREW', '/pot', 418, 0.001);
    expect((await metrics.http.requests.get()).values.at(-1)?.labels).toEqual({
      method: 'OTHER',
      route: '/pot',
      status: '418',
    });
  });
});
