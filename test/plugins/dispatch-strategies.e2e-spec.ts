import type { AddressInfo } from 'node:net';
import { startTestApp, TestApp } from '../support/app-harness';
import { sleep, waitFor } from '../support/wait';
import { FleetWorker, WorkerFleet } from '../support/worker-fleet';
import { injectJson, Json } from '../support/http-inject';

interface ExecutionSummary {
  id: string;
  jobId: string;
  status: string;
  worker?: string;
  shard?: { index: number; total: number };
}

/** A schedule that never fires during a test (midnight, January 1st). */
const NEVER = '0 0 1 1 *';
const GROUP = 'fleet';
const FINAL = ['succeeded', 'failed', 'timed_out', 'lost', 'cancelled', 'skipped'];
const BUILTIN_STRATEGIES = [
  'broadcast',
  'consistent-hash',
  'failover',
  'label-match',
  'least-busy',
  'random',
  'round-robin',
];
/** How long a `busy` handler holds its slot. */
const HOLD_MS = 300;
/** Every worker's capacity (the SDK's concurrency). */
const CAPACITY = 2;

/**
 * Each built-in dispatch strategy against one embedded node and three in-process SDK
 * workers with distinct labels: jobs are triggered by hand (pending/ and the dispatcher's
 * drain, which asks the job's strategy) and the executions' workers are checked.
 */
