import {
  Assignment,
  ExecutionRecord,
  executionId,
  Keyspace,
  PendingEntry,
  scheduledExecKey,
  WorkerRecord,
} from '@forest/protocol';
import { CoordinationStore, TxnOp } from '@forest/store';
import {
  assignmentOf,
  newExecution,
  pendingEntry,
  transition,
} from '../../src/execution/execution-record';
import { ExecutionRepository } from '../../src/execution/execution.repository';
import { historySortKey } from '../../src/history/history.port';
import { COORDINATION_STORE } from '../../src/store/store.tokens';
import { startTestApp, TestApp } from '../support/app-harness';

type Json = Record<string, any>;

/** A schedule that never fires during a test (midnight, January 1st). */
const NEVER = '0 0 1 1 *';
const NODE = 'test-node';
const MIN = 60_000;
/**
 * Seeded executions are a day old, on a whole hour: recent enough that the leader's retention
 * (a week by default) never deletes one mid-test. A fixed date here aged out and broke CI.
 */
const T0 = Math.floor(Date.now() / (60 * MIN)) * 60 * MIN - 24 * 60 * MIN;

describe('executions API (embedded store)', () => {
  let subject: TestApp;
  let store: CoordinationStore;

  beforeAll(async () => {
    subject = await startTestApp({ store: 'embedded' });
    store = subject.app.get(COORDINATION_STORE);
    for (const name of ['billing', 'reports']) {
      expect((await call('POST', '/api/groups', { name })).statusCode).toBe(201);
    }
    // A live worker whose targets match no job here: assignments written by the tests are
    // its (so a dispatcher does not treat them as orphans), and it never takes pending work.
    await store.put(Keyspace.worker('billing', 'w1'), JSON.stringify(workerRecord('w1')));
  });

  afterAll(async () => {
    await subject?.close();
  });

  async function call(method: string, url: string, payload?: unknown) {
    const response = await subject.app.inject({
      method: method as 'GET',
      url,
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
    return {
      statusCode: response.statusCode,
      body: response.body ? response.json<Json>() : undefined,
    };
  }

  async function createJob(id: string, extra: Json = {}): Promise<Json> {
    const response = await call('POST', '/api/jobs', {
      id,
      name: `job ${id}`,
      group: 'billing',
      schedule: { cron: NEVER },
      target: 'invoices.generate',
      params: { region: 'eu' },
      timeoutMs: 30_000,
      ...extra,
    });
    expect(response.statusCode).toBe(201);
    return response.body!;
  }

  /** Writes executions (and the pending entries / assignments their status implies). */
  async function seed(records: ExecutionRecord[]): Promise<void> {
    for (let i = 0; i < records.length; i += 40) {
      const success: TxnOp[] = records.slice(i, i + 40).flatMap((record) => {
        const [jobId, execKey] = [record.jobId, record.id.slice(record.jobId.length + 1)];
        const ops: TxnOp[] = [
          {
            type: 'put',
            key: Keyspace.execution(jobId, execKey),
            value: JSON.stringify(record),
          },
        ];
        if (record.status === 'pending') {
          ops.push({
            type: 'put',
            key: Keyspace.pendingExecution(record.group, record.id),
            value: JSON.stringify(pendingEntry(record, record.firedAt)),
          });
        }
        if (record.status === 'assigned' || record.status === 'running') {
          const assignment: Assignment = {
            ...assignmentOf(record, record.worker!, record.firedAt),
            state: record.status,
          };
          ops.push({
            type: 'put',
            key: Keyspace.assignment(record.group, record.worker!, record.id),
            value: JSON.stringify(assignment),
          });
        }
        return ops;
      });
      expect((await store.txn({ compare: [], success })).succeeded).toBe(true);
    }
  }

  describe('POST /api/jobs/{id}/trigger', () => {
    it('creates a pending manual execution and its pending entry in one write', async () => {
      const job = await createJob('trig-1');
      const before = Date.now();
      const response = await call('POST', '/api/jobs/trig-1/trigger');
      expect(response.statusCode).toBe(201);
      const execution = response.body!;
      expect(execution).toEqual({
        id: expect.stringMatching(/^trig-1~\d{15}-[0-9a-f]{8}$/),
        jobId: 'trig-1',
        jobName: 'job trig-1',
        group: 'billing',
        target: 'invoices.generate',
        params: { region: 'eu' },
        trigger: 'manual',
        status: 'pending',
        attempt: 1,
        scheduledMs: expect.any(Number),
        scheduledAt: new Date(execution.scheduledMs).toISOString(),
        firedAt: new Date(execution.scheduledMs).toISOString(),
        catchUp: false,
        firedBy: { node: NODE, token: 0 },
        timeoutMs: job.timeoutMs,
        dispatch: { strategy: 'round-robin', options: {} },
        timeline: [{ status: 'pending', at: execution.firedAt, node: NODE }],
      });
      expect(execution.scheduledMs).toBeGreaterThanOrEqual(before);
      expect(execution.scheduledMs).toBeLessThanOrEqual(Date.now());
      // The key starts with the trigger time, so it sorts with the job's fires.
      expect(execution.id).toContain(`~${scheduledExecKey(execution.scheduledMs)}-`);

      const execKey = execution.id.split('~')[1];
      const stored = await store.get(Keyspace.execution('trig-1', execKey));
      expect(JSON.parse(stored!.value)).toEqual(execution);
      const pending = await store.get(Keyspace.pendingExecution('billing', execution.id));
      expect(JSON.parse(pending!.value) as PendingEntry).toEqual({
        executionId: execution.id,
        jobId: 'trig-1',
        target: 'invoices.generate',
        since: execution.firedAt,
      });
      // Written in the same txn.
      expect(pending!.modRevision).toBe(stored!.modRevision);

      expect((await call('GET', `/api/executions/${execution.id}`)).body).toEqual(execution);
    });

    it('overrides params for this run only (null included) and triggers twice distinctly', async () => {
      await createJob('trig-2');
      const custom = await call('POST', '/api/jobs/trig-2/trigger', { params: [1, 'two'] });
      expect(custom.statusCode).toBe(201);
      expect(custom.body!.params).toEqual([1, 'two']);
      const nulled = await call('POST', '/api/jobs/trig-2/trigger', { params: null });
      expect(nulled.body!.params).toBeNull();
      const empty = await call('POST', '/api/jobs/trig-2/trigger', {});
      expect(empty.body!.params).toEqual({ region: 'eu' });
      expect(new Set([custom, nulled, empty].map((r) => r.body!.id)).size).toBe(3);
      expect((await call('GET', '/api/jobs/trig-2')).body!.params).toEqual({ region: 'eu' });
    });

    it('triggers a paused job', async () => {
      await createJob('trig-paused', { state: 'paused' });
      const response = await call('POST', '/api/jobs/trig-paused/trigger');
      expect(response.statusCode).toBe(201);
      expect(response.body).toMatchObject({ status: 'pending', trigger: 'manual' });
    });

    it('refuses an unknown job, a bad id, unknown fields and params over 64 KiB', async () => {
      expect(await call('POST', '/api/jobs/nope/trigger')).toMatchObject({
        statusCode: 404,
        body: { code: 'JOB_NOT_FOUND' },
      });
      expect((await call('POST', '/api/jobs/a%2Fb/trigger')).statusCode).toBe(400);
      await createJob('trig-bad');
      const unknown = await call('POST', '/api/jobs/trig-bad/trigger', { param: 1 });
      expect(unknown).toMatchObject({
        statusCode: 400,
        body: { code: 'VALIDATION_FAILED', message: 'param: property param should not exist' },
      });
      const big = await call('POST', '/api/jobs/trig-bad/trigger', {
        params: { blob: 'x'.repeat(64 * 1024) },
      });
      expect(big).toMatchObject({ statusCode: 413, body: { code: 'PARAMS_TOO_LARGE' } });
      // Nothing was written for the refused triggers.
      expect((await store.range(Keyspace.jobExecutions('trig-bad'))).count).toBe(0);
    });
  });

  describe('GET /api/executions', () => {
    // Job list-a: 12 executions a minute apart; list-b (group reports): 3; mixed statuses.
    const a: ExecutionRecord[] = [];
    const b: ExecutionRecord[] = [];

    beforeAll(async () => {
      for (let i = 0; i < 12; i++) {
        a.push(
          make('list-a', 'billing', T0 + i * MIN, {
            status: (['pending', 'assigned', 'running', 'succeeded', 'failed'] as const)[i % 5],
            worker: i % 2 === 0 ? 'w1' : 'w2',
            trigger: i % 4 === 3 ? 'manual' : 'schedule',
          }),
        );
      }
      for (let i = 0; i < 3; i++) {
        b.push(make('list-b', 'reports', T0 + i * MIN, { status: 'succeeded', worker: 'w3' }));
      }
      await seed([...a, ...b]);
    });

    /** Oldest first unless the query names an order (the API's default is newest first). */
    async function list(query: string): Promise<Json> {
      const order = query.includes('order=') ? '' : 'order=asc&';
      const response = await call('GET', `/api/executions?${order}${query}`);
      expect(response.statusCode).toBe(200);
      return response.body!;
    }

    /** Every item over all pages (following `next`). */
    async function listAll(query: string): Promise<Json[]> {
      const items: Json[] = [];
      let cursor: string | undefined;
      for (let pages = 0; pages < 100; pages++) {
        const page = await list(query + (cursor ? `&cursor=${cursor}` : ''));
        items.push(...page.items);
        cursor = page.next;
        if (!cursor) return items;
      }
      throw new Error('too many pages');
    }

    const ids = (items: Json[]) => items.map((item) => item.id);
    const idsOf = (records: ExecutionRecord[]) => records.map((r) => r.id);

    it("lists one job's executions oldest first, as summaries", async () => {
      const page = await list('jobId=list-a');
      expect(ids(page.items)).toEqual(idsOf(a));
      expect(page.next).toBeUndefined();
      const first = page.items[0];
      expect(first).toEqual({
        id: a[0].id,
        jobId: 'list-a',
        jobName: 'job list-a',
        group: 'billing',
        target: 'invoices.generate',
        trigger: 'schedule',
        status: 'pending',
        attempt: 1,
        scheduledMs: T0,
        scheduledAt: new Date(T0).toISOString(),
        firedAt: new Date(T0).toISOString(),
        catchUp: false,
        timeoutMs: 0,
      });
      // Summaries leave out params, output and the timeline.
      const failed = page.items.find((item: Json) => item.status === 'failed');
      expect(failed).toMatchObject({ worker: expect.any(String), error: 'boom' });
      expect(failed).not.toHaveProperty('timeline');
      expect(failed).not.toHaveProperty('output');
      expect(failed).not.toHaveProperty('params');
    });

    it('pages with limit and cursor, without gaps or repeats', async () => {
      const first = await list('jobId=list-a&limit=5');
      expect(ids(first.items)).toEqual(idsOf(a.slice(0, 5)));
      expect(first.next).toEqual(expect.any(String));
      const second = await list(`jobId=list-a&limit=5&cursor=${first.next}`);
      expect(ids(second.items)).toEqual(idsOf(a.slice(5, 10)));
      const third = await list(`jobId=list-a&limit=5&cursor=${second.next}`);
      expect(ids(third.items)).toEqual(idsOf(a.slice(10)));
      expect(third.next).toBeUndefined();
      // A page that ends exactly at the last execution has no `next`.
      const exact = await list('jobId=list-b&limit=3');
      expect(exact.items).toHaveLength(3);
      expect(exact.next).toBeUndefined();
    });

    it('filters by status, worker, trigger and group', async () => {
      expect(ids(await listAll('jobId=list-a&status=running'))).toEqual(
        idsOf(a.filter((r) => r.status === 'running')),
      );
      expect(ids(await listAll('jobId=list-a&worker=w2'))).toEqual(
        idsOf(a.filter((r) => r.worker === 'w2')),
      );
      expect(ids(await listAll('jobId=list-a&trigger=manual'))).toEqual(
        idsOf(a.filter((r) => r.trigger === 'manual')),
      );
      expect(ids(await listAll('jobId=list-a&group=reports'))).toEqual([]);
      expect(ids(await listAll('group=reports'))).toEqual(idsOf(b));
      expect(ids(await listAll('worker=w3&status=succeeded'))).toEqual(idsOf(b));
    });

    it('filters by scheduled time, from and to inclusive, with and without jobId', async () => {
      const from = new Date(T0 + 3 * MIN).toISOString();
      const to = new Date(T0 + 7 * MIN).toISOString();
      expect(ids(await listAll(`jobId=list-a&from=${from}&to=${to}`))).toEqual(
        idsOf(a.slice(3, 8)),
      );
      expect(ids(await listAll(`jobId=list-a&from=${from}`))).toEqual(idsOf(a.slice(3)));
      expect(ids(await listAll(`jobId=list-a&to=${to}`))).toEqual(idsOf(a.slice(0, 8)));
      // Across jobs: list-a before list-b (by job id), each oldest first.
      const across = await listAll(`from=${from}&to=${to}&limit=2`);
      expect(ids(across.filter((item) => item.jobId.startsWith('list-')))).toEqual(
        idsOf(a.slice(3, 8)),
      );
      const fromB = new Date(T0 + MIN).toISOString();
      const all = await listAll(`from=${fromB}&to=${fromB}`);
      expect(ids(all.filter((item) => item.jobId.startsWith('list-')))).toEqual([a[1].id, b[1].id]);
      // A cursor and `from` together: the later of the two wins.
      const firstPage = await list(`jobId=list-a&limit=6`);
      expect(ids((await list(`jobId=list-a&from=${from}&cursor=${firstPage.next}`)).items)).toEqual(
        idsOf(a.slice(6)),
      );
    });

    it('lists every job without jobId oldest first by sort key (time, then id)', async () => {
      const everything = await listAll('order=asc&limit=7');
      const mine = everything.filter((item) => ['list-a', 'list-b'].includes(item.jobId));
      const bySortKey = (records: ExecutionRecord[]) =>
        [...records].sort((x, y) => (historySortKey(x.id) < historySortKey(y.id) ? -1 : 1));
      expect(ids(mine)).toEqual(idsOf(bySortKey([...a, ...b])));
      const keys = everything.map((item) => historySortKey(item.id));
      expect([...keys].sort()).toEqual(keys);
    });

    it('refuses bad filters and cursors', async () => {
      for (const query of [
        'status=done',
        'trigger=cron',
        'limit=0',
        'limit=501',
        'limit=x',
        'jobId=a%2Fb',
        'worker=..',
        'from=yesterday',
        'to=2026-13-01T00:00:00Z',
        'cursor=%%%',
        'cursor=abc',
        'colour=red',
      ]) {
        const response = await call('GET', `/api/executions?${query}`);
        expect({ query, status: response.statusCode, code: response.body!.code }).toEqual({
          query,
          status: 400,
          code: 'VALIDATION_FAILED',
        });
      }
      const backwards = await call(
        'GET',
        '/api/executions?from=2026-11-21T00:00:00Z&to=2026-11-20T00:00:00Z',
      );
      expect(backwards.body).toMatchObject({
        status: 400,
        message: expect.stringContaining('from'),
      });
      // A cursor of one job is not valid for another.
      const page = await list('jobId=list-a&limit=1');
      const foreign = await call('GET', `/api/executions?jobId=list-b&cursor=${page.next}`);
      expect(foreign.body).toMatchObject({
        status: 400,
        message: expect.stringContaining('cursor'),
      });
    });

    it('lists newest first by default: one job backwards, every job job by job', async () => {
      const newest = [...a].reverse();
      const first = await list('order=desc&jobId=list-a&limit=5');
      expect(ids(first.items)).toEqual(idsOf(newest.slice(0, 5)));
      const byDefault = await call('GET', '/api/executions?jobId=list-a&limit=5');
      expect(byDefault.body).toEqual(first);
      expect(ids(await listAll('order=desc&jobId=list-a&limit=5'))).toEqual(idsOf(newest));
      expect(ids(await listAll('order=desc&jobId=list-a&limit=12'))).toEqual(idsOf(newest));
      const from = new Date(T0 + 3 * MIN).toISOString();
      const to = new Date(T0 + 7 * MIN).toISOString();
      expect(ids(await listAll(`order=desc&jobId=list-a&from=${from}&to=${to}&limit=2`))).toEqual(
        idsOf(a.slice(3, 8).reverse()),
      );
      expect(ids(await listAll('order=desc&jobId=list-a&status=failed&limit=1'))).toEqual(
        idsOf(newest.filter((r) => r.status === 'failed')),
      );
      // Without jobId: every job together, newest first by sort key (time, then id).
      const across = await listAll('order=desc&limit=4');
      const mine = across.filter((item) => ['list-a', 'list-b'].includes(item.jobId));
      const sortKeys = mine.map((item) => historySortKey(item.id));
      expect(sortKeys).toEqual([...sortKeys].sort().reverse());
      expect(new Set(ids(mine))).toEqual(new Set(idsOf([...a, ...b])));
      expect(ids(await listAll('order=desc&group=reports&limit=2'))).toEqual(
        idsOf([...b].reverse()),
      );
      // A cursor of one order is not one of the other.
      const ascending = await list('order=asc&jobId=list-a&limit=2');
      const mixed = await call('GET', `/api/executions?jobId=list-a&cursor=${ascending.next}`);
      expect(mixed.statusCode).toBe(400);
      expect((await call('GET', '/api/executions?order=newest')).statusCode).toBe(400);
    });
  });

  describe('GET /api/executions/{id}', () => {
    it('returns the record with its timeline, output and error', async () => {
      const record = make('get-1', 'billing', T0, { status: 'failed', worker: 'w1' });
      await seed([record]);
      const response = await call('GET', `/api/executions/${record.id}`);
      expect(response.statusCode).toBe(200);
      expect(response.body).toEqual({
        ...record,
        timeline: record.timeline,
      });
      expect(response.body!.timeline.map((e: Json) => e.status)).toEqual([
        'pending',
        'assigned',
        'running',
        'failed',
      ]);
    });

    it('answers 404 for an unknown execution and 400 for a malformed id', async () => {
      expect(await call('GET', `/api/executions/ghost~${scheduledExecKey(T0)}`)).toMatchObject({
        statusCode: 404,
        body: { code: 'EXECUTION_NOT_FOUND' },
      });
      for (const bad of ['no-tilde', 'a~b~c', 'a%2Fb~001', '~001', 'a~', 'a~..']) {
        const response = await call('GET', `/api/executions/${bad}`);
        expect({ bad, status: response.statusCode, code: response.body!.code }).toEqual({
          bad,
          status: 400,
          code: 'VALIDATION_FAILED',
        });
      }
    });
  });

  describe('POST /api/executions/{id}/cancel', () => {
    it('cancels a pending execution and removes its pending entry', async () => {
      await createJob('cancel-p');
      const { body: created } = await call('POST', '/api/jobs/cancel-p/trigger');
      const response = await call('POST', `/api/executions/${created!.id}/cancel`, {
        reason: 'wrong day',
      });
      expect(response.statusCode).toBe(200);
      const cancelled = response.body!;
      expect(cancelled).toMatchObject({
        id: created!.id,
        status: 'cancelled',
        finishedAt: expect.any(String),
        error: `cancelled through the API on node ${NODE}: wrong day`,
      });
      expect(cancelled.timeline.map((e: Json) => e.status)).toEqual(['pending', 'cancelled']);
      expect(await store.get(Keyspace.pendingExecution('billing', created!.id))).toBeUndefined();
      expect((await call('GET', `/api/executions/${created!.id}`)).body).toEqual(cancelled);

      // Finished now: a second cancel is a conflict that says why.
      const again = await call('POST', `/api/executions/${created!.id}/cancel`);
      expect(again).toMatchObject({
        statusCode: 409,
        body: { code: 'EXECUTION_NOT_CANCELLABLE', details: { status: 'cancelled' } },
      });
      expect(again.body!.message).toContain('already finished (cancelled)');
    });

    it('cancels an assigned execution its worker has not started, removing the assignment', async () => {
      const record = make('cancel-a', 'billing', T0, { status: 'assigned', worker: 'w1' });
      await seed([record]);
      const assignmentKey = Keyspace.assignment('billing', 'w1', record.id);
      expect(await store.get(assignmentKey)).toBeDefined();
      const response = await call('POST', `/api/executions/${record.id}/cancel`);
      expect(response.statusCode).toBe(200);
      expect(response.body).toMatchObject({ status: 'cancelled', worker: 'w1' });
      expect(response.body!.timeline.at(-1)).toMatchObject({ status: 'cancelled', worker: 'w1' });
      expect(await store.get(assignmentKey)).toBeUndefined();
    });

    it('cancels a running execution, also when only its assignment says so yet', async () => {
      const running = make('cancel-r', 'billing', T0, { status: 'running', worker: 'w1' });
      const started = make('cancel-r', 'billing', T0 + MIN, { status: 'assigned', worker: 'w1' });
      await seed([running, started]);
      // The worker reported running to its inbox entry; the record is still `assigned`.
      const key = Keyspace.assignment('billing', 'w1', started.id);
      const assignment = JSON.parse((await store.get(key))!.value) as Assignment;
      await store.put(key, JSON.stringify({ ...assignment, state: 'running' }));

      for (const record of [running, started]) {
        const response = await call('POST', `/api/executions/${record.id}/cancel`, {
          reason: 'stuck',
        });
        expect(response.statusCode).toBe(200);
        expect(response.body).toMatchObject({
          status: 'cancelled',
          worker: 'w1',
          cancelledBy: { kind: 'api', node: NODE, reason: 'stuck' },
        });
        // Out of the worker's inbox: its next heartbeat tells it to abort the handler.
        expect(await store.get(Keyspace.assignment('billing', 'w1', record.id))).toBeUndefined();
      }
      // Finished, so the history mover may already have taken it out of executions/: read it
      // where users do.
      const stored = (await call('GET', `/api/executions/${running.id}`)).body as ExecutionRecord;
      expect(stored.status).toBe('cancelled');
      expect(stored.retryOf).toBeUndefined();
    });

    it('answers 404 for an unknown execution and 400 for a malformed id', async () => {
      expect(
        (await call('POST', `/api/executions/ghost~${scheduledExecKey(T0)}/cancel`)).statusCode,
      ).toBe(404);
      expect((await call('POST', '/api/executions/bad/cancel')).statusCode).toBe(400);
    });

    it('loses cleanly to a dispatch that lands between its read and its write', async () => {
      const record = make('cancel-race', 'billing', T0, { status: 'pending' });
      await seed([record]);
      const repository = subject.app.get(ExecutionRepository);
      const spy = jest
        .spyOn(repository, 'commitAt')
        .mockImplementationOnce(async (part, guards) => {
          // The dispatcher moves it to w1's inbox first (what its fenced txn writes).
          const assigned = transition(record, 'assigned', Date.now(), NODE, { worker: 'w1' });
          await store.txn({
            compare: [],
            success: [
              { type: 'put', key: executionKey(record), value: JSON.stringify(assigned) },
              { type: 'delete', key: Keyspace.pendingExecution('billing', record.id) },
              {
                type: 'put',
                key: Keyspace.assignment('billing', 'w1', record.id),
                value: JSON.stringify(assignmentOf(assigned, 'w1', new Date().toISOString())),
              },
            ],
          });
          spy.mockRestore();
          return repository.commitAt(part, guards);
        });
      const response = await call('POST', `/api/executions/${record.id}/cancel`);
      expect(response.statusCode).toBe(200);
      // The stale write was refused; the retry cancelled the assignment instead.
      expect(response.body!.timeline.map((e: Json) => e.status)).toEqual([
        'pending',
        'assigned',
        'cancelled',
      ]);
      expect(await store.get(Keyspace.assignment('billing', 'w1', record.id))).toBeUndefined();
      expect(await store.get(Keyspace.pendingExecution('billing', record.id))).toBeUndefined();
    });

    it('loses cleanly to a worker that starts the execution between its read and its write', async () => {
      const record = make('cancel-race', 'billing', T0 + MIN, { status: 'assigned', worker: 'w1' });
      await seed([record]);
      const repository = subject.app.get(ExecutionRepository);
      const spy = jest
        .spyOn(repository, 'commitAt')
        .mockImplementationOnce(async (part, guards) => {
          // The worker's `running` report: record and inbox entry change together.
          const running = transition(record, 'running', Date.now(), NODE, { worker: 'w1' });
          const key = Keyspace.assignment('billing', 'w1', record.id);
          const assignment = JSON.parse((await store.get(key))!.value) as Assignment;
          await store.txn({
            compare: [],
            success: [
              { type: 'put', key: executionKey(record), value: JSON.stringify(running) },
              { type: 'put', key, value: JSON.stringify({ ...assignment, state: 'running' }) },
            ],
          });
          spy.mockRestore();
          return repository.commitAt(part, guards);
        });
      const response = await call('POST', `/api/executions/${record.id}/cancel`);
      // The stale write was refused; the retry cancelled the running execution.
      expect(response.statusCode).toBe(200);
      expect(response.body!.timeline.map((e: Json) => e.status)).toEqual([
        'pending',
        'assigned',
        'running',
        'cancelled',
      ]);
      expect(await store.get(Keyspace.assignment('billing', 'w1', record.id))).toBeUndefined();
    });
  });

  it('documents the endpoints in Swagger', async () => {
    const doc = (await call('GET', '/docs-json')).body!;
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/api/jobs/{id}/trigger',
        '/api/executions',
        '/api/executions/{id}',
        '/api/executions/{id}/cancel',
      ]),
    );
    expect(doc.paths['/api/executions'].get.tags).toEqual(['executions']);
    expect(doc.paths['/api/executions'].get.description).toContain('behind one cursor');
    expect(Object.keys(doc.paths['/api/jobs/{id}/trigger'].post.responses)).toEqual(
      expect.arrayContaining(['201', '400', '404', '413']),
    );
    expect(doc.components.schemas.ExecutionDto.properties.timeline).toBeDefined();
  });
});

