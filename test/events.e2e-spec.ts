import { AddressInfo } from 'node:net';
import { ForestWorker } from '@forest/worker';
import { EventHub } from '../src/events/event-hub.service';
import { startTestApp, TestApp } from './support/app-harness';
import { ADMIN_TOKEN, call, createToken, jobBody } from './auth/auth-test-support';
import { openSse, SseStream } from './support/sse-client';
import { eventually } from './support/wait';

const quiet = { log: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * GET /api/events through a real socket (SSE needs one: inject waits for the end of an
 * answer): a job's executions as a real worker runs them, workers coming and going, group
 * scope, the stream cap, and the shared watch released when the last client leaves.
 */
describe('GET /api/events (live server-sent events)', () => {
  let subject: TestApp;
  let base: string;
  let hub: EventHub;
  let scopedToken: string;
  let viewerToken: string;
  const open: SseStream[] = [];

  const admin = { token: ADMIN_TOKEN };
  const stream = async (query = '', token = ADMIN_TOKEN, headers: Record<string, string> = {}) => {
    const opened = await openSse(`${base}/api/events${query}`, {
      authorization: `Bearer ${token}`,
      ...headers,
    });
    open.push(opened);
    return opened;
  };
  const closeAll = () => {
    for (const s of open.splice(0)) s.close();
  };

  beforeAll(async () => {
    subject = await startTestApp({
      store: 'embedded',
      env: {
        FOREST_AUTH: 'on',
        FOREST_ADMIN_TOKEN: ADMIN_TOKEN,
        FOREST_EVENTS_MAX_STREAMS: '3',
        FOREST_LEASE_TTL_S: '2',
      },
    });
    await subject.app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(subject.app.getHttpServer().address() as AddressInfo).port}`;
    hub = subject.app.get(EventHub);
    for (const group of ['ev', 'other']) {
      expect(
        (await call(subject.app, 'POST', '/api/groups', { ...admin, payload: { name: group } }))
          .statusCode,
      ).toBe(201);
    }
    for (const [id, group] of [
      ['ev-job', 'ev'],
      ['other-job', 'other'],
    ]) {
      const created = await call(subject.app, 'POST', '/api/jobs', {
        ...admin,
        payload: jobBody(id, group, { target: 'echo', state: 'paused' }),
      });
      expect(created.statusCode).toBe(201);
    }
    scopedToken = (
      await createToken(subject.app, { name: 'ev-other', role: 'viewer', groups: ['other'] })
    ).token;
    viewerToken = (await createToken(subject.app, { name: 'ev-viewer', role: 'viewer' })).token;
  });

  afterEach(async () => {
    closeAll();
    await eventually(() => Promise.resolve().then(() => expect(hub.streamCount).toBe(0)), 5000);
  });

  afterAll(async () => {
    await subject?.close();
  });

  const trigger = async (jobId: string): Promise<string> => {
    const answer = await call(subject.app, 'POST', `/api/jobs/${jobId}/trigger`, {
      ...admin,
      payload: {},
    });
    expect(answer.statusCode).toBe(201);
    return answer.body.id as string;
  };

  const startWorker = async (group: string) => {
    const worker = new ForestWorker({
      nodes: [base],
      group,
      token: ADMIN_TOKEN,
      concurrency: 2,
      pollWaitMs: 500,
      handlers: { echo: () => 'ok' },
      logger: quiet,
    });
    await worker.start();
    return worker;
  };

  it("sends a job's executions as a real worker runs them, and workers registering and leaving", async () => {
    const events = await stream();
    expect(events.status).toBe(200);
    expect(events.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const worker = await startWorker('ev');
    const registered = await events.next(
      (e) => e.event === 'worker' && e.data.change === 'registered',
    );
    expect(registered.data).toMatchObject({
      group: 'ev',
      capacity: expect.any(Number),
      host: expect.any(String),
    });
    const workerId = registered.data.workerId as string;
    const id = await trigger('ev-job');
    const done = await events.next(
      (e) => e.event === 'execution' && e.data.id === id && e.data.status === 'succeeded',
    );
    expect(done.data).toMatchObject({
      jobId: 'ev-job',
      jobName: 'job ev-job',
      group: 'ev',
      trigger: 'manual',
      attempt: 1,
      worker: workerId,
    });
    expect(done.data.finishedAt).toEqual(expect.any(String));
    expect(done.data).not.toHaveProperty('params');
    expect(done.data).not.toHaveProperty('output');
    const statuses = events.events
      .filter((e) => e.event === 'execution' && e.data.id === id)
      .map((e) => e.data.status);
    expect(statuses[0]).toBe('pending');
    // Ids are store revisions, ascending.
    const ids = events.events.filter((e) => e.event === 'execution').map((e) => Number(e.id));
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
    await worker.stop({ timeoutMs: 2000 });
    const left = await events.next((e) => e.event === 'worker' && e.data.change === 'left');
    expect(left.data).toMatchObject({ group: 'ev', workerId });
  });

  it('resumes after Last-Event-ID with the changes missed while disconnected', async () => {
    const first = await stream('?types=execution');
    const a = await trigger('ev-job');
    const seen = await first.next((e) => e.data.id === a);
    first.close();
    const b = await trigger('ev-job');
    const resumed = await stream('?types=execution', ADMIN_TOKEN, { 'last-event-id': seen.id! });
    const missed = await resumed.next((e) => e.data.id === b);
    expect(Number(missed.id)).toBeGreaterThan(Number(seen.id));
    expect(resumed.events.some((e) => e.event === 'reset')).toBe(false);
  });

  it('filters by type, group and job, and shows a group-limited token only its groups', async () => {
    const scoped = await stream('?types=execution', scopedToken);
    const byJob = await stream('?types=execution&jobId=ev-job', viewerToken);
    const evId = await trigger('ev-job');
    const otherId = await trigger('other-job');
    await scoped.next((e) => e.data.id === otherId);
    await byJob.next((e) => e.data.id === evId);
    // Each stream got the later trigger's event; the earlier one, had it passed the
    // filters, came before it (one feed delivers in revision order).
    expect(scoped.events.every((e) => e.event === 'execution' && e.data.group === 'other')).toBe(
      true,
    );
    expect(byJob.events.every((e) => e.event === 'execution' && e.data.jobId === 'ev-job')).toBe(
      true,
    );
  });

  it('refuses what nothing acts on and callers without a token', async () => {
    for (const query of ['?types=execution,bogus', '?unknown=1', '?group=a%2Fb']) {
      const answer = await fetch(`${base}/api/events${query}`, {
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      });
      expect(answer.status).toBe(400);
      expect(((await answer.json()) as { code: string }).code).toBe('VALIDATION_FAILED');
    }
    const badId = await fetch(`${base}/api/events`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'last-event-id': 'x' },
    });
    expect(badId.status).toBe(400);
    expect((await fetch(`${base}/api/events`)).status).toBe(401);
    expect(hub.streamCount).toBe(0);
  });

  it('caps concurrent streams (429 with Retry-After) and releases the shared watch when the last client leaves', async () => {
    const streams = [
      await stream('?types=execution'),
      await stream('?types=execution'),
      await stream('?types=worker'),
    ];
    expect(hub.openFeeds().sort()).toEqual(['execution', 'worker']);
    const refused = await fetch(`${base}/api/events`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(((await refused.json()) as { status: number }).status).toBe(429);
    streams[2].close();
    await eventually(
      () => Promise.resolve().then(() => expect(hub.openFeeds()).toEqual(['execution'])),
      5000,
    );
    streams[0].close();
    await eventually(() => Promise.resolve().then(() => expect(hub.streamCount).toBe(1)), 5000);
    expect(hub.openFeeds()).toEqual(['execution']);
    streams[1].close();
    await eventually(() => Promise.resolve().then(() => expect(hub.openFeeds()).toEqual([])), 5000);
    // Room again.
    const again = await stream('?types=node');
    expect(again.status).toBe(200);
  });

  it('ends open streams cleanly when the node shuts down', async () => {
    const node = await startTestApp({ store: 'embedded', env: { FOREST_LEASE_TTL_S: '2' } });
    try {
      await node.app.listen(0, '127.0.0.1');
      const port = (node.app.getHttpServer().address() as AddressInfo).port;
      const events = await openSse(`http://127.0.0.1:${port}/api/events?types=node`);
      expect(events.status).toBe(200);
      await node.stop();
      await events.ended;
      expect(node.app.get(EventHub).openFeeds()).toEqual([]);
    } finally {
      await node.close();
    }
  });
});
