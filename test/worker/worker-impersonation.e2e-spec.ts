import { createHash } from 'node:crypto';
import {
  Assignment,
  ExecutionRecord,
  executionKeyOf,
  Keyspace,
  PollResponse,
  RegisterWorkerResponse,
  WorkerRecord,
} from '@forest/protocol';
import { CoordinationStore, rangeAll } from '@forest/store';
import { COORDINATION_STORE } from '../../src/store/store.tokens';
import { WorkerSessions } from '../../src/worker-gateway/worker-sessions.service';
import { startTestApp, TestApp } from '../support/app-harness';
import { eventually, sleep, waitFor } from '../support/wait';
import { WorkerFleet } from '../support/worker-fleet';

const ADMIN = 'test-admin-token-0123456789abcdefghijklmnop';

type Method = 'GET' | 'POST' | 'DELETE';

/**
 * The attack of the security issue, against one node with FOREST_AUTH=on: worker ids are
 * listed by GET /api/workers, so an attacker knows the victim's id; with it (and its own or
 * no credentials) it tries the victim's heartbeat, poll (params included), a forged
 * `succeeded` report and the victim's eviction. Each is refused and changes nothing; the
 * victim, with its own session secret, goes on working.
 */
describe('worker credentials (FOREST_AUTH=on)', () => {
  let node: TestApp;
  let store: CoordinationStore;
  let groups = 0;

  beforeAll(async () => {
    node = await startTestApp({
      store: 'embedded',
      env: {
        FOREST_AUTH: 'on',
        FOREST_ADMIN_TOKEN: ADMIN,
        FOREST_FIRE_LOOKAHEAD_MS: '0',
        FOREST_WORKER_TTL_S: '3',
      },
    });
    store = node.app.get(COORDINATION_STORE);
  });

  afterAll(async () => {
    await node?.close();
  });

  function call(method: Method, url: string, bearer?: string, payload?: object) {
    const headers = bearer === undefined ? {} : { authorization: `Bearer ${bearer}` };
    return node.app.inject({ method, url, payload, headers });
  }

  async function newGroup(): Promise<string> {
    const name = `imp${++groups}`;
    expect((await call('POST', '/api/groups', ADMIN, { name })).statusCode).toBe(201);
    return name;
  }

  /** A worker token through the tokens API (the admin creates it). */
  async function workerToken(name: string, groupsOfToken?: string[]): Promise<string> {
    const response = await call('POST', '/api/tokens', ADMIN, {
      name,
      role: 'worker',
      ...(groupsOfToken ? { groups: groupsOfToken } : {}),
    });
    expect(response.statusCode).toBe(201);
    return response.json<{ token: string }>().token;
  }

  function registration(group: string, bearer: string | undefined, host = 'shared-host') {
    return call('POST', '/api/workers', bearer, {
      group,
      targets: ['t'],
      capacity: 5,
      host,
      pid: 1,
    });
  }

  async function register(group: string, bearer: string, host?: string) {
    const response = await registration(group, bearer, host);
    expect(response.statusCode).toBe(201);
    return response.json<RegisterWorkerResponse>();
  }

  async function execution(id: string): Promise<ExecutionRecord> {
    return JSON.parse((await store.get(executionKeyOf(id)!))!.value) as ExecutionRecord;
  }

  async function workerRecord(group: string, workerId: string): Promise<WorkerRecord | undefined> {
    const kv = await store.get(Keyspace.worker(group, workerId));
    return kv ? (JSON.parse(kv.value) as WorkerRecord) : undefined;
  }

  /** One job with secret params, fired once and assigned to the only worker of `group`. */
  async function assignedExecution(group: string, workerId: string, secret: string) {
    const job = `${group}-job`;
    const created = await call('POST', '/api/jobs', ADMIN, {
      id: job,
      name: job,
      group,
      target: 't',
      schedule: { cron: '0 0 1 1 *' },
      params: { apiKey: 'params-only-the-victim-may-see' },
    });
    expect(created.statusCode).toBe(201);
    expect((await call('POST', `/api/jobs/${job}/trigger`, ADMIN)).statusCode).toBeLessThan(300);
    const assignment = await waitFor<Assignment | undefined>(
      async () => {
        const poll = await call(
          'GET',
          `/api/workers/${group}/${workerId}/assignments?waitMs=200`,
          secret,
        );
        return poll.json<PollResponse>().assignments[0];
      },
      (found) => found !== undefined,
    );
    expect(assignment).toBeDefined();
    return assignment!;
  }

  it('needs a worker token of the group (or an admin token) to register', async () => {
    const a = await newGroup();
    const b = await newGroup();
    const tokenA = await workerToken(`worker-${a}`, [a]);

    const none = await registration(a, undefined);
    expect(none.statusCode).toBe(401);
    expect(none.json()).toMatchObject({ code: 'UNAUTHENTICATED' });
    expect((await registration(a, 'not-a-token')).statusCode).toBe(401);

    // A worker token of group A registers in A, never in B.
    expect((await registration(a, tokenA)).statusCode).toBe(201);
    const other = await registration(b, tokenA);
    expect(other.statusCode).toBe(403);
    expect(other.json()).toMatchObject({ code: 'GROUP_OUT_OF_SCOPE' });
    expect(other.body).not.toContain(tokenA);
    // Nor in a group that does not exist (no 404 telling which groups exist).
    expect((await registration('no-such-group', tokenA)).statusCode).toBe(403);

    // Other roles may not register at all; an admin token may, in any group.
    for (const role of ['viewer', 'operator']) {
      const created = await call('POST', '/api/tokens', ADMIN, { name: `${role}-${a}`, role });
      const refused = await registration(a, created.json<{ token: string }>().token);
      expect(refused.statusCode).toBe(403);
      expect(refused.json()).toMatchObject({ code: 'FORBIDDEN' });
    }
    expect((await registration(b, ADMIN)).statusCode).toBe(201);
    // A worker token without groups registers in every group.
    expect((await registration(b, await workerToken(`worker-any-${b}`))).statusCode).toBe(201);

    // Worker tokens are for registering only: the rest of the API is closed to them.
    expect((await call('GET', '/api/workers', tokenA)).statusCode).toBe(403);
    expect((await call('GET', '/api/jobs', tokenA)).statusCode).toBe(403);
  });

  it('returns an unguessable worker id and a session secret; the store keeps only its hash, the API shows neither', async () => {
    const g = await newGroup();
    const token = await workerToken(`worker-${g}`, [g]);
    const first = await register(g, token, 'billing host.example.com');
    const second = await register(g, token, 'billing host.example.com');

    // {host slug}-{80 random bits}-{lease}: not the host name + a counter.
    for (const worker of [first, second]) {
      expect(worker.workerId).toMatch(/^billing-host\.example\.com-[a-z2-7]{16}-\d+$/);
      expect(worker.workerId.length).toBeLessThanOrEqual(64);
      expect(worker.sessionSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    }
    const randomOf = (id: string) => id.split('-').at(-2);
    expect(randomOf(first.workerId)).not.toBe(randomOf(second.workerId));
    expect(first.sessionSecret).not.toBe(second.sessionSecret);

    const record = await workerRecord(g, first.workerId);
    expect(record?.sessionSecretSha256).toBe(
      createHash('sha256').update(first.sessionSecret).digest('hex'),
    );
    // The secret itself is nowhere in the store.
    for (const kv of await rangeAll(store, '')) {
      expect(kv.value).not.toContain(first.sessionSecret);
      expect(kv.value).not.toContain(second.sessionSecret);
    }

    const listed = await call('GET', `/api/workers?group=${g}`, ADMIN);
    expect(listed.statusCode).toBe(200);
    const workers = listed.json<{ items: Record<string, unknown>[] }>().items;
    expect(workers).toHaveLength(2);
    for (const worker of workers) {
      expect(Object.keys(worker).sort()).toEqual([
        'capacity',
        'group',
        'host',
        'id',
        'labels',
        'lastHeartbeatAt',
        'load',
        'node',
        'pid',
        'registeredAt',
        'targets',
      ]);
    }
    expect(listed.body).not.toContain(record!.sessionSecretSha256);
    expect(listed.body).not.toContain(first.sessionSecret);

    // A reader limited to other groups sees none of them.
    const elsewhere = await newGroup();
    const created = await call('POST', '/api/tokens', ADMIN, {
      name: `viewer-${elsewhere}`,
      role: 'viewer',
      groups: [elsewhere],
    });
    const viewer = created.json<{ token: string }>().token;
    const all = (await call('GET', '/api/workers', viewer)).json<{ items: { group: string }[] }>();
    expect(all.items.filter((w) => w.group !== elsewhere)).toEqual([]);
    expect((await call('GET', `/api/workers?group=${g}`, viewer)).json()).toEqual({ items: [] });
  });

  it('refuses heartbeat, poll, reports and eviction of a worker to anyone but that worker, changing nothing', async () => {
    const g = await newGroup();
    const token = await workerToken(`worker-${g}`, [g]);
    const victim = await register(g, token);
    const assignment = await assignedExecution(g, victim.workerId, victim.sessionSecret);
    const id = assignment.executionId;
    // The attacker is a legitimate worker of the same group, registered with the same token.
    const attacker = await register(g, token);

    const before = {
      execution: await execution(id),
      worker: await workerRecord(g, victim.workerId),
      assignment: await store.get(Keyspace.assignment(g, victim.workerId, id)),
    };
    expect(before.execution.status).toBe('assigned');
    expect(before.assignment).toBeDefined();

    const base = `/api/workers/${g}/${victim.workerId}`;
    const tampered = `${victim.sessionSecret.slice(0, -1)}${victim.sessionSecret.endsWith('A') ? 'B' : 'A'}`;
    const credentials: [string, string | undefined, number, string][] = [
      ['no credentials', undefined, 401, 'WORKER_UNAUTHENTICATED'],
      ['the attacker\u2019s own session secret', attacker.sessionSecret, 403, 'WORKER_FORBIDDEN'],
      ['a secret one character off', tampered, 403, 'WORKER_FORBIDDEN'],
      ['the worker token', token, 403, 'WORKER_FORBIDDEN'],
      ['the admin token', ADMIN, 403, 'WORKER_FORBIDDEN'],
      ['the hash of the secret', before.worker!.sessionSecretSha256, 403, 'WORKER_FORBIDDEN'],
    ];
    for (const [what, bearer, status, code] of credentials) {
      const attempts = [
        call('POST', `${base}/heartbeat`, bearer, { held: [id] }),
        call('GET', `${base}/assignments?waitMs=0`, bearer),
        call('POST', `${base}/reports`, bearer, {
          reports: [{ executionId: id, status: 'succeeded', output: 'forged' }],
        }),
        call('POST', `${base}/executions/${id}/report`, bearer, {
          status: 'succeeded',
          output: 'forged',
        }),
        call('DELETE', base, bearer),
      ];
      for (const response of await Promise.all(attempts)) {
        expect({
          what,
          status: response.statusCode,
          code: response.json<{ code: string }>().code,
        }).toEqual({ what, status, code });
        expect(response.body).not.toContain('params-only-the-victim-may-see');
      }
    }
    const refused = await call('POST', `${base}/heartbeat`, undefined);
    expect(refused.headers['www-authenticate']).toMatch(/^Bearer/);

    // The attacker under its own id: the victim's execution is not its to report.
    const own = await call(
      'POST',
      `/api/workers/${g}/${attacker.workerId}/reports`,
      attacker.sessionSecret,
      { reports: [{ executionId: id, status: 'succeeded', output: 'forged' }] },
    );
    expect(own.json()).toEqual({
      results: [{ executionId: id, outcome: 'conflict', message: expect.any(String) }],
    });

    // Nothing changed: the execution, the victim's inbox and its registration are as before.
    expect(await execution(id)).toEqual(before.execution);
    expect(await store.get(Keyspace.assignment(g, victim.workerId, id))).toEqual(before.assignment);
    expect(await workerRecord(g, victim.workerId)).toEqual(before.worker);
    const listed = await call('GET', `/api/workers?group=${g}`, ADMIN);
    expect(
      listed
        .json<{ items: { id: string }[] }>()
        .items.map((w) => w.id)
        .sort(),
    ).toEqual([victim.workerId, attacker.workerId].sort());

    // The victim, with its own secret, still works: it sees its params, reports, leaves.
    const own1 = await call('GET', `${base}/assignments?waitMs=0`, victim.sessionSecret);
    expect(own1.statusCode).toBe(200);
    expect(own1.json<PollResponse>().assignments[0]).toMatchObject({
      executionId: id,
      params: { apiKey: 'params-only-the-victim-may-see' },
    });
    const heartbeat = await call('POST', `${base}/heartbeat`, victim.sessionSecret, { held: [id] });
    expect(heartbeat.json()).toEqual({ leaseTtlS: expect.any(Number), abort: [] });
    const done = await call('POST', `${base}/reports`, victim.sessionSecret, {
      reports: [
        { executionId: id, status: 'running' },
        { executionId: id, status: 'succeeded', output: 'real' },
      ],
    });
    expect(done.json<{ results: { outcome: string }[] }>().results.map((r) => r.outcome)).toEqual([
      'accepted',
      'accepted',
    ]);
    expect(await execution(id)).toMatchObject({
      status: 'succeeded',
      output: 'real',
      worker: victim.workerId,
    });
    expect((await call('DELETE', base, victim.sessionSecret)).statusCode).toBe(204);
    // Gone: its own secret now finds no worker (the session ended with the lease).
    const after = await call('POST', `${base}/heartbeat`, victim.sessionSecret);
    expect(after.statusCode).toBe(404);
    expect(after.json()).toMatchObject({ code: 'WORKER_NOT_FOUND' });
  });

  it('verifies reports from a cache (no store read per batch) that never takes a wrong secret and ends with the lease', async () => {
    const g = await newGroup();
    const worker = await register(g, ADMIN);
    const base = `/api/workers/${g}/${worker.workerId}`;
    const batch = { reports: [{ executionId: `${g}-x~000000000000001`, status: 'running' }] };
    // The first call reads the worker's record; the next ones do not.
    expect((await call('POST', `${base}/reports`, worker.sessionSecret, batch)).statusCode).toBe(
      200,
    );
    const get = jest.spyOn(store, 'get');
    try {
      for (let i = 0; i < 20; i++) {
        const response = await call('POST', `${base}/reports`, worker.sessionSecret, batch);
        expect(response.json()).toEqual({
          results: [
            {
              executionId: batch.reports[0].executionId,
              outcome: 'not_found',
              message: expect.any(String),
            },
          ],
        });
      }
      const workerReads = get.mock.calls.filter(
        ([key]) => key === Keyspace.worker(g, worker.workerId),
      );
      expect(workerReads).toEqual([]);
    } finally {
      get.mockRestore();
    }
    expect(node.app.get(WorkerSessions).cachedSessions).toBeGreaterThan(0);
    // Cached or not, a wrong secret is refused.
    const wrong = await call('POST', `${base}/reports`, `${worker.sessionSecret}x`, batch);
    expect(wrong.statusCode).toBe(403);

    // Its lease runs out (no heartbeats for the 3 s TTL): the cached session ends with it.
    const gone = await waitFor(
      async () => (await workerRecord(g, worker.workerId)) === undefined,
      (yes) => yes,
      10_000,
    );
    expect(gone).toBe(true);
    await sleep(100); // the watch event
    const late = await call('POST', `${base}/reports`, worker.sessionSecret, batch);
    expect(late.statusCode).toBe(404);
    expect(late.json()).toMatchObject({ code: 'WORKER_NOT_FOUND' });
  });
});

describe('the worker SDK against a node with FOREST_AUTH=on', () => {
  let node: TestApp;
  let fleet: WorkerFleet | undefined;

  beforeAll(async () => {
    node = await startTestApp({
      store: 'embedded',
      env: { FOREST_AUTH: 'on', FOREST_ADMIN_TOKEN: ADMIN, FOREST_FIRE_LOOKAHEAD_MS: '0' },
    });
    await node.app.listen(0, '127.0.0.1');
  });

  afterAll(async () => {
    await fleet?.stopAll();
    await node?.close();
  });

  it('registers with a worker token, runs a job under its session secret, and leaves', async () => {
    const call = (method: Method, url: string, payload?: object) =>
      node.app.inject({ method, url, payload, headers: { authorization: `Bearer ${ADMIN}` } });
    expect((await call('POST', '/api/groups', { name: 'sdk' })).statusCode).toBe(201);
    const created = await call('POST', '/api/tokens', {
      name: 'sdk-workers',
      role: 'worker',
      groups: ['sdk'],
    });
    const token = created.json<{ token: string }>().token;
    const port = (node.app.getHttpServer().address() as { port: number }).port;
    fleet = new WorkerFleet(
      `http://127.0.0.1:${port}`,
      'sdk',
      { t: (ctx) => `hello ${(ctx.params as { name: string }).name}` },
      200,
      { token, readToken: ADMIN },
    );
    const worker = await fleet.add({ name: 'sdk-host' });
    expect(worker.id).toMatch(/^sdk-host-[a-z2-7]{16}-\d+$/);
    expect(
      (
        await call('POST', '/api/jobs', {
          id: 'sdk-job',
          name: 'sdk-job',
          group: 'sdk',
          target: 't',
          schedule: { cron: '0 0 1 1 *' },
          params: { name: 'Forest' },
        })
      ).statusCode,
    ).toBe(201);
    const triggered = await call('POST', '/api/jobs/sdk-job/trigger');
    const id = triggered.json<{ id: string }>().id;
    await eventually(async () => {
      const execution = (await call('GET', `/api/executions/${id}`)).json<ExecutionRecord>();
      expect(execution).toMatchObject({ status: 'succeeded', worker: worker.id });
      expect(execution.output).toContain('hello Forest');
    }, 10_000);
    await fleet.stopAll();
    fleet = undefined;
    expect((await call('GET', '/api/workers?group=sdk')).json()).toEqual({ items: [] });
  });
});

describe('worker credentials (FOREST_AUTH=off)', () => {
  let node: TestApp;

  beforeAll(async () => {
    node = await startTestApp({ store: 'embedded' });
  });

  afterAll(async () => {
    await node?.close();
  });

  it('registers without a token, and still needs the session secret on every later call', async () => {
    const call = (method: Method, url: string, bearer?: string, payload?: object) =>
      node.app.inject({
        method,
        url,
        payload,
        headers: bearer === undefined ? {} : { authorization: `Bearer ${bearer}` },
      });
    expect((await call('POST', '/api/groups', undefined, { name: 'open' })).statusCode).toBe(201);
    const register = async () => {
      const response = await call('POST', '/api/workers', undefined, {
        group: 'open',
        targets: ['t'],
        capacity: 1,
        host: 'h',
        pid: 1,
      });
      expect(response.statusCode).toBe(201);
      return response.json<RegisterWorkerResponse>();
    };
    const a = await register();
    const b = await register();
    const base = `/api/workers/open/${a.workerId}`;
    for (const [bearer, status] of [
      [undefined, 401],
      [b.sessionSecret, 403],
    ] as const) {
      expect((await call('POST', `${base}/heartbeat`, bearer)).statusCode).toBe(status);
      expect((await call('GET', `${base}/assignments?waitMs=0`, bearer)).statusCode).toBe(status);
      expect(
        (
          await call('POST', `${base}/reports`, bearer, {
            reports: [{ executionId: 'j~1', status: 'running' }],
          })
        ).statusCode,
      ).toBe(status);
      expect((await call('DELETE', base, bearer)).statusCode).toBe(status);
    }
    expect((await call('POST', `${base}/heartbeat`, a.sessionSecret)).statusCode).toBe(200);
    expect((await call('DELETE', base, a.sessionSecret)).statusCode).toBe(204);
  });
});