function workerRecord(id: string): WorkerRecord {
  return {
    id,
    group: 'billing',
    targets: ['not-a-test-target'],
    capacity: 1,
    host: 'test',
    pid: 1,
    labels: {},
    registeredAt: new Date().toISOString(),
    node: NODE,
    lease: '0',
  };
}

function executionKey(record: ExecutionRecord): string {
  return Keyspace.execution(record.jobId, record.id.slice(record.jobId.length + 1));
}

/**
 * A schedule-fired execution moved through the statuses up to `status`, as the planner,
 * dispatcher and a worker would have written it.
 */
function make(
  jobId: string,
  group: string,
  scheduledMs: number,
  options: {
    status: ExecutionRecord['status'];
    worker?: string;
    trigger?: ExecutionRecord['trigger'];
  },
): ExecutionRecord {
  const trigger = options.trigger ?? 'schedule';
  const execKey =
    trigger === 'schedule'
      ? scheduledExecKey(scheduledMs)
      : `${scheduledExecKey(scheduledMs)}-${trigger}`;
  let record = newExecution(
    {
      id: executionId(jobId, execKey),
      jobId,
      jobName: `job ${jobId}`,
      group,
      target: 'invoices.generate',
      params: { n: scheduledMs },
      trigger,
      attempt: 1,
      scheduledMs,
      catchUp: false,
      firedBy: { node: NODE, token: trigger === 'schedule' ? 1 : 0 },
      timeoutMs: 0,
    },
    scheduledMs,
    NODE,
  );
  const stop = options.status;
  if (stop === 'pending') return record;
  for (const status of ['assigned', 'running'] as const) {
    record = transition(record, status, scheduledMs + 10, NODE, { worker: options.worker });
    if (status === stop) return record;
  }
  return transition(record, stop, scheduledMs + 1000, NODE, {
    output: 'done',
    ...(stop === 'failed' ? { error: 'boom' } : {}),
  });
}