describe('dispatch strategies (in-process workers)', () => {
  let subject: TestApp;
  let fleet: WorkerFleet;
  let wa: FleetWorker;
  let wb: FleetWorker;
  let wc: FleetWorker;

  beforeAll(async () => {
    subject = await startTestApp({ store: 'embedded' });
    await subject.app.listen(0, '127.0.0.1');
    const { port } = subject.app.getHttpServer().address() as AddressInfo;
    expect((await call('POST', '/api/groups', { name: GROUP })).statusCode).toBe(201);

    const quick = () => 'ok';
    fleet = new WorkerFleet(`http://127.0.0.1:${port}`, GROUP, {
      rr: quick,
      random: quick,
      busy: () => sleep(HOLD_MS),
      failover: quick,
      hash: quick,
      label: quick,
      broadcast: (ctx) => `shard ${ctx.shard?.index}/${ctx.shard?.total}`,
    });
    // One after another, each listed before the next starts: w-a registered first.
    wa = await fleet.add({ name: 'w-a', labels: { zone: 'a' }, concurrency: CAPACITY });
    wb = await fleet.add({ name: 'w-b', labels: { zone: 'b' }, concurrency: CAPACITY });
    wc = await fleet.add({ name: 'w-c', labels: { zone: 'a', gpu: 'yes' }, concurrency: CAPACITY });
  }, 20_000);

  afterAll(async () => {
    await fleet?.stopAll();
    await subject?.close();
  });

  function call(method: string, url: string, payload?: unknown) {
    return injectJson(subject.app, method, url, payload);
  }

  async function createJob(id: string, target: string, dispatch: Json): Promise<void> {
    const response = await call('POST', '/api/jobs', {
      id,
      name: `job ${id}`,
      group: GROUP,
      schedule: { cron: NEVER },
      target,
      state: 'paused',
      dispatch,
    });
    expect(response).toMatchObject({ statusCode: 201 });
  }

  /** Triggers the job once; returns the execution id. */
  async function trigger(jobId: string, params?: unknown): Promise<string> {
    const response = await call(
      'POST',
      `/api/jobs/${jobId}/trigger`,
      params === undefined ? undefined : { params },
    );
    expect(response.statusCode).toBe(201);
    return response.body.id as string;
  }

  /** Every execution of the job, following `next`. */
  async function executionsOf(jobId: string): Promise<ExecutionSummary[]> {
    const items: ExecutionSummary[] = [];
    let cursor: string | undefined;
    do {
      const query = `jobId=${jobId}&order=asc&limit=500${cursor ? `&cursor=${cursor}` : ''}`;
      const page = await call('GET', `/api/executions?${query}`);
      expect(page.statusCode).toBe(200);
      items.push(...(page.body.items as ExecutionSummary[]));
      cursor = page.body.next as string | undefined;
    } while (cursor);
    return items;
  }

  /** Waits until the job has `count` executions, all finished; expects all succeeded. */
  async function settled(jobId: string, count: number, ms = 15_000): Promise<ExecutionSummary[]> {
    const items = await waitFor(
      () => executionsOf(jobId),
      (list) => list.length === count && list.every((e) => FINAL.includes(e.status)),
      ms,
    );
    expect(items.map((e) => e.status)).toEqual(Array(count).fill('succeeded'));
    expect(items).toHaveLength(count);
    return items;
  }

  function nameOf(workerId: string | undefined): string {
    const worker = fleet.byId(workerId);
    if (!worker) throw new Error(`execution ran on ${workerId}, not a worker of this test`);
    return worker.name;
  }

  function countByWorker(items: ExecutionSummary[]): Record<string, number> {
    const counts: Record<string, number> = { 'w-a': 0, 'w-b': 0, 'w-c': 0 };
    for (const item of items) counts[nameOf(item.worker)]++;
    return counts;
  }

  it('lists the three workers with their labels, in registration order', async () => {
    const listed = await fleet.listWorkers();
    const byId = new Map(listed.map((w) => [w.id, w]));
    expect(byId.get(wa.id)?.labels).toEqual({ zone: 'a' });
    expect(byId.get(wb.id)?.labels).toEqual({ zone: 'b' });
    expect(byId.get(wc.id)?.labels).toEqual({ zone: 'a', gpu: 'yes' });
    const byAge = [...listed].sort(
      (x, y) => Date.parse(x.registeredAt) - Date.parse(y.registeredAt) || (x.id < y.id ? -1 : 1),
    );
    expect(byAge.map((w) => w.id)).toEqual([wa.id, wb.id, wc.id]);
  });

  it('GET /api/plugins lists the seven built-in dispatch strategies', async () => {
    const response = await call('GET', '/api/plugins');
    expect(response.statusCode).toBe(200);
    const strategies = (response.body.plugins as Json[]).flatMap((plugin) =>
      (plugin.provides as Json[])
        .filter((p) => p.kind === 'dispatch-strategy')
        .map((p) => ({ name: p.name as string, source: plugin.source as string })),
    );
    for (const name of BUILTIN_STRATEGIES) {
      expect(strategies).toContainEqual({ name, source: 'builtin' });
    }
  });

  it('round-robin spreads triggers evenly over the workers', async () => {
    await createJob('rr-job', 'rr', { strategy: 'round-robin' });
    const n = 9;
    for (let i = 0; i < n; i++) await trigger('rr-job');
    const items = await settled('rr-job', n);
    const counts = countByWorker(items);
    // Triggers may be drained in batches and a full worker is skipped: near-even, not exact.
    for (const count of Object.values(counts)) {
      expect(count).toBeGreaterThanOrEqual(n / 3 - 1);
      expect(count).toBeLessThanOrEqual(n / 3 + 1);
    }
  });

  it('random uses live workers only, more than one of them', async () => {
    await createJob('random-job', 'random', { strategy: 'random' });
    const n = 30;
    for (let i = 0; i < n; i++) await trigger('random-job');
    const items = await settled('random-job', n);
    const used = new Set(items.map((e) => nameOf(e.worker)));
    // All three draws landing on one worker: 3 * (1/3)^30.
    expect(used.size).toBeGreaterThanOrEqual(2);
  });

  it('least-busy uses every worker for simultaneous work, never beyond capacity', async () => {
    await createJob('busy-job', 'busy', { strategy: 'least-busy' });
    const n = 3 * CAPACITY;
    await Promise.all(Array.from({ length: n }, () => trigger('busy-job')));
    const items = await settled('busy-job', n);
    const counts = countByWorker(items);
    expect(Object.values(counts).every((count) => count >= 1)).toBe(true);
    // What the handlers saw: on no worker did more than CAPACITY of them overlap.
    const runs = fleet.runsOf('busy-job');
    expect(runs).toHaveLength(n);
    for (const worker of [wa, wb, wc]) {
      const mine = runs.filter((run) => run.worker === worker.name);
      for (const run of mine) {
        const overlapping = mine.filter(
          (other) => other.startedMs <= run.startedMs && other.endedMs! > run.startedMs,
        );
        expect(overlapping.length).toBeLessThanOrEqual(CAPACITY);
      }
      expect(worker.maxRunning).toBeLessThanOrEqual(CAPACITY);
    }
  });

  it('failover runs everything on the oldest-registered worker while it has room', async () => {
    await createJob('failover-job', 'failover', { strategy: 'failover' });
    const n = 4;
    // One at a time, so the primary always has a free slot.
    for (let i = 1; i <= n; i++) {
      await trigger('failover-job');
      await settled('failover-job', i);
    }
    const items = await executionsOf('failover-job');
    expect(items.map((e) => e.worker)).toEqual(Array(n).fill(wa.id));
  });

  it('consistent-hash by param keeps each tenant on one worker', async () => {
    await createJob('hash-job', 'hash', {
      strategy: 'consistent-hash',
      options: { by: 'param', param: 'tenant' },
    });
    const tenants = ['t1', 't2', 't3', 't4', 't5', 't6'];
    const tenantOf = new Map<string, string>();
    let done = 0;
    // One at a time, so no owner is ever full (a full owner sheds work to its neighbour).
    for (let round = 0; round < 2; round++) {
      for (const tenant of tenants) {
        tenantOf.set(await trigger('hash-job', { tenant }), tenant);
        await settled('hash-job', ++done);
      }
    }
    const items = await executionsOf('hash-job');
    expect(items).toHaveLength(2 * tenants.length);
    const workersOf = new Map<string, Set<string>>();
    for (const item of items) {
      const tenant = tenantOf.get(item.id)!;
      if (!workersOf.has(tenant)) workersOf.set(tenant, new Set());
      workersOf.get(tenant)!.add(nameOf(item.worker));
    }
    expect([...workersOf.keys()].sort()).toEqual(tenants);
    for (const [tenant, workers] of workersOf) {
      expect({ tenant, workers: [...workers] }).toEqual({ tenant, workers: [expect.any(String)] });
    }
    // The handlers got the trigger's params.
    for (const run of fleet.runsOf('hash-job')) {
      expect(run.params).toEqual({ tenant: tenantOf.get(run.executionId) });
    }
  });

  it('label-match runs only on matching workers, round-robin among them', async () => {
    await createJob('label-job', 'label', {
      strategy: 'label-match',
      options: { labels: { zone: 'a' }, strategy: 'round-robin' },
    });
    const n = 6;
    for (let i = 0; i < n; i++) await trigger('label-job');
    const items = await settled('label-job', n);
    const counts = countByWorker(items);
    expect(counts['w-b']).toBe(0);
    expect(counts['w-a']).toBeGreaterThanOrEqual(1);
    expect(counts['w-c']).toBeGreaterThanOrEqual(1);
  });

  it('broadcast runs one shard per worker, each handler seeing its shard', async () => {
    await createJob('broadcast-job', 'broadcast', { strategy: 'broadcast' });
    const id = await trigger('broadcast-job');
    const items = await settled('broadcast-job', 3);
    // Shard 0 keeps the trigger's id; shard i is `{id}.s{i}`; shards follow worker id order.
    const byShard = [...items].sort((x, y) => x.shard!.index - y.shard!.index);
    const ids = [wa.id, wb.id, wc.id].sort();
    expect(byShard.map((e) => ({ id: e.id, shard: e.shard, worker: e.worker }))).toEqual([
      { id, shard: { index: 0, total: 3 }, worker: ids[0] },
      { id: `${id}.s1`, shard: { index: 1, total: 3 }, worker: ids[1] },
      { id: `${id}.s2`, shard: { index: 2, total: 3 }, worker: ids[2] },
    ]);
    const runs = fleet.runsOf('broadcast-job');
    expect(runs).toHaveLength(3);
    for (const item of items) {
      const run = runs.find((r) => r.executionId === item.id);
      expect(run).toMatchObject({ workerId: item.worker, shard: item.shard, ok: true });
    }
  });

  it('refuses an unknown strategy and invalid label-match options', async () => {
    const base = {
      id: 'bad-job',
      name: 'bad job',
      group: GROUP,
      schedule: { cron: NEVER },
      target: 'rr',
      state: 'paused',
    };
    const unknown = await call('POST', '/api/jobs', {
      ...base,
      dispatch: { strategy: 'no-such-strategy' },
    });
    expect(unknown).toMatchObject({
      statusCode: 400,
      body: { code: 'UNKNOWN_DISPATCH_STRATEGY' },
    });
    const message = unknown.body.message as string;
    expect(message).toContain('"no-such-strategy"');
    for (const name of BUILTIN_STRATEGIES) expect(message).toContain(name);

    const noLabels = await call('POST', '/api/jobs', {
      ...base,
      dispatch: { strategy: 'label-match', options: { strategy: 'round-robin' } },
    });
    expect(noLabels).toMatchObject({ statusCode: 400, body: { code: 'INVALID_DISPATCH_OPTIONS' } });
    expect(noLabels.body.message).toContain('dispatch.options.labels is required');
    expect((await call('GET', '/api/jobs/bad-job')).statusCode).toBe(404);
  });
});
