import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { EtcdHarness } from '../support/etcd-harness';
import { NodeProcess } from '../support/node-process';

type Json = Record<string, any>;

/** A schedule that never fires during a test (midnight, January 1st). */
const NEVER = '0 0 1 1 *';

/**
 * A node process on a real etcd, and etcd stopped under it: every call that needs the
 * store — the worker protocol and API writes and reads — answers 503 STORE_UNAVAILABLE
 * with Retry-After in the one error shape, never a 500, and the node logs no stack. Once
 * etcd is back (same data dir), the node recovers by itself.
 */
describe('store outage: 503 everywhere, then recovery (node process, real etcd)', () => {
  let etcd: EtcdHarness;
  let node: NodeProcess;

  beforeAll(async () => {
    etcd = await EtcdHarness.start();
    node = await NodeProcess.start({
      FOREST_ETCD_ENDPOINTS: etcd.endpoint,
      FOREST_KEY_PREFIX: `/outage-${randomUUID().slice(0, 8)}`,
      FOREST_NODE_ID: 'outage-node',
      FOREST_ETCD_DIAL_TIMEOUT_MS: '1000',
      FOREST_LEASE_TTL_S: '3',
      FOREST_LOG_LEVEL: 'info',
    });
  });

  afterAll(async () => {
    await node?.stop();
    await etcd?.stop();
  });

  async function call(
    method: string,
    path: string,
    body?: unknown,
    secret?: string,
  ): Promise<{ status: number; headers: Headers; body: Json }> {
    const response = await fetch(`${node.baseUrl}${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(secret === undefined ? {} : { authorization: `Bearer ${secret}` }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      body: text ? JSON.parse(text) : {},
    };
  }

  async function eventually<T>(what: string, attempt: () => Promise<T | undefined>): Promise<T> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const result = await attempt().catch(() => undefined);
      if (result !== undefined) return result;
      if (Date.now() > deadline)
        throw new Error(`${what} did not happen within 20 s:\n${node.log}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  it('an upload the client aborts mid-body is no 500 and leaves no stack in the log', async () => {
    const logBefore = node.log.length;
    const { port } = new URL(node.baseUrl);
    await new Promise<void>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => {
        socket.write(
          'POST /api/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
            'Content-Length: 100000\r\n\r\n{"id":"half-',
        );
        setTimeout(() => {
          socket.destroy();
          resolve();
        }, 200);
      });
      socket.on('error', reject);
    });
    // The node stays well, and said nothing above debug about the aborted upload.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await call('GET', '/health')).status).toBe(200);
    const log = node.log.slice(logBefore);
    expect(log).not.toMatch(/INTERNAL|request failed|"level":50/);
    expect(log).not.toMatch(/(\n|\\n)\s+at [^\s]+ \(/);
  });

  it('answers 503 STORE_UNAVAILABLE with Retry-After while etcd is down, and recovers', async () => {
    // Set up while etcd is up: a group, a job, a worker with its session, an execution.
    await eventually('leadership', async () =>
      (await call('GET', '/api/nodes/self')).body.leader === true ? true : undefined,
    );
    expect((await call('POST', '/api/groups', { name: 'billing' })).status).toBe(201);
    const job = {
      id: 'nightly',
      name: 'nightly',
      group: 'billing',
      schedule: { cron: NEVER },
      target: 'report',
    };
    const createdJob = await call('POST', '/api/jobs', job);
    expect(createdJob.status).toBe(201);
    const version = createdJob.body.version as number;
    const registered = await call('POST', '/api/workers', {
      group: 'billing',
      targets: ['report'],
      capacity: 1,
      host: 'outage-host',
      pid: 1,
    });
    expect(registered.status).toBe(201);
    const { workerId, sessionSecret } = registered.body as {
      workerId: string;
      sessionSecret?: string;
    };
    const triggered = await call('POST', '/api/jobs/nightly/trigger', {});
    expect(triggered.status).toBe(201);
    const executionId = triggered.body.id as string;
    const worker = `/api/workers/billing/${workerId}`;
    const logBefore = node.log.length;

    await etcd.kill();

    const calls: Array<[string, string, unknown?, string?]> = [
      // The worker protocol, by hand (the session secret from the register answer).
      [
        'POST',
        '/api/workers',
        { group: 'billing', targets: ['report'], capacity: 1, host: 'h2', pid: 2 },
      ],
      ['POST', `${worker}/heartbeat`, { held: [] }, sessionSecret],
      [
        'POST',
        `${worker}/reports`,
        { reports: [{ executionId, status: 'running' }] },
        sessionSecret,
      ],
      [
        'POST',
        `${worker}/executions/${executionId}/report`,
        { status: 'succeeded' },
        sessionSecret,
      ],
      // API writes.
      ['POST', '/api/groups', { name: 'later' }],
      ['POST', '/api/jobs', { ...job, id: 'later' }],
      ['PATCH', '/api/jobs/nightly', { version, remark: 'x' }],
      ['POST', '/api/jobs/nightly/trigger', {}],
      ['POST', '/api/jobs/nightly/pause'],
      ['POST', `/api/executions/${executionId}/cancel`, {}],
      ['DELETE', '/api/jobs/nightly'],
      // Reads that need the store.
      ['GET', '/api/jobs/nightly'],
      ['GET', '/api/groups'],
      ['GET', `/api/executions/${executionId}`],
      ['GET', '/api/executions?jobId=nightly'],
      ['GET', '/api/audit'],
    ];
    // Twice: first while the etcd client still tries to connect, then with its circuit
    // breaker open (the error that used to be a 500).
    for (let round = 1; round <= 2; round++) {
      for (const [method, path, body, secret] of calls) {
        const answer = await call(method, path, body, secret);
        const label = `${method} ${path} (round ${round})`;
        expect({ label, status: answer.status, code: answer.body.code }).toEqual({
          label,
          status: 503,
          code: 'STORE_UNAVAILABLE',
        });
        expect(answer.body).toEqual({
          status: 503,
          code: 'STORE_UNAVAILABLE',
          message: expect.any(String),
        });
        const retryAfter = Number(answer.headers.get('retry-after'));
        expect(retryAfter).toBeGreaterThanOrEqual(1);
        expect(retryAfter).toBeLessThanOrEqual(5);
      }
    }
    // A poll is answered from the node's in-memory inbox, or refused; never a 500.
    const poll = await call('GET', `${worker}/assignments?waitMs=0`, undefined, sessionSecret);
    expect([200, 503]).toContain(poll.status);
    // Health says the store is down.
    expect((await call('GET', '/health')).status).toBe(503);

    const outageLog = node.log.slice(logBefore);
    expect(outageLog).not.toMatch(/INTERNAL|"level":50.*request failed/);
    // No stack traces: neither raw lines nor JSON-escaped ones.
    expect(outageLog).not.toMatch(/(\n|\\n)\s+at [^\s]+ \(/);
    expect(outageLog).toMatch(/STORE_UNAVAILABLE/);
    // The request lines of those 503s carry no credentials.
    expect(outageLog).toMatch(/"authorization":"\[Redacted\]"/);
    expect(node.log).not.toContain(sessionSecret);

    // etcd back on the same data dir: the node recovers by itself.
    await etcd.restart();
    await eventually('a write after the restart', async () =>
      (await call('POST', '/api/groups', { name: 'after-outage' })).status === 201
        ? true
        : undefined,
    );
    await eventually('leadership after the restart', async () =>
      (await call('GET', '/api/nodes/self')).body.leader === true ? true : undefined,
    );
    expect((await call('POST', '/api/jobs/nightly/pause')).status).toBe(200);
    expect((await call('GET', '/api/jobs/nightly')).body.state).toBe('paused');
    expect((await call('GET', '/health')).status).toBe(200);
  });
});
