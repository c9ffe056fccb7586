import { ExecutionRecord, JobStateRecord } from '@forest/protocol';
import { CoordinationStore, rangeAll } from '@forest/store';
import { COORDINATION_STORE } from '../../src/store/store.tokens';
import { PlannerService } from '../../src/planner/planner.service';
import { startNodesOnEtcd, startTestApp, TestApp } from '../support/app-harness';
import { sleep, waitFor } from '../support/wait';
import { EtcdHarness } from '../support/etcd-harness';

interface PlanPage {
  node: string;
  leader: string | null;
  firing: boolean;
  total: number;
  next?: string;
  items: {
    jobId: string;
    group: string;
    misfirePolicy: string;
    previousFireAt: string | null;
    nextFireAt: string | null;
  }[];
}

function client(app: TestApp) {
  const call = async (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object) =>
    app.app.inject({ method, url, payload });
  return {
    call,
    plan: async (query = '') => (await call('GET', `/api/plan${query}`)).json<PlanPage>(),
    async job(id: string, group: string, extra: object = {}) {
      const body = {
        id,
        name: id,
        group,
        target: 't',
        schedule: { cron: '* * * * * *' },
        ...extra,
      };
      const response = await call('POST', '/api/jobs', body);
      expect(response.statusCode).toBe(201);
    },
  };
}

async function executions(store: CoordinationStore, jobId: string): Promise<ExecutionRecord[]> {
  return (await rangeAll(store, `executions/${jobId}/`)).map(
    (kv) => JSON.parse(kv.value) as ExecutionRecord,
  );
}

