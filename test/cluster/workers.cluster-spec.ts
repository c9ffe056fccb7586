import { randomUUID } from 'node:crypto';
import { ExecutionRecord, executionId, scheduledExecKey } from '@forest/protocol';
import { EtcdHarness } from '../support/etcd-harness';
import { NodeProcess } from '../support/node-process';
import { eventually, sleep } from '../support/wait';
import { WorkerProcess, WorkerProcessOptions } from '../support/worker-process';

/** Worker lease TTL: small, so a killed worker's work moves within seconds. */
const WORKER_TTL_S = 3;
const SECOND = 1000;
/** What the round-robin test's handler sleeps. */
const HANDLER_MS = 300;

interface ExecutionPage {
  items: ExecutionRecord[];
  next?: string;
}

/**
 * Fires, dispatch and worker failover end to end: a real etcd, the service as a process
 * (it leads, fires with its default 1 s lookahead, dispatches), and workers as separate
 * processes running the real SDK (test/support/worker-main.ts). Each test has its own
 * group and its own workers.
 */
describe('workers as processes against the service on etcd', () => {
  let etcd: EtcdHarness;
  let node: NodeProcess;
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    etcd = await EtcdHarness.start();
    node = await NodeProcess.start({
      FOREST_ETCD_ENDPOINTS: etcd.endpoint,
      FOREST_KEY_PREFIX: `/forest-workers-${randomUUID().slice(0, 8)}`,
      FOREST_NODE_ID: 'n1',
      FOREST_WORKER_TTL_S: String(WORKER_TTL_S),
      FOREST_LOG_LEVEL: 'warn',
    });
    await eventually(async () => {
      expect((await api<{ leader: boolean }>('GET', '/api/nodes/self')).leader).toBe(true);
    }, 15_000);
  }, 60_000);

  afterAll(async () => {
    await Promise.all(workers.map((worker) => worker.stop('SIGKILL')));
    await node?.stop('SIGKILL');
    await etcd?.stop();
  });

  /** Runs a test body; on failure prints what the service and the workers said. */
  async function explained(body: () => Promise<void>): Promise<void> {
    try {
      await body();
    } catch (error) {
      console.log(
        `--- service output (tail) ---\n${node.log.slice(-10_000)}\n` +
          workers.map((w) => w.describe()).join('\n'),
      );
      throw error;
    }
  }

  async function startWorker(options: Omit<WorkerProcessOptions, 'nodes'>) {
    const worker = await WorkerProcess.start({ nodes: [node.baseUrl], ...options });
    workers.push(worker);
    return worker;
  }

  async function api<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const response = await rawApi(method, path, body);
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path} -> ${response.status} ${text}`);
    return JSON.parse(text) as T;
  }

  function rawApi(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    bearer?: string,
  ): Promise<Response> {
    return fetch(`${node.baseUrl}${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(bearer === undefined ? {} : { authorization: `Bearer ${bearer}` }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(5000),
    });
  }

  async function createJob(group: string, id: string, cron: string): Promise<number> {
    const job = await api<{ createdAt: string }>('POST', '/api/jobs', {
      id,
      name: id,
      group,
      target: 't',
      schedule: { cron, timezone: 'UTC' },
    });
    // A new job is active from its creation: it first fires the next whole second after.
    return Date.parse(job.createdAt);
  }

  /** Every execution of a job through the list API (oldest first), following `next`. */
  async function listExecutions(jobId: string): Promise<ExecutionRecord[]> {
    const all: ExecutionRecord[] = [];
    let cursor: string | undefined;
    do {
      const query = new URLSearchParams({
        jobId,
        limit: '4',
        order: 'asc',
        ...(cursor ? { cursor } : {}),
      });
      const page = await api<ExecutionPage>('GET', `/api/executions?${query.toString()}`);
      all.push(...page.items);
      cursor = page.next;
    } while (cursor);
    return all;
  }

  const getExecution = (id: string) =>
    api<ExecutionRecord>('GET', `/api/executions/${encodeURIComponent(id)}`);

  /** Waits until the live-worker list shows every given worker. */
  async function waitListed(group: string, ...ids: string[]): Promise<void> {
    await eventually(async () => {
      const listed = (await api<{ items: { id: string }[] }>('GET', `/api/workers?group=${group}`))
        .items;
      expect(listed.map((w) => w.id).sort()).toEqual([...ids].sort());
    }, 10_000);
  }

  it('runs a per-second job for 10 s on two worker processes: one succeeded execution per fire, round robin, output and duration recorded', async () => {
    await explained(async () => {
      await api('POST', '/api/groups', { name: 'rr' });
      const [a, b] = await Promise.all(
        ['rr-a', 'rr-b'].map((name) =>
          startWorker({
            group: 'rr',
            name,
            concurrency: 4,
            sleepMs: HANDLER_MS,
            logLine: true,
            returnResult: true,
          }),
        ),
      );
      await waitListed('rr', a.workerId!, b.workerId!);

      const activeSince = await createJob('rr', 'rr-job', '* * * * * *');
      const first = Math.floor(activeSince / SECOND) * SECOND + SECOND;
      const fires = Array.from({ length: 10 }, (_, i) => first + i * SECOND);
      const ids = fires.map((ms) => executionId('rr-job', scheduledExecKey(ms)));

      // Ten seconds of fires, then until the tenth has finished.
      await eventually(async () => {
        expect((await getExecution(ids[9])).status).toBe('succeeded');
      }, 20_000);
      await api('POST', '/api/jobs/rr-job/pause');

      // Exactly one execution per scheduled second: no gap, no duplicate, nothing else.
      const listed = await listExecutions('rr-job');
      const inWindow = listed.filter((e) => e.scheduledMs <= fires[9]);
      expect(inWindow.map((e) => e.scheduledMs)).toEqual(fires);
      expect(inWindow.map((e) => e.id)).toEqual(ids);
      expect(listed.every((e) => e.trigger === 'schedule')).toBe(true);

      const records = await Promise.all(ids.map((id) => getExecution(id)));
      const byWorker = new Map([
        [a.workerId!, a],
        [b.workerId!, b],
      ]);
      const rows: string[] = [];
      records.forEach((record, i) => {
        expect(record.status).toBe('succeeded');
        const runner = byWorker.get(record.worker!);
        expect(runner).toBeDefined();
        // Round robin: with a free slot on both, each worker gets every other fire.
        if (i > 0) expect(record.worker).not.toBe(records[i - 1].worker);
        expect(record.output).toContain(`INFO handled ${record.id} by ${runner!.name}`);
        expect(record.output).toContain(
          JSON.stringify({ worker: record.worker, name: runner!.name }),
        );
        expect(record.timeline.map((t) => t.status)).toEqual([
          'pending',
          'assigned',
          'running',
          'succeeded',
        ]);
        expect(record.timeline.slice(1).every((t) => t.worker === record.worker)).toBe(true);
        // The handler ran once, on that worker, at the scheduled time (the fire was written
        // up to 1 s early; the SDK held it until then).
        const starts = [...a.starts, ...b.starts].filter((s) => s.id === record.id);
        expect(starts).toHaveLength(1);
        expect(starts[0].w).toBe(record.worker);
        const lag = starts[0].t - record.scheduledMs;
        expect(lag).toBeGreaterThanOrEqual(0);
        expect(lag).toBeLessThan(1000);
        // The node times a run from the `running` report to the final one, as they reach
        // it: it starts after the handler did and ends after it ended, so it is the
        // handler's time less however much later the `running` report arrived than the final.
        const end = [...a.ends, ...b.ends].find((e) => e.id === record.id)!;
        expect(end.ok).toBe(true);
        expect(end.t - starts[0].t).toBeGreaterThanOrEqual(HANDLER_MS - 1);
        const startedAt = Date.parse(record.startedAt!);
        const finishedAt = Date.parse(record.finishedAt!);
        expect(record.durationMs).toBe(finishedAt - startedAt);
        expect(startedAt).toBeGreaterThanOrEqual(starts[0].t);
        expect(finishedAt).toBeGreaterThanOrEqual(end.t);
        expect(record.durationMs).toBeGreaterThan(HANDLER_MS / 2);
        expect(record.durationMs).toBeLessThan(HANDLER_MS + 2000);
        rows.push(
          `${new Date(record.scheduledMs).toISOString().slice(11, 19)} ${runner!.name} ` +
            `lag ${lag} ms, handler ${end.t - starts[0].t} ms, recorded duration ` +
            `${record.durationMs} ms (running +${startedAt - starts[0].t} ms, final +${finishedAt - end.t} ms)`,
        );
      });
      expect(new Set(records.map((r) => r.worker)).size).toBe(2);
      console.log(`round robin over 10 s:\n${rows.join('\n')}`);

      expect(await a.stop('SIGTERM')).toBe(0);
      expect(await b.stop('SIGTERM')).toBe(0);
      expect(a.stoppedStatus).toMatchObject({ state: 'stopped', failed: 0, droppedReports: 0 });
      expect(b.stoppedStatus).toMatchObject({ state: 'stopped', failed: 0, droppedReports: 0 });
    });
  }, 90_000);

  /*
   * A (capacity 3, a handler that never returns) is the group's only worker when job
   * `kill-run` fires at second S: A runs it. Jobs `kill-u1` and `kill-u2` fire at S+2; with
   * the 1 s fire lookahead both are assigned to A at S+1, and the SDK holds them unstarted
   * until S+2. A is SIGKILLed inside (S+1, S+2), then B registers: once A's lease expires
   * the two unstarted ones move to B and run there; the running one becomes lost. (The
   * jobs fire once a minute, so nothing else reaches either worker meanwhile.)
   */
  it('moves the unstarted assignments of a SIGKILLed worker to the other one, and marks its running execution lost', async () => {
    await explained(async () => {
      await api('POST', '/api/groups', { name: 'kill' });
      const a = await startWorker({ group: 'kill', name: 'kill-a', concurrency: 3, block: true });
      // B is loaded now and registers on go(): no time lost on process start later.
      const b = await startWorker({
        group: 'kill',
        name: 'kill-b',
        concurrency: 4,
        sleepMs: 100,
        logLine: true,
        waitForGo: true,
      });
      await waitListed('kill', a.workerId!);

      // S: at least 2.5 s ahead, so all three jobs exist before it fires.
      const runAt = Math.ceil((Date.now() + 2500) / SECOND) * SECOND;
      const unstartedAt = runAt + 2 * SECOND;
      const cronAt = (ms: number) => `${new Date(ms).getUTCSeconds()} * * * * *`;
      await createJob('kill', 'kill-run', cronAt(runAt));
      await createJob('kill', 'kill-u1', cronAt(unstartedAt));
      await createJob('kill', 'kill-u2', cronAt(unstartedAt));
      const runId = executionId('kill-run', scheduledExecKey(runAt));
      const unstartedIds = ['kill-u1', 'kill-u2'].map((job) =>
        executionId(job, scheduledExecKey(unstartedAt)),
      );

      // A runs kill-run at S; at S+1 the two S+2 fires land in A's inbox.
      await a.waitFor('the S fire to start', () => a.starts.some((s) => s.id === runId), 10_000);
      await eventually(
        async () => {
          for (const id of unstartedIds) {
            expect(await getExecution(id)).toMatchObject({
              status: 'assigned',
              worker: a.workerId,
            });
          }
        },
        unstartedAt - Date.now() - 300,
      );
      if (Date.now() > unstartedAt - 150) {
        throw new Error(
          'too late to kill A before it starts the S+2 fires: the machine is overloaded',
        );
      }
      const killedAt = Date.now();
      await a.stop('SIGKILL');
      expect(a.starts.map((s) => s.id)).toEqual([runId]);
      const bId = await b.go();

      // Within the TTL (+ etcd's lease expiry check, + dispatch) they run on B.
      await b.waitFor(
        'the moved executions to start on B',
        () => unstartedIds.every((id) => b.starts.some((s) => s.id === id)),
        (WORKER_TTL_S + 5) * SECOND,
      );
      const movedAfterMs = Math.max(
        ...unstartedIds.map((id) => b.starts.find((s) => s.id === id)!.t - killedAt),
      );
      await eventually(async () => {
        for (const id of unstartedIds) expect((await getExecution(id)).status).toBe('succeeded');
        expect((await getExecution(runId)).status).toBe('lost');
      }, 5000);
      console.log(
        `A SIGKILLed at +${killedAt - runAt} ms after S; its unstarted executions started on B ` +
          `${movedAfterMs} ms after the kill (worker TTL ${WORKER_TTL_S} s)`,
      );
      expect(movedAfterMs).toBeLessThanOrEqual((WORKER_TTL_S + 1.5) * SECOND);

      for (const id of unstartedIds) {
        const record = await getExecution(id);
        expect(record).toMatchObject({ status: 'succeeded', worker: bId });
        expect(record.output).toContain(`handled ${id} by kill-b`);
        expect(record.timeline.map((t) => [t.status, t.worker])).toEqual([
          ['pending', undefined],
          ['assigned', a.workerId],
          ['pending', undefined],
          ['assigned', bId],
          ['running', bId],
          ['succeeded', bId],
        ]);
      }
      const lost = await getExecution(runId);
      expect(lost).toMatchObject({ status: 'lost', worker: a.workerId });
      expect(lost.error).toContain(`worker ${a.workerId}`);
      expect(lost.timeline.map((t) => t.status)).toEqual([
        'pending',
        'assigned',
        'running',
        'lost',
      ]);
      expect(b.starts.map((s) => s.id).sort()).toEqual([...unstartedIds].sort());

      // A report under the dead worker's id, arriving late, changes nothing: without its
      // session secret it is refused (401), and with any secret the node finds no such
      // worker any more (404: its record went with its lease, so there is nothing to
      // check a secret against).
      for (const [id, status] of [
        [unstartedIds[0], 'succeeded'],
        [runId, 'succeeded'],
      ]) {
        const path = `/api/workers/kill/${a.workerId}/executions/${encodeURIComponent(id)}/report`;
        const anonymous = await rawApi('POST', path, { status });
        expect(anonymous.status).toBe(401);
        expect(((await anonymous.json()) as { code: string }).code).toBe('WORKER_UNAUTHENTICATED');
        const late = await rawApi('POST', path, { status }, 'the-dead-worker-s-session-secret');
        expect(late.status).toBe(404);
        expect(((await late.json()) as { code: string }).code).toBe('WORKER_NOT_FOUND');
      }
      expect((await getExecution(unstartedIds[0])).status).toBe('succeeded');
      expect((await getExecution(runId)).status).toBe('lost');

      for (const job of ['kill-run', 'kill-u1', 'kill-u2']) {
        await api('POST', `/api/jobs/${job}/pause`);
      }
      expect(await b.stop('SIGTERM')).toBe(0);
    });
  }, 90_000);

  it('keeps the fires of a group without workers pending and runs them as soon as a worker registers', async () => {
    await explained(async () => {
      await api('POST', '/api/groups', { name: 'late' });
      await createJob('late', 'late-job', '* * * * * *');
      await sleep(3 * SECOND);
      const waiting = await listExecutions('late-job');
      expect(waiting.length).toBeGreaterThanOrEqual(3);
      for (const execution of waiting) {
        expect(execution.status).toBe('pending');
        expect(execution.worker).toBeUndefined();
      }

      const c = await startWorker({ group: 'late', name: 'late-c', concurrency: 10, sleepMs: 50 });
      const readyAt = c.readyAt!;
      // Everything fired before it registered (some of it written ahead of its time).
      const backlog = (await listExecutions('late-job')).filter(
        (e) => e.scheduledMs < readyAt || waiting.some((w) => w.id === e.id),
      );
      expect(backlog.length).toBeGreaterThanOrEqual(3);
      await eventually(async () => {
        for (const execution of backlog) {
          expect(await getExecution(execution.id)).toMatchObject({
            status: 'succeeded',
            worker: c.workerId,
          });
        }
      }, 10_000);
      await api('POST', '/api/jobs/late-job/pause');

      // Each started at once, or at its scheduled time if that was still ahead.
      const delays = backlog.map((e) => {
        const start = c.starts.find((s) => s.id === e.id);
        expect(start).toBeDefined();
        return start!.t - Math.max(readyAt, e.scheduledMs);
      });
      console.log(
        `${backlog.length} executions waiting for a worker started ${Math.min(...delays)}-` +
          `${Math.max(...delays)} ms after it registered (or their scheduled time)`,
      );
      expect(Math.min(...delays)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...delays)).toBeLessThan(1000);
      for (const execution of backlog) {
        const record = await getExecution(execution.id);
        expect(record.timeline.map((t) => t.status)).toEqual([
          'pending',
          'assigned',
          'running',
          'succeeded',
        ]);
      }
      // Nothing ran twice.
      expect(new Set(c.starts.map((s) => s.id)).size).toBe(c.starts.length);
      expect(await c.stop('SIGTERM')).toBe(0);
    });
  }, 60_000);
});
