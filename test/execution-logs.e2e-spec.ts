import { AddressInfo } from 'node:net';
import { ForestWorker, type ForestJobContext } from '@forest/worker';
import { LogFollowHub } from '../src/execution-logs/log-follow-hub.service';
import { startTestApp, TestApp } from './support/app-harness';
import { EtcdHarness } from './support/etcd-harness';
import { ADMIN_TOKEN, call, createToken, Json, jobBody } from './auth/auth-test-support';
import { openSse, SseStream } from './support/sse-client';
import { eventually } from './support/wait';

const quiet = { log: () => undefined, warn: () => undefined, error: () => undefined };
const GROUP = 'logs';

/** A handler that logs, then waits until the test lets it go on. */
class GatedHandler {
  private gates = new Map<string, () => void>();
  readonly finished = new Set<string>();

  readonly handle = async (ctx: ForestJobContext): Promise<string> => {
    ctx.logger.info('first line of', ctx.executionId);
    await new Promise<void>((resolve, reject) => {
      this.gates.set(ctx.executionId, resolve);
      // A test that never opens the gate fails rather than hangs.
      setTimeout(() => reject(new Error('the test never opened the gate')), 20_000).unref();
    });
    ctx.logger.warn('last line');
    this.finished.add(ctx.executionId);
    return 'done';
  };

  waiting(id: string): boolean {
    return this.gates.has(id);
  }

  open(id: string): void {
    this.gates.get(id)?.();
  }
}

/**
 * Live execution logs on the embedded store (logs in the node's memory), through the HTTP
 * API and a real socket, with a real in-process ForestWorker: lines a handler writes are
 * followable while it runs, the stream ends after it, access follows the execution's, and
 * the worker endpoint takes lines only for executions in the posting worker's inbox.
 */
