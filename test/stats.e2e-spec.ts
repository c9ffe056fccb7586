import { AddressInfo } from 'node:net';
import { ForestWorker } from '@forest/worker';
import { ADMIN_TOKEN, call, createToken, jobBody } from './auth/auth-test-support';
import { startTestApp, TestApp } from './support/app-harness';
import { eventually } from './support/wait';

const quiet = { log: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * GET /api/stats/overview on a real node: executions a real worker finishes show up in the
 * current bucket by status, with their fire lag; work waiting for a worker is counted now;
 * a group-limited token sees only its groups.
 */
describe('GET /api/stats/overview', () => {
  let subject: TestApp;
  let worker: ForestWorker;
  let scopedToken: string;
  const admin = { token: ADMIN_TOKEN };

  beforeAll(async () => {
    subject = await startTestApp({
      store: 'embedded',
      env: { FOREST_AUTH: 'on', FOREST_ADMIN_TOKEN: ADMIN_TOKEN, FOREST_LEASE_TTL_S: '2' },
    });
    await subject.app.listen(0, '127.0.0.1');
    const port = (subject.app.getHttpServer().address() as AddressInfo).port;
    for (const group of ['st', 'idle']) {
      const created = await call(subject.app, 'POST', '/api/groups', {
        ...admin,
        payload: { name: group },
      });
      expect(created.statusCode).toBe(201);
    }
    for (const [id, group, target] of [
      ['st-ok', 'st', 'ok'],
      ['st-fail', 'st', 'fail'],
      ['idle-job', 'idle', 'ok'],
    ]) {
      const created = await call(subject.app, 'POST', '/api/jobs', {
        ...admin,
        payload: jobBody(id, group, { target, state: 'paused' }),
      });
      expect(created.statusCode).toBe(201);
    }
    scopedToken = (
      await createToken(subject.app, { name: 'st-idle', role: 'viewer', groups: ['idle'] })
    ).token;
    worker = new ForestWorker({
      nodes: [`http://127.0.0.1:${port}`],
      group: 'st',
      token: ADMIN_TOKEN,
      concurrency: 4,
      pollWaitMs: 500,
      handlers: {
        ok: () => 'fine',
        fail: () => {
          throw new Error('planned failure');
        },
      },
      logger: quiet,
    });
    await worker.start();
  });

  afterAll(async () => {
    await worker?.stop({ timeoutMs: 2000 });
    await subject?.close();
  });

  const overview = async (query = '', token = ADMIN_TOKEN) => {
    const answer = await call(subject.app, 'GET', `/api/stats/overview${query}`, { token });
    return answer;
  };
  const trigger = async (jobId: string) => {
    const answer = await call(subject.app, 'POST', `/api/jobs/${jobId}/trigger`, {
      ...admin,
      payload: {},
    });
    expect(answer.statusCode).toBe(201);
  };

  it('counts finished executions by status with fire lag, and what waits now', async () => {
    for (let i = 0; i < 3; i++) await trigger('st-ok');
    await trigger('st-fail');
    await trigger('idle-job');
    await trigger('idle-job');
    await eventually(async () => {
      const answer = await overview('?minutes=5');
      expect(answer.statusCode).toBe(200);
      expect(answer.body.totals).toMatchObject({ succeeded: 3, failed: 1 });
    }, 15_000);
    const { body } = await overview('?minutes=5');
    expect(body.bucketMs).toBe(60_000);
    expect(body.buckets.length).toBeGreaterThanOrEqual(5);
    expect(body.failed).toBe(1);
    expect(body.pending).toBe(2);
    expect(body.assignedOrRunning).toBe(0);
    const ran = body.buckets.filter(
      (b: { counts: { succeeded: number } }) => b.counts.succeeded > 0,
    );
    expect(ran.length).toBeGreaterThan(0);
    for (const bucket of ran) {
      expect(bucket.lagMs.max).toBeGreaterThanOrEqual(bucket.lagMs.p50);
      expect(bucket.lagMs.p99).toBeGreaterThanOrEqual(bucket.lagMs.p50);
    }
    // A day: coarser buckets, same totals.
    const day = (await overview('?minutes=1440')).body;
    expect(day.bucketMs).toBe(15 * 60_000);
    expect(day.buckets.length).toBeLessThanOrEqual(97);
    expect(day.totals).toEqual(body.totals);
  });

  it("shows a group-limited token only its groups' history and live counts", async () => {
    await eventually(async () => expect((await overview()).body.pending).toBe(2), 10_000);
    const scoped = await overview('', scopedToken);
    expect(scoped.statusCode).toBe(200);
    expect(scoped.body.totals.succeeded).toBe(0);
    expect(scoped.body.totals.failed).toBe(0);
    expect(scoped.body.pending).toBe(2);
  });

  it('refuses a window out of range and parameters nothing acts on', async () => {
    for (const query of ['?minutes=0', '?minutes=1441', '?minutes=abc', '?group=st']) {
      const answer = await overview(query);
      expect(answer.statusCode).toBe(400);
      expect(answer.body.code).toBe('VALIDATION_FAILED');
    }
    expect((await call(subject.app, 'GET', '/api/stats/overview')).statusCode).toBe(401);
  });
});
