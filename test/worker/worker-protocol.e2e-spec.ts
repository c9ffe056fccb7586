import {
  Assignment,
  ExecutionRecord,
  PollResponse,
  RegisterWorkerResponse,
} from '@forest/protocol';
import { CoordinationStore, rangeAll } from '@forest/store';
import { COORDINATION_STORE } from '../../src/store/store.tokens';
import { startTestApp, TestApp } from '../support/app-harness';
import { sleep, waitFor } from '../support/wait';

/**
 * The worker protocol over HTTP, driven by hand (no SDK) against one embedded node, which
 * is also the leader that fires and dispatches. Calls under a worker id carry the session
 * secret its registration returned (worker-impersonation.e2e-spec.ts covers refusals).
 */
describe('worker protocol', () => {
  let node: TestApp;
  let store: CoordinationStore;
  let group = 0;

  beforeAll(async () => {
    node = await startTestApp({
      store: 'embedded',
      // Fires written at their time keep these tests' counting simple.
      env: { FOREST_FIRE_LOOKAHEAD_MS: '0', FOREST_WORKER_TTL_S: '4' },
    });
    store = node.app.get(COORDINATION_STORE);
  });

  afterAll(async () => {
    await node?.close();
  });

  /** Session secrets by worker id, from registration: sent on every call under that id. */
  const secrets = new Map<string, string>();

  const call = (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object) => {
    const workerId = /^\/api\/workers\/[^/]+\/([^/?]+)/.exec(url)?.[1];
    const secret = workerId === undefined ? undefined : secrets.get(workerId);
    const headers = secret === undefined ? {} : { authorization: `Bearer ${secret}` };
    return node.app.inject({ method, url, payload, headers });
  };

  async function newGroup(): Promise<string> {
    const name = `g${++group}`;
    expect((await call('POST', '/api/groups', { name })).statusCode).toBe(201);
    return name;
  }

  async function job(g: string, id: string, extra: object = {}) {
    const body = {
      id,
      name: id,
      group: g,
      target: 't',
      schedule: { cron: '* * * * * *' },
      ...extra,
    };
    expect((await call('POST', '/api/jobs', body)).statusCode).toBe(201);
  }

  async function register(g: string, extra: object = {}): Promise<RegisterWorkerResponse> {
    const response = await call('POST', '/api/workers', {
      group: g,
      targets: ['t'],
      capacity: 10,
      host: 'test-host',
      pid: 1,
      ...extra,
    });
    expect(response.statusCode).toBe(201);
    const registered = response.json<RegisterWorkerResponse>();
    secrets.set(registered.workerId, registered.sessionSecret);
    return registered;
  }

  async function poll(g: string, workerId: string, query = 'waitMs=0'): Promise<PollResponse> {
    const response = await call('GET', `/api/workers/${g}/${workerId}/assignments?${query}`);
    expect(response.statusCode).toBe(200);
    return response.json<PollResponse>();
  }

  async function report(g: string, workerId: string, executionId: string, body: object) {
    return call('POST', `/api/workers/${g}/${workerId}/executions/${executionId}/report`, body);
  }

  /** Through the API: a final execution may have moved from the store to the history. */
  async function execution(id: string): Promise<ExecutionRecord> {
    const response = await call('GET', `/api/executions/${encodeURIComponent(id)}`);
    expect(response.statusCode).toBe(200);
    return response.json<ExecutionRecord>();
  }

  async function listedWorker(g: string, workerId: string) {
    const page = (await call('GET', `/api/workers?group=${g}`)).json<{
      items: {
        id: string;
        load: { assigned: number; running: number };
        lastHeartbeatAt?: string;
      }[];
    }>();
    return page.items.find((worker) => worker.id === workerId);
  }

  async function pause(id: string) {
    expect((await call('POST', `/api/jobs/${id}/pause`)).statusCode).toBe(200);
  }

  it('validates registration and names what to fix', async () => {
    const bad = await call('POST', '/api/workers', {
      group: 'no/slash',
      targets: [],
      capacity: 0,
      host: 'h',
      pid: -1,
      labels: { zone: 5 },
    });
    expect(bad.statusCode).toBe(400);
    for (const field of ['group', 'targets', 'capacity', 'pid', 'labels'])
      expect(bad.body).toContain(field);
    const missing = await call('POST', '/api/workers', {
      group: 'nope',
      targets: ['t'],
      capacity: 1,
      host: 'h',
      pid: 1,
    });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ code: 'GROUP_NOT_FOUND' });
  });

  it('keeps fires of a group without workers pending and dispatches them when one registers', async () => {
    const g = await newGroup();
    await job(g, `${g}-a`);
    await sleep(2200);
    await pause(`${g}-a`);
    const pending = await rangeAll(store, `pending/${g}/`);
    expect(pending.length).toBeGreaterThanOrEqual(2);

    const worker = await register(g);
    const { assignments } = await poll(g, worker.workerId, 'waitMs=3000');
    expect(assignments.map((a) => a.executionId).sort()).toEqual(
      pending.map((kv) => kv.key.split('/').pop()).sort(),
    );
    expect(await rangeAll(store, `pending/${g}/`)).toEqual([]);
    const record = await execution(assignments[0].executionId);
    expect(record).toMatchObject({ status: 'assigned', worker: worker.workerId });
    expect(record.timeline.map((t) => t.status)).toEqual(['pending', 'assigned']);
  });

  it('runs an execution through running and succeeded, recording output and duration', async () => {
    const g = await newGroup();
    const worker = await register(g);
    await job(g, `${g}-a`);
    const { assignments } = await poll(g, worker.workerId, 'waitMs=3000');
    await pause(`${g}-a`);
    const id = assignments[0].executionId;
    expect(assignments[0]).toMatchObject({
      jobId: `${g}-a`,
      target: 't',
      state: 'assigned',
      attempt: 1,
    });

    expect((await report(g, worker.workerId, id, { status: 'running' })).statusCode).toBe(200);
    // The workers list shows what it holds (the node's inbox mirror follows by a watch hop).
    const shown = await waitFor(
      () => listedWorker(g, worker.workerId),
      (listed) => listed?.load.running === 1,
    );
    expect(shown?.load).toEqual({ assigned: assignments.length - 1, running: 1 });
    await sleep(50);
    const done = await report(g, worker.workerId, id, { status: 'succeeded', output: 'all good' });
    expect(done.statusCode).toBe(200);
    const record = await execution(id);
    expect(record).toMatchObject({
      status: 'succeeded',
      output: 'all good',
      worker: worker.workerId,
    });
    expect(record.durationMs).toBeGreaterThanOrEqual(40);
    expect(record.timeline.map((t) => t.status)).toEqual([
      'pending',
      'assigned',
      'running',
      'succeeded',
    ]);
    // The inbox is empty again, and a repeated final report is accepted without a change.
    expect(await rangeAll(store, `assignments/${g}/${worker.workerId}/`)).toEqual([]);
    expect((await report(g, worker.workerId, id, { status: 'succeeded' })).statusCode).toBe(200);
    // A contradicting one is refused.
    const late = await report(g, worker.workerId, id, { status: 'failed', error: 'boom' });
    expect(late.statusCode).toBe(409);
    expect(late.json()).toMatchObject({ code: 'EXECUTION_NOT_YOURS' });
  });

  it('records a failure with its error text, cut to 64 KiB', async () => {
    const g = await newGroup();
    const worker = await register(g);
    await job(g, `${g}-a`);
    const { assignments } = await poll(g, worker.workerId, 'waitMs=3000');
    await pause(`${g}-a`);
    const id = assignments[0].executionId;
    const response = await call('POST', `/api/workers/${g}/${worker.workerId}/reports`, {
      reports: [{ executionId: id, status: 'failed', error: 'x'.repeat(100_000) }],
    });
    expect(response.json()).toEqual({ results: [{ executionId: id, outcome: 'accepted' }] });
    const record = await execution(id);
    expect(record.status).toBe('failed');
    expect(Buffer.byteLength(record.error!)).toBeLessThanOrEqual(64 * 1024);
    expect(record.error).toMatch(/truncated/);
  });

  it('dispatches round-robin, only to workers with the target, never beyond capacity', async () => {
    const g = await newGroup();
    const a = await register(g, { capacity: 2 });
    const b = await register(g, { capacity: 2 });
    const other = await register(g, { targets: ['something-else'] });
    for (let i = 0; i < 4; i++) await job(g, `${g}-${i}`);
    await sleep(2300);
    for (let i = 0; i < 4; i++) await pause(`${g}-${i}`);
    const pollA = await poll(g, a.workerId);
    const inboxA = pollA.assignments;
    const inboxB = (await poll(g, b.workerId)).assignments;
    expect(inboxA).toHaveLength(2);
    expect(inboxB).toHaveLength(2);
    expect((await poll(g, other.workerId)).assignments).toEqual([]);
    // The rest waits in pending/ until a slot frees up.
    const waiting = (await rangeAll(store, `pending/${g}/`)).length;
    expect(waiting).toBeGreaterThan(0);
    await report(g, a.workerId, inboxA[0].executionId, { status: 'succeeded' });
    const next = await poll(g, a.workerId, `after=${pollA.revision}&waitMs=3000`);
    expect(next.assignments).toHaveLength(1);
    expect(next.assignments[0].executionId).not.toBe(inboxA[1].executionId);
    expect((await poll(g, a.workerId)).assignments).toHaveLength(2);
    expect((await rangeAll(store, `pending/${g}/`)).length).toBe(waiting - 1);
  });

  it('answers a long poll as soon as an assignment lands, and redelivers unstarted ones', async () => {
    const g = await newGroup();
    const worker = await register(g);
    const empty = await poll(g, worker.workerId);
    const started = Date.now();
    const waiting = poll(g, worker.workerId, `after=${empty.revision}&waitMs=20000`);
    await sleep(200);
    await job(g, `${g}-a`);
    const first = await waiting;
    await pause(`${g}-a`);
    expect(first.assignments.length).toBeGreaterThanOrEqual(1);
    expect(Date.now() - started).toBeLessThan(5000);
    // Nothing newer: the next poll waits its full time, then delivers the same again.
    const again = await poll(g, worker.workerId, `after=${first.revision + 1000}&waitMs=300`);
    expect(again.assignments.map((a: Assignment) => a.executionId)).toContain(
      first.assignments[0].executionId,
    );
  });

  it('moves unstarted work off a worker that leaves, marks its running work lost, refuses its late calls', async () => {
    const g = await newGroup();
    const a = await register(g, { capacity: 2 });
    await job(g, `${g}-a`);
    await sleep(2300);
    await pause(`${g}-a`);
    const [running, unstarted] = (await poll(g, a.workerId)).assignments;
    await report(g, a.workerId, running.executionId, { status: 'running' });

    const b = await register(g, { capacity: 5 });
    expect((await call('DELETE', `/api/workers/${g}/${a.workerId}`)).statusCode).toBe(204);
    // Moves land one txn each: a poll may answer with the first before the others arrive.
    const moved = await waitFor(
      async () => (await poll(g, b.workerId)).assignments.map((x) => x.executionId),
      (ids) => ids.includes(unstarted.executionId),
      5000,
    );
    expect(moved).toContain(unstarted.executionId);

    const lost = await execution(running.executionId);
    expect(lost.status).toBe('lost');
    expect(lost.error).toMatch(a.workerId);
    // Its own secret no longer opens anything: the worker is gone (register again).
    const late = await report(g, a.workerId, unstarted.executionId, { status: 'running' });
    expect(late.statusCode).toBe(404);
    expect(late.json()).toMatchObject({ code: 'WORKER_NOT_FOUND' });
    expect((await execution(unstarted.executionId)).worker).toBe(b.workerId);
    expect((await call('POST', `/api/workers/${g}/${a.workerId}/heartbeat`)).statusCode).toBe(404);
  });

  it('answers a heartbeat that lists held executions with those no longer the worker\u2019s', async () => {
    const g = await newGroup();
    const worker = await register(g, { capacity: 2 });
    await job(g, `${g}-a`);
    await sleep(2300);
    await pause(`${g}-a`);
    const [kept, cancelled] = (await poll(g, worker.workerId, 'waitMs=3000')).assignments;
    expect(cancelled).toBeDefined();
    const heartbeat = (body?: object) =>
      call('POST', `/api/workers/${g}/${worker.workerId}/heartbeat`, body);

    // Both still assigned: nothing to abort (and an old SDK's empty body works as before).
    const held = [kept.executionId, cancelled.executionId];
    const both = await heartbeat({ held });
    expect(both.statusCode).toBe(200);
    expect(both.json()).toEqual({ leaseTtlS: expect.any(Number), abort: [] });
    expect((await heartbeat({})).json()).toEqual({ leaseTtlS: expect.any(Number), abort: [] });
    expect((await heartbeat()).json()).toEqual({ leaseTtlS: expect.any(Number), abort: [] });

    // A cancel deletes the assignment: the next heartbeat names it, with why.
    const cancel = await call('POST', `/api/executions/${cancelled.executionId}/cancel`, {
      reason: 'not today',
    });
    expect(cancel.statusCode).toBe(200);
    const after = await heartbeat({ held: [...held, `${g}-a~000000000000001`] });
    expect(after.statusCode).toBe(200);
    expect(after.json()).toEqual({
      leaseTtlS: expect.any(Number),
      abort: [
        {
          executionId: cancelled.executionId,
          status: 'cancelled',
          reason: expect.stringContaining('not today'),
        },
        { executionId: `${g}-a~000000000000001`, status: 'not_found', reason: expect.any(String) },
      ],
    });
  });

  it('refuses a malformed heartbeat body with 400, and a lost worker with 404', async () => {
    const g = await newGroup();
    const worker = await register(g);
    const url = `/api/workers/${g}/${worker.workerId}/heartbeat`;
    for (const body of [
      { held: 'job~1' },
      { held: ['no-tilde'] },
      { held: ['job~a/b'] },
      { held: [42] },
      { held: Array.from({ length: 10_001 }, (_, i) => `job~${i}`) },
      { other: true },
    ]) {
      const response = await call('POST', url, body);
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ code: 'VALIDATION_FAILED' });
    }
    expect((await call('DELETE', `/api/workers/${g}/${worker.workerId}`)).statusCode).toBe(204);
    const gone = await call('POST', url, { held: ['job~1'] });
    expect(gone.statusCode).toBe(404);
    expect(gone.json()).toMatchObject({ code: 'WORKER_NOT_FOUND' });
  });

  it('treats a worker that stops heartbeating as dead after its lease TTL', async () => {
    const g = await newGroup();
    const a = await register(g);
    await job(g, `${g}-a`);
    await poll(g, a.workerId, 'waitMs=3000');
    await pause(`${g}-a`);
    await sleep(200);
    const held = (await poll(g, a.workerId)).assignments;
    expect(held.length).toBeGreaterThan(0);
    const b = await register(g);
    for (let i = 0; i < 11; i++) {
      await sleep(500);
      await call('POST', `/api/workers/${g}/${b.workerId}/heartbeat`);
    }
    const moved = (await poll(g, b.workerId, 'waitMs=2000')).assignments.map((x) => x.executionId);
    for (const assignment of held) expect(moved).toContain(assignment.executionId);
    const list = (await call('GET', `/api/workers?group=${g}`)).json<{ items: { id: string }[] }>()
      .items;
    expect(list.map((w) => w.id)).toEqual([b.workerId]);
    // Its last heartbeat is a moment ago (to the second: derived from the lease's TTL).
    const shown = await listedWorker(g, b.workerId);
    const sinceHeartbeatMs = Date.now() - Date.parse(shown!.lastHeartbeatAt!);
    expect(sinceHeartbeatMs).toBeGreaterThanOrEqual(0);
    expect(sinceHeartbeatMs).toBeLessThan(2500);
  });
});