describe('planner on one embedded node', () => {
  let node: TestApp;
  let store: CoordinationStore;
  let api: ReturnType<typeof client>;

  beforeAll(async () => {
    node = await startTestApp({ store: 'embedded' });
    store = node.app.get(COORDINATION_STORE);
    api = client(node);
    for (const group of ['alpha', 'beta']) {
      expect((await api.call('POST', '/api/groups', { name: group })).statusCode).toBe(201);
    }
  });

  afterAll(async () => {
    await node?.close();
  });

  it('fires a per-second job once per second, as pending executions with its job state', async () => {
    await api.job('tick', 'alpha');
    const fired = await waitFor(
      () => executions(store, 'tick'),
      (list) => list.length >= 3,
    );
    expect(fired.length).toBeGreaterThanOrEqual(3);
    const times = fired.map((record) => record.scheduledMs);
    expect(new Set(times).size).toBe(times.length);
    for (let i = 1; i < times.length; i++) expect(times[i] - times[i - 1]).toBe(1000);
    expect(fired[0]).toMatchObject({
      jobId: 'tick',
      group: 'alpha',
      target: 't',
      trigger: 'schedule',
      status: 'pending',
      catchUp: false,
      firedBy: { node: 'test-node' },
    });
    const state = JSON.parse((await store.get('jobstate/tick'))!.value) as JobStateRecord;
    expect(state.lastScheduledMs).toBeGreaterThanOrEqual(times[times.length - 1]);
  });

  it('GET /api/plan lists active jobs with their fire times, filters by group and pages', async () => {
    await api.job('b-1', 'beta', { schedule: { cron: '0 0 * * *', timezone: 'Europe/Berlin' } });
    await api.job('b-2', 'beta', { schedule: { cron: '0 0 * * *' }, state: 'paused' });
    await api.job('b-3', 'beta', { schedule: { cron: '0 0 * * *' }, misfire: { policy: 'skip' } });
    const page = await waitFor(
      () => api.plan('?group=beta'),
      (p) => p.total === 2,
    );
    expect(page).toMatchObject({ node: 'test-node', leader: 'test-node', firing: true, total: 2 });
    expect(page.items.map((item) => item.jobId)).toEqual(['b-1', 'b-3']);
    expect(page.items[0].previousFireAt).toBeNull();
    expect(Date.parse(page.items[0].nextFireAt!)).toBeGreaterThan(Date.now());
    // Midnight in the job's zone, whatever the season.
    const berlin = new Intl.DateTimeFormat('en-GB', {
      timeZone: 'Europe/Berlin',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    expect(berlin.format(new Date(page.items[0].nextFireAt!))).toBe('00:00');
    expect(page.items[1].misfirePolicy).toBe('skip');

    const first = await api.plan('?limit=1');
    expect(first.items).toHaveLength(1);
    expect(first.next).toEqual(expect.any(String));
    const second = await api.plan(`?limit=1&cursor=${first.next}`);
    expect(second.items[0].jobId > first.items[0].jobId).toBe(true);

    const ticking = (await api.plan('?group=alpha')).items.find((item) => item.jobId === 'tick')!;
    // Written up to the fire lookahead (1 s) before its time.
    expect(Date.parse(ticking.previousFireAt!)).toBeLessThanOrEqual(Date.now() + 1500);
  });

  it('answers a bad plan query with 400 naming the field', async () => {
    const bad = await api.call('GET', '/api/plan?group=no%2Fslash&limit=0');
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toMatch(/group/);
    expect(bad.body).toMatch(/limit/);
  });

  it('stops firing a paused job and resumes it from now, without a burst (skip)', async () => {
    await api.job('pr', 'alpha', { misfire: { policy: 'skip' } });
    await waitFor(
      () => executions(store, 'pr'),
      (list) => list.length >= 2,
    );
    expect((await api.call('POST', '/api/jobs/pr/pause')).statusCode).toBe(200);
    await sleep(300); // the pause reaches the plan through the watch
    const atPause = (await executions(store, 'pr')).length;
    await sleep(2500);
    expect(await executions(store, 'pr')).toHaveLength(atPause);
    expect((await api.plan()).items.map((item) => item.jobId)).not.toContain('pr');

    const resumedAt = Date.now();
    expect((await api.call('POST', '/api/jobs/pr/resume')).statusCode).toBe(200);
    const after = await waitFor(
      () => executions(store, 'pr'),
      (list) => list.length >= atPause + 2,
    );
    const resumed = after.slice(atPause);
    // Nothing for the paused seconds: the first fire after the resume is after it.
    expect(resumed[0].scheduledMs).toBeGreaterThan(resumedAt - 1000);
    expect(resumed.every((record) => !record.catchUp)).toBe(true);
  });

  it('deleting a job removes it from the plan and deletes its job state', async () => {
    await api.job('del', 'alpha');
    await waitFor(
      () => store.get('jobstate/del'),
      (kv) => kv !== undefined,
    );
    expect((await api.call('DELETE', '/api/jobs/del')).statusCode).toBe(204);
    expect(await store.get('jobstate/del')).toBeUndefined();
    await sleep(200);
    expect((await api.plan()).items.map((item) => item.jobId)).not.toContain('del');
    const count = (await executions(store, 'del')).length;
    await sleep(1500);
    expect(await executions(store, 'del')).toHaveLength(count);
  });

  it('counts fires and fire lag in its metrics', async () => {
    const metrics = node.app.get(PlannerService).metrics;
    const fires = await metrics.fires.get();
    const regular = fires.values.find((value) => value.labels.kind === 'regular');
    expect(regular?.value).toBeGreaterThan(0);
    const lag = await metrics.fireLag.get();
    expect(lag.values.find((value) => value.metricName?.endsWith('_count'))?.value).toBe(
      regular?.value,
    );
    const firing = await metrics.firing.get();
    expect(firing.values[0].value).toBe(1);
  });
});

describe('planner on two nodes sharing an etcd', () => {
  let etcd: EtcdHarness;
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    etcd = await EtcdHarness.start();
    [a, b] = await startNodesOnEtcd(etcd.endpoint, ['a', 'b']);
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
    await etcd?.stop();
  });

  it('keeps the follower warm and hands over on a graceful stop with no gap or duplicate', async () => {
    const apiA = client(a);
    const apiB = client(b);
    expect((await apiA.call('POST', '/api/groups', { name: 'g' })).statusCode).toBe(201);
    await apiA.job('x', 'g', { misfire: { policy: 'fire_all', catchUpWindowMs: 60_000 } });

    // The follower plans the job and sees the leader's fires through jobstate/.
    const seen = await waitFor(
      () => apiB.plan(),
      (p) => p.items[0]?.previousFireAt !== null && p.items.length === 1,
    );
    expect(seen).toMatchObject({ node: 'b', leader: 'a', firing: false });
    expect((await apiA.plan()).firing).toBe(true);

    await sleep(1500);
    await a.stop(); // resigns: b leads at once
    const store = b.app.get<CoordinationStore>(COORDINATION_STORE);
    const before = (await executions(store, 'x')).length;
    await waitFor(
      () => executions(store, 'x'),
      (list) => list.length >= before + 3,
    );
    const page = await apiB.plan();
    expect(page).toMatchObject({ leader: 'b', firing: true });

    const fired = await executions(store, 'x');
    const times = fired.map((record) => record.scheduledMs);
    for (let i = 1; i < times.length; i++) expect(times[i] - times[i - 1]).toBe(1000);
    expect(new Set(fired.map((record) => record.firedBy.node))).toEqual(new Set(['a', 'b']));
  });
});