describe('live execution logs (embedded store)', () => {
  let node: TestApp;
  let base: string;
  let hub: LogFollowHub;
  let worker: ForestWorker;
  const handler = new GatedHandler();
  const streams: SseStream[] = [];
  const admin = { token: ADMIN_TOKEN };

  const follow = async (id: string, token = ADMIN_TOKEN, headers: Record<string, string> = {}) => {
    const stream = await openSse(`${base}/api/executions/${id}/logs/follow`, {
      authorization: `Bearer ${token}`,
      ...headers,
    });
    streams.push(stream);
    return stream;
  };
  const trigger = async (jobId: string): Promise<string> => {
    const answer = await call(node.app, 'POST', `/api/jobs/${jobId}/trigger`, {
      ...admin,
      payload: {},
    });
    expect(answer.statusCode).toBe(201);
    return answer.body.id as string;
  };
  const status = async (id: string): Promise<string> =>
    (await call(node.app, 'GET', `/api/executions/${id}`, admin)).body.status as string;
  /** A manual run of the gated job, its handler started and waiting at its gate. */
  const startGatedRun = async (): Promise<string> => {
    const id = await trigger('gated');
    await eventually(() => Promise.resolve(expect(handler.waiting(id)).toBe(true)), 10_000);
    return id;
  };

  beforeAll(async () => {
    node = await startTestApp({
      store: 'embedded',
      env: {
        FOREST_AUTH: 'on',
        FOREST_ADMIN_TOKEN: ADMIN_TOKEN,
        FOREST_LOG_FOLLOW_MAX_STREAMS: '3',
        FOREST_AUTH_FAILURES_PER_MIN: '100000',
      },
    });
    await node.app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(node.app.getHttpServer().address() as AddressInfo).port}`;
    hub = node.app.get(LogFollowHub);
    for (const name of [GROUP, 'elsewhere']) {
      expect(
        (await call(node.app, 'POST', '/api/groups', { ...admin, payload: { name } })).statusCode,
      ).toBe(201);
    }
    const job = await call(node.app, 'POST', '/api/jobs', {
      ...admin,
      payload: jobBody('gated', GROUP, { target: 'gated', state: 'paused' }),
    });
    expect(job.statusCode).toBe(201);
    worker = new ForestWorker({
      nodes: [base],
      group: GROUP,
      token: ADMIN_TOKEN,
      concurrency: 4,
      pollWaitMs: 500,
      handlers: { gated: handler.handle },
      logger: quiet,
    });
    await worker.start();
  });

  afterEach(async () => {
    for (const stream of streams.splice(0)) stream.close();
    await eventually(() => Promise.resolve(expect(hub.streamCount).toBe(0)), 5000);
  });

  afterAll(async () => {
    await worker?.stop({ timeoutMs: 1000 });
    await node?.close();
  });

  it('delivers a line while the handler still runs, then the rest and `end` once it finished', async () => {
    const id = await startGatedRun();
    const stream = await follow(id);
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const first = await stream.next((e) => e.event === 'line');
    // Seen while the handler waits at its gate: it has not finished, nor has the execution.
    expect(handler.finished.has(id)).toBe(false);
    expect(await status(id)).not.toBe('succeeded');
    expect(first.id).toBe('1');
    expect(first.data).toMatchObject({ seq: 1, level: 'info', text: `first line of ${id}` });
    expect(first.data.atMs).toEqual(expect.any(Number));

    handler.open(id);
    const end = await stream.next((e) => e.event === 'end');
    expect(end.data).toEqual({ status: 'succeeded', lastSeq: 2 });
    await stream.ended;
    expect(stream.events.map((e) => [e.event, e.data.seq ?? null])).toEqual([
      ['line', 1],
      ['line', 2],
      ['end', null],
    ]);
    expect(stream.events[1].data).toMatchObject({ level: 'warn', text: 'last line' });

    // The lines stay readable page by page, and are still part of the output.
    const page = await call(node.app, 'GET', `/api/executions/${id}/logs?limit=1`, admin);
    expect(page.statusCode).toBe(200);
    expect(page.body).toEqual({ items: [first.data], next: 1 });
    const rest = await call(node.app, 'GET', `/api/executions/${id}/logs?after=1`, admin);
    expect(rest.body).toEqual({ items: [stream.events[1].data] });
    const execution = await call(node.app, 'GET', `/api/executions/${id}`, admin);
    expect(execution.body.output).toContain(`INFO first line of ${id}`);
    expect(execution.body.output).toContain('WARN last line');
    expect(worker.status.logLinesSent).toBeGreaterThanOrEqual(2);
  });

  it('resumes after Last-Event-ID, and ends at once for a finished execution', async () => {
    const id = await startGatedRun();
    handler.open(id);
    await eventually(async () => expect(await status(id)).toBe('succeeded'), 10_000);
    const resumed = await follow(id, ADMIN_TOKEN, { 'last-event-id': '1' });
    await resumed.ended;
    expect(resumed.events.map((e) => e.id ?? e.event)).toEqual(['2', 'end']);
  });

  it('gives each caller the access it has to the execution', async () => {
    const id = await startGatedRun();
    const outsider = (
      await createToken(node.app, { name: 'lg-outsider', role: 'viewer', groups: ['elsewhere'] })
    ).token;
    const viewer = (await createToken(node.app, { name: 'lg-viewer', role: 'viewer' })).token;
    const workerToken = (
      await createToken(node.app, { name: 'lg-worker', role: 'worker', groups: [GROUP] })
    ).token;
    for (const path of [`/api/executions/${id}/logs`, `/api/executions/${id}/logs/follow`]) {
      expect((await fetch(`${base}${path}`)).status).toBe(401);
      const forbidden = await fetch(`${base}${path}`, {
        headers: { authorization: `Bearer ${workerToken}` },
      });
      expect(forbidden.status).toBe(403);
      const hidden = await fetch(`${base}${path}`, {
        headers: { authorization: `Bearer ${outsider}` },
      });
      expect(hidden.status).toBe(404);
      expect(((await hidden.json()) as Json).code).toBe('EXECUTION_NOT_FOUND');
    }
    // A viewer without revealData sees that lines came, not what they say.
    const redacted = await follow(id, viewer);
    const line = await redacted.next((e) => e.event === 'line');
    expect(line.data).toMatchObject({ seq: 1, level: 'info', text: '[redacted]' });
    const page = await call(node.app, 'GET', `/api/executions/${id}/logs`, { token: viewer });
    expect(page.body.items).toEqual([line.data]);
    handler.open(id);
    await redacted.next((e) => e.event === 'end');
  });

  it('answers 404 for an unknown execution and 400 for what it cannot act on', async () => {
    const unknown = 'gated~001795485570000';
    expect((await call(node.app, 'GET', `/api/executions/${unknown}/logs`, admin)).statusCode).toBe(
      404,
    );
    const follow404 = await fetch(`${base}/api/executions/${unknown}/logs/follow`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(follow404.status).toBe(404);
    for (const query of ['?after=-1', '?limit=0', '?limit=5000', '?after=x', '?bogus=1']) {
      const answer = await call(node.app, 'GET', `/api/executions/${unknown}/logs${query}`, admin);
      expect(answer.statusCode).toBe(400);
    }
    const badId = await fetch(`${base}/api/executions/${unknown}/logs/follow`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'last-event-id': 'nope' },
    });
    expect(badId.status).toBe(400);
    expect(hub.streamCount).toBe(0);
  });

  it('caps follow streams per node (429 with Retry-After) and frees a slot when a client leaves', async () => {
    const id = await startGatedRun();
    const open = [await follow(id), await follow(id), await follow(id)];
    await eventually(() => Promise.resolve(expect(hub.streamCount).toBe(3)), 5000);
    const refused = await fetch(`${base}/api/executions/${id}/logs/follow`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('5');
    open[0].close();
    await eventually(() => Promise.resolve(expect(hub.streamCount).toBe(2)), 5000);
    const admitted = await follow(id);
    expect(admitted.status).toBe(200);
    handler.open(id);
    await Promise.all([open[1], open[2], admitted].map((s) => s.ended));
    expect(hub.streamCount).toBe(0);
  });

  describe('the worker endpoint', () => {
    let other: { workerId: string; sessionSecret: string };
    const post = (workerId: string, secret: string, payload: unknown) =>
      call(node.app, 'POST', `/api/workers/${GROUP}/${workerId}/logs`, {
        authorization: `Bearer ${secret}`,
        payload,
      });
    const batch = (
      executionId: string,
      lines: Json[] = [{ seq: 1, atMs: 1, level: 'info', text: 'x' }],
    ) => ({
      executions: [{ executionId, lines }],
    });

    beforeAll(async () => {
      const registered = await call(node.app, 'POST', '/api/workers', {
        ...admin,
        payload: { group: GROUP, targets: ['other'], capacity: 1, host: 'lg-host', pid: 1 },
      });
      expect(registered.statusCode).toBe(201);
      expect(registered.body.logs).toEqual({
        enabled: true,
        maxBytesPerExecution: 1048576,
        maxLinesPerExecution: 10000,
        maxLineBytes: 8192,
        maxLinesPerBatch: 1000,
      });
      other = { workerId: registered.body.workerId, sessionSecret: registered.body.sessionSecret };
    });

    it('refuses lines for an execution that is not in the posting worker\u2019s inbox', async () => {
      const id = await startGatedRun();
      const answer = await post(
        other.workerId,
        other.sessionSecret,
        batch(id, [{ seq: 99, atMs: Date.now(), level: 'error', text: 'forged' }]),
      );
      expect(answer.statusCode).toBe(200);
      expect(answer.body.results).toEqual([
        { executionId: id, outcome: 'conflict', stored: 0, dropped: 0 },
      ]);
      handler.open(id);
      await eventually(async () => expect(await status(id)).toBe('succeeded'), 10_000);
      const page = await call(node.app, 'GET', `/api/executions/${id}/logs`, admin);
      expect(page.body.items.map((l: Json) => l.text)).not.toContain('forged');
    });

    it('authenticates the worker and validates what it posts', async () => {
      const id = 'gated~001795485570000';
      expect((await post(other.workerId, 'wrong-secret', batch(id))).statusCode).toBe(403);
      const none = await call(node.app, 'POST', `/api/workers/${GROUP}/${other.workerId}/logs`, {
        payload: batch(id),
      });
      expect(none.statusCode).toBe(401);
      const bad: unknown[] = [
        {},
        { executions: [] },
        batch('not-an-id'),
        batch(id, []),
        batch(id, [{ seq: 0, atMs: 1, level: 'info', text: 'x' }]),
        batch(id, [{ seq: 1, atMs: 1, level: 'loud', text: 'x' }]),
        batch(id, [{ seq: 1, atMs: 1, level: 'info', text: 'x'.repeat(8193) }]),
        batch(id, [{ seq: 1, atMs: 1, level: 'info', text: 'é'.repeat(4097) }]), // 8194 bytes
        batch(id, [{ seq: 1, atMs: 1, level: 'info', text: 'x', extra: 1 }]),
        {
          executions: [0, 1].map((i) => ({
            executionId: `gated~00179548557000${i}`,
            lines: Array.from({ length: 600 }, (_, j) => ({
              seq: j + 1,
              atMs: 1,
              level: 'info',
              text: 'x',
            })),
          })),
        },
      ];
      for (const payload of bad) {
        const answer = await post(other.workerId, other.sessionSecret, payload);
        expect([answer.statusCode, answer.body.code]).toEqual([400, 'VALIDATION_FAILED']);
      }
      // A lone surrogate is a line like any other (the store keeps what it can encode).
      const odd = await post(
        other.workerId,
        other.sessionSecret,
        batch(id, [{ seq: 1, atMs: 1, level: 'info', text: '\ud800' }]),
      );
      expect(odd.statusCode).toBe(200);
    });
  });
});

describe('live execution logs on etcd without a history database', () => {
  let etcd: EtcdHarness;
  let node: TestApp;

  beforeAll(async () => {
    etcd = await EtcdHarness.start();
    node = await startTestApp({ store: 'etcd', etcdEndpoint: etcd.endpoint });
  });

  afterAll(async () => {
    await node?.close();
    await etcd?.stop();
  });

  it('tells workers not to send logs and answers 409 LOGS_NOT_KEPT', async () => {
    expect(
      (await call(node.app, 'POST', '/api/groups', { payload: { name: 'g' } })).statusCode,
    ).toBe(201);
    const registered = await call(node.app, 'POST', '/api/workers', {
      payload: { group: 'g', targets: ['t'], capacity: 1, host: 'h', pid: 1 },
    });
    expect(registered.body.logs).toMatchObject({ enabled: false });
    const id = 'job~001795485570000';
    const posted = await call(node.app, 'POST', `/api/workers/g/${registered.body.workerId}/logs`, {
      authorization: `Bearer ${registered.body.sessionSecret}`,
      payload: {
        executions: [{ executionId: id, lines: [{ seq: 1, atMs: 1, level: 'info', text: 'x' }] }],
      },
    });
    expect([posted.statusCode, posted.body.code]).toEqual([409, 'LOGS_NOT_KEPT']);
    for (const path of [`/api/executions/${id}/logs`, `/api/executions/${id}/logs/follow`]) {
      const answer = await call(node.app, 'GET', path);
      expect([answer.statusCode, answer.body.code]).toEqual([409, 'LOGS_NOT_KEPT']);
    }
  });
});
