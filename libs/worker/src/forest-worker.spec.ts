import { getEventListeners } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import { ForestWorker } from './forest-worker';
import { ExecutionRevokedError, ForestWorkerConfigError } from './forest-worker.errors';
import type {
  ForestJobContext,
  ForestWorkerLogger,
  ForestWorkerOptions,
} from './forest-worker.types';
import { FakeNode, type FakeExecution } from './testing/fake-node';

class CapturingLogger implements ForestWorkerLogger {
  readonly lines: string[] = [];
  log(message: string) {
    this.lines.push(`log ${message}`);
  }
  warn(message: string) {
    this.lines.push(`warn ${message}`);
  }
  error(message: string) {
    this.lines.push(`error ${message}`);
  }
  debug(message: string) {
    this.lines.push(`debug ${message}`);
  }
}

const fakes: FakeNode[] = [];
const workers: ForestWorker[] = [];

async function fakeNode(options: Parameters<typeof FakeNode.start>[0] = {}): Promise<FakeNode> {
  const node = await FakeNode.start({ heartbeatIntervalMs: 100, ...options });
  fakes.push(node);
  return node;
}

function newWorker(
  options: Partial<ForestWorkerOptions> & Pick<ForestWorkerOptions, 'nodes'>,
): ForestWorker {
  const worker = new ForestWorker({
    group: 'g',
    concurrency: 2,
    pollWaitMs: 200,
    requestTimeoutMs: 2000,
    retry: { initialMs: 10, maxMs: 50 },
    logger: new CapturingLogger(),
    ...options,
  });
  workers.push(worker);
  return worker;
}

afterEach(async () => {
  try {
    await Promise.all(
      workers
        .splice(0)
        .map((w) => w.stop({ timeoutMs: 200, abortGraceMs: 50, flushTimeoutMs: 500 })),
    );
  } finally {
    await Promise.all(fakes.splice(0).map((f) => f.close()));
  }
});

function execution(node: FakeNode, executionId: string): FakeExecution {
  const e = node.executions.get(executionId);
  if (!e) throw new Error(`no execution ${executionId}`);
  return e;
}

function finished(node: FakeNode, executionId: string): Promise<void> {
  return node.waitFor(
    () => ['succeeded', 'failed', 'timed_out'].includes(execution(node, executionId).status),
    `execution ${executionId} to finish`,
  );
}

/** Resolves when the signal aborts (a handler that runs until told to stop). */
function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) =>
    signal.addEventListener('abort', () => resolve(), { once: true }),
  );
}

describe('ForestWorker', () => {
  it('holds an assignment that arrives early and starts it at its scheduled time', async () => {
    const node = await fakeNode();
    const startedAt: number[] = [];
    const worker = newWorker({
      nodes: [node.url],
      handlers: { greet: () => void startedAt.push(Date.now()) },
    });
    await worker.start();
    const scheduledMs = Date.now() + 400;
    const a = node.assign({ target: 'greet', scheduledMs });
    await node.waitFor(() => worker.status.running === 1, 'the assignment to be held');
    expect(execution(node, a.executionId).reports).toEqual([]);
    await finished(node, a.executionId);
    expect(startedAt[0]).toBeGreaterThanOrEqual(scheduledMs);
    expect(startedAt[0] - scheduledMs).toBeLessThan(200);
  });

  it('holds many early assignments without a listener each, and leaves them unstarted on stop', async () => {
    const node = await fakeNode();
    let started = 0;
    const worker = newWorker({
      nodes: [node.url],
      concurrency: 50,
      handlers: { later: () => void started++ },
    });
    await worker.start();
    const scheduledMs = Date.now() + 60_000;
    for (let i = 0; i < 40; i++) node.assign({ target: 'later', scheduledMs });
    await node.waitFor(() => worker.status.running === 40, 'forty assignments to be held');
    // Holding costs a timer, not a listener on the worker's lifecycle signal (which would
    // make each removal a scan and warn of a leak past ten).
    const lifecycle = (worker as unknown as { lifecycle: AbortController }).lifecycle;
    expect(getEventListeners(lifecycle.signal, 'abort').length).toBeLessThan(5);
    const stopping = Date.now();
    await worker.stop({ timeoutMs: 5000 });
    expect(Date.now() - stopping).toBeLessThan(2000);
    expect(started).toBe(0);
    expect(worker.status).toMatchObject({ state: 'stopped', running: 0, started: 0 });
  });

  it('registers, polls, runs a handler, reports running then succeeded, and heartbeats', async () => {
    const node = await fakeNode();
    const seen: ForestJobContext[] = [];
    const worker = newWorker({
      nodes: [node.url],
      labels: { zone: 'a' },
      handlers: {
        greet: (ctx: ForestJobContext) => {
          seen.push(ctx);
          return { hello: (ctx.params as { name: string }).name };
        },
      },
    });
    await worker.start();
    expect(worker.status).toMatchObject({ state: 'running', workerId: 'w1', registrations: 1 });
    expect(node.registrations).toEqual([
      {
        group: 'g',
        targets: ['greet'],
        capacity: 2,
        host: expect.any(String),
        pid: process.pid,
        labels: { zone: 'a' },
      },
    ]);

    const scheduledMs = Date.UTC(2026, 0, 1, 12);
    const a = node.assign({
      target: 'greet',
      params: { name: 'ada' },
      attempt: 2,
      trigger: 'manual',
      scheduledMs,
    });
    await finished(node, a.executionId);

    const e = execution(node, a.executionId);
    expect(e.status).toBe('succeeded');
    expect(e.reports.map((r) => r.status)).toEqual(['running', 'succeeded']);
    expect(e.output).toBe('{"hello":"ada"}');
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      executionId: a.executionId,
      jobId: a.jobId,
      jobName: a.jobName,
      target: 'greet',
      attempt: 2,
      trigger: 'manual',
      params: { name: 'ada' },
      timeoutMs: 0,
    });
    expect(seen[0].scheduledAt).toEqual(new Date(scheduledMs));
    expect(seen[0].signal.aborted).toBe(false);
    expect(worker.status).toMatchObject({ started: 1, succeeded: 1, failed: 0, running: 0 });

    await node.waitFor(() => (node.workers.get('w1')?.heartbeats ?? 0) >= 2, 'two heartbeats');
  });

  it('runs a redelivered assignment once', async () => {
    const node = await fakeNode();
    let calls = 0;
    const worker = newWorker({
      nodes: [node.url],
      pollWaitMs: 20,
      handlers: {
        slow: async () => {
          calls++;
          await delay(150);
        },
      },
    });
    await worker.start();
    node.holdReports(); // `running` does not land, so the node keeps redelivering
    const a = node.assign({ target: 'slow' });
    await node.waitFor(() => execution(node, a.executionId).deliveries >= 4, 'redeliveries');
    node.releaseReports();
    await finished(node, a.executionId);
    await delay(100); // a few more polls
    expect(calls).toBe(1);
    expect(worker.status.started).toBe(1);
    expect(execution(node, a.executionId).status).toBe('succeeded');
  });

  it('reports a thrown Error as failed, with its message and stack, and keeps the output', async () => {
    const node = await fakeNode();
    const worker = newWorker({
      nodes: [node.url],
      handlers: {
        bad: (ctx: ForestJobContext) => {
          ctx.logger.info('about to fail');
          throw new Error('boom', { cause: new Error('root cause') });
        },
      },
    });
    await worker.start();
    const a = node.assign({ target: 'bad' });
    await finished(node, a.executionId);
    const e = execution(node, a.executionId);
    expect(e.status).toBe('failed');
    expect(e.error).toMatch(/^Error: boom\n\s+at /);
    expect(e.error).toContain('forest-worker.spec.ts');
    expect(e.error).toContain('Caused by: Error: root cause');
    expect(e.output).toContain('INFO about to fail');
    expect(worker.status).toMatchObject({ failed: 1, succeeded: 0 });
  });

  it('reports thrown non-Error values (a string, an object, a rejection) as failed', async () => {
    const node = await fakeNode();
    const worker = newWorker({
      nodes: [node.url],
      concurrency: 3,
      handlers: {
        str: () => {
          // eslint-disable-next-line @typescript-eslint/only-throw-error
          throw 'just a string';
        },
        obj: () => {
          // eslint-disable-next-line @typescript-eslint/only-throw-error
          throw { code: 42, why: 'object' };
        },
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
        rejected: () => Promise.reject(undefined),
      },
    });
    await worker.start();
    const s = node.assign({ target: 'str' });
    const o = node.assign({ target: 'obj' });
    const r = node.assign({ target: 'rejected' });
    await Promise.all([s, o, r].map((a) => finished(node, a.executionId)));
    expect(execution(node, s.executionId)).toMatchObject({
      status: 'failed',
      error: 'just a string',
    });
    expect(execution(node, o.executionId)).toMatchObject({
      status: 'failed',
      error: '{"code":42,"why":"object"}',
    });
    expect(execution(node, r.executionId)).toMatchObject({ status: 'failed', error: 'undefined' });
  });

  it('bounds output and error text to outputLimitBytes, keeping the head and marking the cut', async () => {
    const node = await fakeNode();
    const limit = 300;
    const worker = newWorker({
      nodes: [node.url],
      outputLimitBytes: limit,
      handlers: {
        chatty: (ctx: ForestJobContext) => {
          for (let i = 0; i < 100; i++) ctx.logger.log(`line ${i} ✓ ünïcode`);
          return 'x'.repeat(10_000);
        },
        loud: () => {
          throw new Error('é'.repeat(5_000));
        },
      },
    });
    await worker.start();
    const c = node.assign({ target: 'chatty' });
    const l = node.assign({ target: 'loud' });
    await Promise.all([finished(node, c.executionId), finished(node, l.executionId)]);

    const output = execution(node, c.executionId).output ?? '';
    expect(Buffer.byteLength(output)).toBeLessThanOrEqual(limit);
    expect(output).toMatch(/^\S+Z INFO line 0 ✓ ünïcode\n/);
    expect(output).toMatch(/…\[truncated: \d+ more bytes not kept\]\n$/);
    expect(output).not.toContain('\uFFFD');
    const dropped = Number(/truncated: (\d+)/.exec(output)?.[1]);
    const full =
      100 * Buffer.byteLength('2026-01-01T00:00:00.000Z INFO line 00 ✓ ünïcode\n') + 10_000;
    expect(dropped).toBeGreaterThan(full - 100 * 2 - limit);

    const error = execution(node, l.executionId).error ?? '';
    expect(Buffer.byteLength(error)).toBeLessThanOrEqual(limit);
    expect(error).toMatch(/^Error: éé/);
    expect(error).toContain('[truncated:');
    expect(execution(node, c.executionId).status).toBe('succeeded');
  });

  it('puts the handler logger lines, with timestamp and level, and the result into the output', async () => {
    const node = await fakeNode();
    const worker = newWorker({
      nodes: [node.url],
      handlers: {
        talk: (ctx: ForestJobContext) => {
          ctx.logger.info('hello %s', 'world');
          ctx.logger.warn('careful', { a: 1 });
          ctx.logger.error('bad thing');
          ctx.logger.debug('details');
          return 'done';
        },
      },
    });
    await worker.start();
    const a = node.assign({ target: 'talk' });
    await finished(node, a.executionId);
    const lines = (execution(node, a.executionId).output ?? '').split('\n');
    const ts = String.raw`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z`;
    expect(lines[0]).toMatch(new RegExp(`^${ts} INFO hello world$`));
    expect(lines[1]).toMatch(new RegExp(`^${ts} WARN careful \\{ a: 1 \\}$`));
    expect(lines[2]).toMatch(new RegExp(`^${ts} ERROR bad thing$`));
    expect(lines[3]).toMatch(new RegExp(`^${ts} DEBUG details$`));
    expect(lines[4]).toBe('done');
  });

  it('spreads a fleet over its nodes: each worker starts on a random one', async () => {
    const a = await fakeNode();
    const b = await fakeNode();
    const workers = Array.from({ length: 24 }, () =>
      newWorker({ nodes: [a.url, b.url], handlers: { t: () => 'ok' } }),
    );
    await Promise.all(workers.map((worker) => worker.start()));
    const onA = workers.filter((worker) => worker.status.node === a.url).length;
    // 24 fair coin flips all landing on one side: 1 in 8 million.
    expect(onA).toBeGreaterThan(0);
    expect(onA).toBeLessThan(24);
    await Promise.all(workers.map((worker) => worker.stop()));
  });

  it('fails over from a dead URL to a live node and stays there', async () => {
    const dead = await FakeNode.deadUrl();
    const node = await fakeNode();
    const worker = newWorker({
      nodes: [dead, node.url],
      nodeOrder: 'listed',
      handlers: { t: () => 'ok' },
    });
    await worker.start();
    expect(worker.status.node).toBe(node.url);
    const a = node.assign({ target: 't' });
    await finished(node, a.executionId);
    expect(execution(node, a.executionId).status).toBe('succeeded');
  });

  it('fails over from a node answering 503, and does not go back to it while the other works', async () => {
    const sick = await fakeNode();
    sick.failAll = 503;
    const node = await fakeNode();
    const worker = newWorker({
      nodes: [sick.url, node.url],
      nodeOrder: 'listed',
      handlers: { t: () => 'ok' },
    });
    await worker.start();
    const a = node.assign({ target: 't' });
    await finished(node, a.executionId);
    await node.waitFor(() => (node.workers.get('w1')?.heartbeats ?? 0) >= 2, 'heartbeats');
    expect(sick.requests).toEqual([{ method: 'POST', path: '/api/workers', status: 503 }]);
    expect(worker.status.node).toBe(node.url);
  });

  it('retries registration with backoff until a node answers', async () => {
    const node = await fakeNode();
    node.failAll = 503;
    const worker = newWorker({ nodes: [node.url], handlers: { t: () => 'ok' } });
    const started = worker.start();
    await node.waitFor(() => node.requests.length >= 3, 'three refused registrations');
    node.failAll = undefined;
    await started;
    expect(worker.status).toMatchObject({ state: 'running', workerId: 'w1' });
  });

  it('registers again (new worker id) after heartbeat answers 404 WORKER_NOT_FOUND', async () => {
    const node = await fakeNode({ heartbeatIntervalMs: 50 });
    const worker = newWorker({ nodes: [node.url], pollWaitMs: 5000, handlers: { t: () => 'ok' } });
    await worker.start();
    expect(worker.status.workerId).toBe('w1');
    await node.waitFor(() => node.polls.length === 1, 'the first long poll');
    node.expireWorker('w1');
    await node.waitFor(() => worker.status.workerId === 'w2', 'the second registration');
    expect(
      node.requests.some((r) => r.path === '/api/workers/g/w1/heartbeat' && r.status === 404),
    ).toBe(true);
    expect(worker.status.registrations).toBe(2);
    // The long poll of the lost id is dropped: new work arrives well before its 5 s wait ends.
    const started = Date.now();
    const a = node.assign({ target: 't', workerId: 'w2' });
    await finished(node, a.executionId);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('registers again when a report answers WORKER_NOT_FOUND; the node then refuses the old work', async () => {
    const node = await fakeNode({ heartbeatIntervalMs: 60_000 });
    const logger = new CapturingLogger();
    let release: () => void = () => undefined;
    const worker = newWorker({
      nodes: [node.url],
      logger,
      pollWaitMs: 5000,
      handlers: { t: () => new Promise<string>((resolve) => (release = () => resolve('late'))) },
    });
    await worker.start();
    const a = node.assign({ target: 't' });
    await node.waitFor(() => execution(node, a.executionId).status === 'running', 'running');
    await node.waitFor(() => node.polls.length === 2, 'the next long poll');
    node.expireWorker('w1');
    release();
    await node.waitFor(() => worker.status.droppedReports === 1, 'the refused report');
    expect(worker.status).toMatchObject({ workerId: 'w2', registrations: 2, pendingReports: 0 });
    expect(node.requests).toContainEqual(
      expect.objectContaining({ method: 'POST', path: '/api/workers/g/w1/reports', status: 404 }),
    );
    expect(logger.lines.some((l) => /report succeeded .* dropped \(conflict/.test(l))).toBe(true);
  });

  it('sends reports queued during a request together in the next one (group commit)', async () => {
    const node = await fakeNode();
    const worker = newWorker({
      nodes: [node.url],
      concurrency: 5,
      handlers: { quick: () => 'ok' },
    });
    await worker.start();
    node.holdReports();
    const ids = Array.from({ length: 5 }, () => node.assign({ target: 'quick' }).executionId);
    await node.waitFor(() => worker.status.succeeded === 5, 'five handlers to finish');
    node.releaseReports();
    await Promise.all(ids.map((id) => finished(node, id)));
    const sent = node.reportBatches.flat();
    // The first `running` went out at once; the other four were still queued when their
    // handlers finished, so only their final reports (which record the start too) are sent.
    expect(sent).toHaveLength(6);
    expect(node.reportBatches.length).toBeLessThanOrEqual(3);
    expect(Math.max(...node.reportBatches.map((b) => b.length))).toBeGreaterThanOrEqual(5);
    const statuses = (id: string) => sent.filter((r) => r.executionId === id).map((r) => r.status);
    // `running` goes before the final report.
    expect(statuses(ids[0])).toEqual(['running', 'succeeded']);
    for (const id of ids.slice(1)) expect(statuses(id)).toEqual(['succeeded']);
    // The node records a batch before the worker has its answer: wait for that answer
    // instead of racing it (the queue must still empty, or this times out).
    await node.waitFor(() => worker.status.pendingReports === 0, 'the report queue to empty');
    expect(worker.status.pendingReports).toBe(0);
  });

  it('sends the `running` report of a long handler before it finishes', async () => {
    const node = await fakeNode();
    let finish!: () => void;
    const worker = newWorker({
      nodes: [node.url],
      handlers: { slow: () => new Promise<void>((resolve) => (finish = resolve)) },
    });
    await worker.start();
    const { executionId } = node.assign({ target: 'slow' });
    await node.waitFor(
      () => node.reportBatches.flat().some((r) => r.executionId === executionId),
      'the running report',
    );
    const before = Date.now();
    expect(node.reportBatches.flat()).toEqual([
      { executionId, status: 'running', startedAtMs: expect.any(Number) },
    ]);
    const startedAtMs = node.reportBatches[0][0].startedAtMs!;
    expect(startedAtMs).toBeLessThanOrEqual(before);
    finish();
    await finished(node, executionId);
    expect(node.reportBatches.flat().map((r) => r.status)).toEqual(['running', 'succeeded']);
    // The final report carries the handler's start too.
    expect(node.reportBatches.flat()[1].startedAtMs).toBe(startedAtMs);
  });

  it('retries reports after 5xx answers', async () => {
    const node = await fakeNode();
    const worker = newWorker({ nodes: [node.url], handlers: { t: () => 'ok' } });
    await worker.start();
    node.failReports = 3;
    const a = node.assign({ target: 't' });
    await finished(node, a.executionId);
    expect(execution(node, a.executionId).status).toBe('succeeded');
    expect(worker.status.droppedReports).toBe(0);
  });

  it('drops a report the node refuses as conflict and aborts the execution it no longer owns', async () => {
    const node = await fakeNode();
    const logger = new CapturingLogger();
    let signal: AbortSignal | undefined;
    const worker = newWorker({
      nodes: [node.url],
      logger,
      handlers: {
        long: async (ctx: ForestJobContext) => {
          signal = ctx.signal;
          await aborted(ctx.signal);
          throw ctx.signal.reason;
        },
      },
    });
    await worker.start();
    node.holdReports();
    const a = node.assign({ target: 'long' });
    await node.waitFor(() => signal !== undefined, 'the handler to start');
    node.revoke(a.executionId); // cancelled / moved before `running` landed
    node.releaseReports();
    await node.waitFor(() => worker.status.running === 0, 'the handler to end');
    await node.waitFor(() => worker.status.pendingReports === 0, 'reports to settle');
    expect(signal?.aborted).toBe(true);
    expect(worker.status.droppedReports).toBe(2); // running, then failed: each sent once
    const sent = node.reportBatches.flat().filter((r) => r.executionId === a.executionId);
    expect(sent.map((r) => r.status)).toEqual(['running', 'failed']);
    expect(
      logger.lines.some((l) => /report running of execution=\S+ dropped \(conflict/.test(l)),
    ).toBe(true);
  });

  it('aborts a handler that passes its own timeoutMs and reports it timed_out', async () => {
    const node = await fakeNode();
    const worker = newWorker({
      nodes: [node.url],
      handlers: {
        stuck: async (ctx: ForestJobContext) => {
          ctx.logger.info('started');
          await aborted(ctx.signal);
          return 'gave up';
        },
      },
    });
    await worker.start();
    const a = node.assign({ target: 'stuck', timeoutMs: 80 });
    await finished(node, a.executionId);
    const e = execution(node, a.executionId);
    expect(e.status).toBe('timed_out');
    expect(e.error).toBe('execution timed out after 80ms');
    expect(e.output).toMatch(/INFO started\ngave up$/);
  });

  it('reports timed_out when the handler throws because its time limit aborted it', async () => {
    const node = await fakeNode();
    const worker = newWorker({
      nodes: [node.url],
      handlers: {
        fetcher: async (ctx: ForestJobContext) => {
          await aborted(ctx.signal);
          throw new Error('request aborted');
        },
      },
    });
    await worker.start();
    const a = node.assign({ target: 'fetcher', timeoutMs: 80 });
    await finished(node, a.executionId);
    const e = execution(node, a.executionId);
    expect(e.status).toBe('timed_out');
    expect(e.error).toMatch(/^execution timed out after 80ms\nError: request aborted/);
  });

  it('never runs more than `concurrency` handlers at once', async () => {
    const node = await fakeNode();
    let active = 0;
    let peak = 0;
    const worker = newWorker({
      nodes: [node.url],
      concurrency: 3,
      handlers: {
        busy: async () => {
          active++;
          peak = Math.max(peak, active);
          await delay(20 + Math.random() * 30);
          active--;
        },
      },
    });
    await worker.start();
    // More than capacity lands in the inbox at once; the worker must still pace itself.
    const ids = Array.from({ length: 12 }, () => node.assign({ target: 'busy' }).executionId);
    await Promise.all(ids.map((id) => finished(node, id)));
    expect(peak).toBe(3);
    expect(worker.status).toMatchObject({ started: 12, succeeded: 12 });
    expect(Math.max(...node.polls.map((p) => p.max))).toBeLessThanOrEqual(3);
  });

  describe('executions that are no longer its own', () => {
    const sentFor = (node: FakeNode, id: string) =>
      node.reportBatches
        .flat()
        .filter((r) => r.executionId === id)
        .map((r) => r.status);

    it('lists held runs in each heartbeat, aborts the ones the node names, and reports neither', async () => {
      const node = await fakeNode({ heartbeatIntervalMs: 50 });
      const logger = new CapturingLogger();
      const started: string[] = [];
      let signal: AbortSignal | undefined;
      const worker = newWorker({
        nodes: [node.url],
        logger,
        concurrency: 3,
        handlers: {
          long: async (ctx: ForestJobContext) => {
            started.push(ctx.executionId);
            signal = ctx.signal;
            await aborted(ctx.signal);
            return 'stopped when told';
          },
          later: (ctx: ForestJobContext) => void started.push(ctx.executionId),
        },
      });
      await worker.start();
      const running = node.assign({ target: 'long' });
      const held = node.assign({ target: 'later', scheduledMs: Date.now() + 60_000 });
      await node.waitFor(
        () => execution(node, running.executionId).status === 'running',
        'the running report',
      );
      await node.waitFor(
        () =>
          node.heartbeats.some(
            (h) =>
              h.held?.includes(running.executionId) === true && h.held.includes(held.executionId),
          ),
        'a heartbeat listing both',
      );
      // The leader timed one out and moved the other away.
      node.revoke(running.executionId, 'timed_out');
      node.revoke(held.executionId, 'cancelled');
      await node.waitFor(() => worker.status.running === 0, 'both to be given up');

      expect(signal?.aborted).toBe(true);
      expect(signal?.reason).toBeInstanceOf(ExecutionRevokedError);
      expect(signal?.reason).toMatchObject({
        executionId: running.executionId,
        status: 'timed_out',
        message: expect.stringMatching(/timed_out: fake node: it is timed_out/),
      });
      expect(started).toEqual([running.executionId]);
      await delay(150); // heartbeats go on; nothing more is sent for either
      expect(sentFor(node, running.executionId)).toEqual(['running']);
      expect(sentFor(node, held.executionId)).toEqual([]);
      expect(worker.status).toMatchObject({ revoked: 2, droppedReports: 0, pendingReports: 0 });
      // Once each, and no longer listed as held.
      expect(
        logger.lines.filter((l) => l.includes(`execution=${running.executionId} is no`)),
      ).toHaveLength(1);
      expect(node.heartbeats.at(-1)?.held).toBeUndefined();
    });

    it('aborts every run of the old worker id when its lease is lost, and runs what comes back under the new one', async () => {
      const node = await fakeNode({ heartbeatIntervalMs: 50 });
      const started: string[] = [];
      let signal: AbortSignal | undefined;
      const worker = newWorker({
        nodes: [node.url],
        pollWaitMs: 5000,
        concurrency: 3,
        handlers: {
          long: async (ctx: ForestJobContext) => {
            started.push(ctx.executionId);
            signal = ctx.signal;
            await aborted(ctx.signal);
          },
          later: (ctx: ForestJobContext) => void started.push(ctx.executionId),
        },
      });
      await worker.start();
      const running = node.assign({ target: 'long' });
      const held = node.assign({ target: 'later', scheduledMs: Date.now() + 400 });
      await node.waitFor(
        () =>
          execution(node, running.executionId).status === 'running' && worker.status.running === 2,
        'one running, one held',
      );
      node.expireWorker('w1');
      await node.waitFor(() => worker.status.workerId === 'w2', 'the second registration');
      await node.waitFor(() => signal?.aborted === true, 'the abort');
      expect(signal?.reason).toBeInstanceOf(ExecutionRevokedError);
      expect(signal?.reason).toMatchObject({ status: 'lost' });
      await node.waitFor(() => worker.status.running === 0, 'both to be given up');
      expect(worker.status.revoked).toBe(2);
      // The held one never starts under w1, not even at its time...
      await delay(500);
      expect(started).toEqual([running.executionId]);
      expect(sentFor(node, running.executionId)).toEqual(['running']);
      // ...but it runs once the leader moves it to the new id.
      node.move(held.executionId, 'w2');
      await finished(node, held.executionId);
      expect(started).toEqual([running.executionId, held.executionId]);
    });

    it('claims a run whose start comes after the lease is confirmed, and does not start it on conflict', async () => {
      // Lease of 2 s, margin 1 s: confirmed for 1 s after each heartbeat sent.
      const node = await fakeNode({ leaseTtlS: 2, heartbeatIntervalMs: 100 });
      const logger = new CapturingLogger();
      let calls = 0;
      const worker = newWorker({
        nodes: [node.url],
        logger,
        handlers: { t: () => void calls++ },
      });
      await worker.start();
      node.failHeartbeats = 503; // nothing confirms the lease any more, nor names aborts
      const a = node.assign({ target: 't', scheduledMs: Date.now() + 1500 });
      await node.waitFor(() => worker.status.running === 1, 'the assignment to be held');
      node.revoke(a.executionId); // moved away while the worker could not hear about it
      await node.waitFor(() => worker.status.running === 0, 'the claim to be refused', 4000);
      expect(calls).toBe(0);
      expect(worker.status).toMatchObject({ started: 0, revoked: 1 });
      expect(node.reportBatches).toEqual([
        [{ executionId: a.executionId, status: 'running', startedAtMs: expect.any(Number) }],
      ]);
      expect(logger.lines.some((l) => l.includes(`claiming execution=${a.executionId}`))).toBe(
        true,
      );
      expect(
        logger.lines.some((l) =>
          new RegExp(`claim of execution=${a.executionId} refused \\(conflict`).test(l),
        ),
      ).toBe(true);
    });

    it('after a freeze (the monotonic clock jumped) starts a run only once the node accepted its claim', async () => {
      const node = await fakeNode({ heartbeatIntervalMs: 60_000 });
      const logger = new CapturingLogger();
      let statusAtStart: string | undefined;
      const worker = newWorker({
        nodes: [node.url],
        logger,
        handlers: {
          t: (ctx: ForestJobContext) => {
            statusAtStart = execution(node, ctx.executionId).status;
          },
        },
      });
      await worker.start();
      const now = performance.now.bind(performance);
      const frozen = jest.spyOn(performance, 'now').mockImplementation(() => now() + 3_600_000);
      try {
        const a = node.assign({ target: 't' });
        await finished(node, a.executionId);
        // The node recorded `running` before the handler was called.
        expect(statusAtStart).toBe('running');
        expect(node.reportBatches[0]).toEqual([
          { executionId: a.executionId, status: 'running', startedAtMs: expect.any(Number) },
        ]);
        expect(execution(node, a.executionId).reports.map((r) => r.status)).toEqual([
          'running',
          'succeeded',
        ]);
        // A heartbeat first, to find out whether the lease is still there (and keep it).
        expect(node.workers.get('w1')?.heartbeats).toBeGreaterThanOrEqual(1);
        expect(logger.lines.some((l) => l.includes(`claiming execution=${a.executionId}`))).toBe(
          true,
        );
      } finally {
        frozen.mockRestore();
      }
    });

    it('starts at once, without a claim, while the lease is confirmed', async () => {
      const node = await fakeNode();
      const logger = new CapturingLogger();
      let statusAtStart: string | undefined;
      const worker = newWorker({
        nodes: [node.url],
        logger,
        handlers: {
          t: (ctx: ForestJobContext) => {
            statusAtStart = execution(node, ctx.executionId).status;
          },
        },
      });
      await worker.start();
      const a = node.assign({ target: 't' });
      await finished(node, a.executionId);
      expect(statusAtStart).toBe('assigned');
      expect(logger.lines.some((l) => l.includes('claiming'))).toBe(false);
    });
  });

  it('moves its long poll to the node that answers heartbeats when the polled node freezes', async () => {
    const first = await fakeNode({ heartbeatIntervalMs: 100 });
    const second = await fakeNode({ heartbeatIntervalMs: 100, peer: first });
    const worker = newWorker({
      nodes: [first.url, second.url],
      nodeOrder: 'listed',
      pollWaitMs: 20_000,
      requestTimeoutMs: 5000,
      handlers: { t: () => 'ok' },
    });
    await worker.start();
    await first.waitFor(() => first.polls.length === 1, 'the first long poll');
    // Heartbeats answered by the node the poll waits on leave the poll alone.
    await delay(500);
    expect(first.workers.get('w1')?.heartbeats).toBeGreaterThanOrEqual(3);
    expect(first.polls).toHaveLength(1);
    expect(second.requests).toEqual([]);

    first.freeze();
    const frozenAt = Date.now();
    await second.waitFor(() => second.polls.length === 1, 'a long poll on the live node', 3000);
    const a = second.assign({ target: 't' });
    await finished(second, a.executionId);
    // Within a heartbeat timeout (1 s here), not the poll's own 25 s.
    expect(Date.now() - frozenAt).toBeLessThan(3000);
    expect(worker.status.node).toBe(second.url);
  });

  describe('stop()', () => {
    it('stops an idle worker at once (aborting its long poll) and leaves', async () => {
      const node = await fakeNode();
      const worker = newWorker({
        nodes: [node.url],
        pollWaitMs: 30_000,
        handlers: { t: () => 'ok' },
      });
      await worker.start();
      await node.waitFor(() => node.polls.length > 0, 'a poll');
      const started = Date.now();
      await worker.stop();
      expect(Date.now() - started).toBeLessThan(1000);
      expect(worker.status.state).toBe('stopped');
      expect(node.count('DELETE', /^\/api\/workers\/g\/w1$/)).toBe(1);
      expect(node.workers.size).toBe(0);
    });

    it('waits for a running handler, reports it, then leaves', async () => {
      const node = await fakeNode();
      const worker = newWorker({
        nodes: [node.url],
        handlers: {
          slow: async () => {
            await delay(200);
            return 'finished';
          },
        },
      });
      await worker.start();
      const a = node.assign({ target: 'slow' });
      await node.waitFor(() => worker.status.running === 1, 'the handler to start');
      await worker.stop({ timeoutMs: 5000 });
      expect(execution(node, a.executionId)).toMatchObject({
        status: 'succeeded',
        output: 'finished',
      });
      const lastReport = node.requests.map((r) => r.path).lastIndexOf('/api/workers/g/w1/reports');
      const leave = node.requests.findIndex((r) => r.method === 'DELETE');
      expect(leave).toBeGreaterThan(lastReport);
      expect(node.workers.size).toBe(0);
    });

    it('aborts the handler signal after the deadline, reports it failed, then leaves', async () => {
      const node = await fakeNode();
      let sawAbort = false;
      const worker = newWorker({
        nodes: [node.url],
        handlers: {
          forever: async (ctx: ForestJobContext) => {
            await aborted(ctx.signal);
            sawAbort = ctx.signal.aborted;
            throw ctx.signal.reason;
          },
        },
      });
      await worker.start();
      const a = node.assign({ target: 'forever' });
      await node.waitFor(() => worker.status.running === 1, 'the handler to start');
      const started = Date.now();
      await worker.stop({ timeoutMs: 150 });
      expect(Date.now() - started).toBeGreaterThanOrEqual(140);
      expect(sawAbort).toBe(true);
      const e = execution(node, a.executionId);
      expect(e.status).toBe('failed');
      expect(e.error).toMatch(
        /^WorkerStoppingError: worker is stopping: the handler did not finish within 150ms/,
      );
      expect(node.count('DELETE', /^\/api\/workers\/g\/w1$/)).toBe(1);
    });

    it('reports a handler that ignores the abort as failed after the grace period', async () => {
      const node = await fakeNode();
      let finish: () => void = () => undefined;
      const worker = newWorker({
        nodes: [node.url],
        handlers: { deaf: () => new Promise<void>((resolve) => (finish = resolve)) },
      });
      await worker.start();
      const a = node.assign({ target: 'deaf' });
      await node.waitFor(() => worker.status.running === 1, 'the handler to start');
      await worker.stop({ timeoutMs: 50, abortGraceMs: 50 });
      const e = execution(node, a.executionId);
      expect(e.status).toBe('failed');
      expect(e.error).toContain('nor settle within 50ms after its signal aborted');
      expect(node.workers.size).toBe(0);
      finish(); // its late end is not reported
      await delay(20);
      expect(node.reportBatches.flat().filter((r) => r.executionId === a.executionId)).toHaveLength(
        2,
      );
    });

    it('ends a start() that is still retrying registration', async () => {
      const dead = await FakeNode.deadUrl();
      const worker = newWorker({ nodes: [dead], handlers: { t: () => 'ok' } });
      const started = worker.start();
      await delay(50);
      await worker.stop();
      await expect(started).resolves.toBeUndefined();
      expect(worker.status).toMatchObject({ state: 'stopped', workerId: undefined });
    });
  });

  describe('options and handlers', () => {
    it('rejects bad options, listing every problem', () => {
      expect(
        () =>
          new ForestWorker({
            nodes: ['ftp://x'],
            group: 'a/b',
            concurrency: 0,
            pollWaitMs: 90_000,
          }),
      ).toThrow(
        new ForestWorkerConfigError(
          'invalid ForestWorker options: nodes: "ftp://x" is not an http(s) base URL; ' +
            'group: "a/b" is not a group name (1-64 characters of A-Z a-z 0-9 . _ -); ' +
            'concurrency: expected an integer in 1..10000, got 0; ' +
            'pollWaitMs: expected an integer in 0..60000, got 90000',
        ),
      );
    });

    it('accepts handlers that declare the params type they expect (a compile-time check)', () => {
      const worker = new ForestWorker({
        nodes: ['http://127.0.0.1:1'],
        group: 'g',
        concurrency: 1,
        logger: false,
        handlers: { typed: (ctx: ForestJobContext<{ month: string }>) => ctx.params.month },
      });
      worker.register('also', (ctx: ForestJobContext<number[]>) =>
        Promise.resolve(ctx.params.length),
      );
      expect(worker.targets).toEqual(['typed', 'also']);
    });

    it('refuses duplicate targets and a start without handlers', async () => {
      const worker = new ForestWorker({
        nodes: ['http://127.0.0.1:1'],
        group: 'g',
        concurrency: 1,
        logger: false,
      });
      await expect(worker.start()).rejects.toThrow(/no handlers/);
      const other = new ForestWorker({
        nodes: ['http://127.0.0.1:1'],
        group: 'g',
        concurrency: 1,
        logger: false,
      });
      other.register('a', () => 1);
      expect(() => other.register('a', () => 2)).toThrow('target "a" already has a handler');
      expect(() => other.register('bad target', () => 2)).toThrow(/"bad target" is not allowed/);
    });
  });

  describe('credentials', () => {
    const TOKEN = 'fw_worker-token-for-group-g_0123456789abcdef';
    let savedEnv: string | undefined;

    beforeEach(() => {
      savedEnv = process.env.FOREST_WORKER_TOKEN;
      delete process.env.FOREST_WORKER_TOKEN;
    });

    afterEach(() => {
      if (savedEnv === undefined) delete process.env.FOREST_WORKER_TOKEN;
      else process.env.FOREST_WORKER_TOKEN = savedEnv;
    });

    /** The bearer each request carried, as `METHOD path -> bearer`. */
    function bearers(node: FakeNode): { call: string; bearer: string | undefined }[] {
      return node.requests.map((r) => ({ call: `${r.method} ${r.path}`, bearer: r.bearer }));
    }

    it('sends the token on registration only, and the session secret on every later call', async () => {
      const node = await fakeNode({ token: TOKEN, heartbeatIntervalMs: 50 });
      const logger = new CapturingLogger();
      const worker = newWorker({
        nodes: [node.url],
        token: TOKEN,
        logger,
        handlers: { t: () => 'ok' },
      });
      await worker.start();
      const a = node.assign({ target: 't' });
      await finished(node, a.executionId);
      await node.waitFor(() => (node.workers.get('w1')?.heartbeats ?? 0) >= 2, 'heartbeats');
      const secret = node.workers.get('w1')!.secret;
      await worker.stop();

      const calls = bearers(node);
      expect(calls[0]).toEqual({ call: 'POST /api/workers', bearer: TOKEN });
      const later = calls.slice(1);
      for (const kind of ['heartbeat', 'assignments', 'reports']) {
        expect(later.some((c) => c.call.endsWith(`/w1/${kind}`))).toBe(true);
      }
      expect(later.some((c) => c.call === 'DELETE /api/workers/g/w1')).toBe(true);
      expect(later.every((c) => c.bearer === secret)).toBe(true);
      expect(node.requests.every((r) => r.status < 400)).toBe(true);
      // Neither the token nor the secret reaches the worker's own log.
      expect(logger.lines.join('\n')).not.toContain(TOKEN);
      expect(logger.lines.join('\n')).not.toContain(secret);
    });

    it('takes the token from FOREST_WORKER_TOKEN when the option is absent; the option wins', async () => {
      process.env.FOREST_WORKER_TOKEN = TOKEN;
      const node = await fakeNode({ token: TOKEN });
      const fromEnv = newWorker({ nodes: [node.url], handlers: { t: () => 'ok' } });
      await fromEnv.start();
      expect(node.requests[0]).toMatchObject({ path: '/api/workers', status: 201, bearer: TOKEN });

      const other = await fakeNode();
      const explicit = newWorker({
        nodes: [other.url],
        token: 'another-token',
        handlers: { t: () => 'ok' },
      });
      await explicit.start();
      expect(other.requests[0]).toMatchObject({ path: '/api/workers', bearer: 'another-token' });

      // Unset (or empty) and no option: no token at all (FOREST_AUTH=off).
      process.env.FOREST_WORKER_TOKEN = '';
      const third = await fakeNode();
      const none = newWorker({ nodes: [third.url], handlers: { t: () => 'ok' } });
      await none.start();
      expect(third.requests[0]).toMatchObject({ path: '/api/workers', bearer: undefined });
    });

    it('keeps retrying a registration the node refuses (no or wrong token), logging an error', async () => {
      const node = await fakeNode({ token: TOKEN });
      const logger = new CapturingLogger();
      const worker = newWorker({ nodes: [node.url], logger, handlers: { t: () => 'ok' } });
      const started = worker.start();
      await node.waitFor(() => node.requests.length >= 2, 'two refused registrations');
      expect(node.requests[0]).toMatchObject({ status: 401, bearer: undefined });
      expect(worker.status).toMatchObject({ state: 'starting', workerId: undefined });
      expect(logger.lines.some((l) => /^error .*registration .* 401 UNAUTHORIZED/.test(l))).toBe(
        true,
      );
      await worker.stop();
      await started;

      const wrong = newWorker({
        nodes: [node.url],
        token: 'not-the-token',
        handlers: { t: () => 1 },
      });
      const wrongStarted = wrong.start();
      await node.waitFor(() => node.requests.some((r) => r.status === 403), 'a 403');
      expect(wrong.status.registrations).toBe(0);
      await wrong.stop();
      await wrongStarted;
    });

    it('uses the new session secret after registering again; the old one is never sent again', async () => {
      const node = await fakeNode({ heartbeatIntervalMs: 50 });
      const worker = newWorker({ nodes: [node.url], handlers: { t: () => 'ok' } });
      await worker.start();
      const first = node.workers.get('w1')!.secret;
      await node.waitFor(() => node.polls.length >= 1, 'the first poll');
      node.expireWorker('w1');
      await node.waitFor(() => worker.status.workerId === 'w2', 'the second registration');
      const second = node.workers.get('w2')!.secret;
      expect(second).not.toBe(first);
      const since = node.requests.length;
      const a = node.assign({ target: 't', workerId: 'w2' });
      await finished(node, a.executionId);
      await node.waitFor(() => (node.workers.get('w2')?.heartbeats ?? 0) >= 2, 'heartbeats');
      const after = node.requests.slice(since).filter((r) => r.path.includes('/w2'));
      expect(after.length).toBeGreaterThan(0);
      expect(after.every((r) => r.bearer === second && r.status < 400)).toBe(true);
      expect(node.requests.slice(since).some((r) => r.bearer === first)).toBe(false);
    });

    it('registers again when the node refuses its session (403 WORKER_FORBIDDEN), as for a lost lease', async () => {
      const node = await fakeNode({ heartbeatIntervalMs: 50 });
      const logger = new CapturingLogger();
      const worker = newWorker({ nodes: [node.url], logger, handlers: { t: () => 'ok' } });
      await worker.start();
      node.forgetSession('w1');
      await node.waitFor(() => worker.status.workerId === 'w2', 'the second registration');
      expect(
        node.requests.some((r) => r.path.startsWith('/api/workers/g/w1') && r.status === 403),
      ).toBe(true);
      expect(logger.lines.some((l) => /^error .*refused the session of worker=w1/.test(l))).toBe(
        true,
      );
      const a = node.assign({ target: 't', workerId: 'w2' });
      await finished(node, a.executionId);
      expect(execution(node, a.executionId).status).toBe('succeeded');
    });

    it('refuses a token that cannot go into a header, without showing it', () => {
      for (const token of ['with space', 'line\nbreak', 'x'.repeat(4097), 42]) {
        let message = '';
        try {
          newWorker({
            nodes: ['http://127.0.0.1:1'],
            token: token as string,
            handlers: { t: () => 1 },
          });
        } catch (error) {
          expect(error).toBeInstanceOf(ForestWorkerConfigError);
          message = (error as Error).message;
        }
        expect(message).toMatch(/token: expected 1-4096 visible ASCII/);
        if (typeof token === 'string') expect(message).not.toContain(token);
      }
      process.env.FOREST_WORKER_TOKEN = 'bad token';
      expect(() => newWorker({ nodes: ['http://127.0.0.1:1'], handlers: { t: () => 1 } })).toThrow(
        /FOREST_WORKER_TOKEN: expected/,
      );
      // '' means no token, whatever the environment says.
      expect(() =>
        newWorker({ nodes: ['http://127.0.0.1:1'], token: '', handlers: { t: () => 1 } }),
      ).not.toThrow();
    });
  });
});
