import { executionId, retryExecutionId, scheduledExecKey } from '@forest/protocol';
import {
  ApiExecution,
  LifecycleRig,
  SECOND,
  cronAtSecondOf,
  sleepUntil,
  timelineAt,
} from '../support/lifecycle-rig';
import { eventually, sleep } from '../support/wait';
import { WorkerProcess } from '../support/worker-process';

/** FOREST_TIMEOUT_GRACE_MS of the nodes: how long past timeoutMs the leader waits. */
const GRACE_MS = 500;
/** The jobs' time limit. */
const TIMEOUT_MS = 1000;
/** What the handler sleeps, ignoring its signal: far longer than the time limit. */
const HANDLER_MS = 10_000;
/** Leader-side lateness allowed on top of timeoutMs + grace: its deadline timer, the watch, the txn. */
const SLACK_MS = 1500;
/** Fixed backoff of the failover test: long enough for a leader SIGKILL to land in it. */
const FIXED_BACKOFF_MS = 4000;

/**
 * Leader-side deadlines and retries end to end: three node processes on a real etcd and
 * two worker processes whose handler ignores its signal and runs far past the job's
 * timeoutMs. The leader must mark each attempt `timed_out` on its own (the worker would
 * only report after 10 s), the SDK fires the handler's signal at timeoutMs, and with
 * `retry.maxAttempts: 2` exactly two more attempts run, `{first}.r2` and `{first}.r3`,
 * linked by retryOf and spaced by their backoff; the same with the leader SIGKILLed while
 * a retry waits for its backoff, twice.
 */
describe('timeouts and retries enforced by the leader (3 nodes, real etcd, worker processes)', () => {
  let rig: LifecycleRig;
  let workers: WorkerProcess[];

  beforeAll(async () => {
    rig = await LifecycleRig.start(['n1', 'n2', 'n3'], {
      FOREST_WORKER_TTL_S: '3',
      FOREST_LEASE_TTL_S: '2',
      FOREST_ETCD_DIAL_TIMEOUT_MS: '1000',
      FOREST_TIMEOUT_GRACE_MS: String(GRACE_MS),
    });
    await rig.api('POST', '/api/groups', { name: 'tr' });
    workers = await Promise.all(
      ['tr-a', 'tr-b'].map((name) =>
        rig.startWorker({
          group: 'tr',
          name,
          concurrency: 4,
          sleepMs: HANDLER_MS,
          ignoreAbort: true,
          recordAborts: true,
          stopTimeoutMs: 1000,
        }),
      ),
    );
    await rig.waitListed('tr', ...workers.map((w) => w.workerId!));
  }, 120_000);

  afterAll(async () => {
    await rig?.close();
  });

  const startsOf = (id: string) => workers.flatMap((w) => w.starts).filter((s) => s.id === id);
  const abortsOf = (id: string) => workers.flatMap((w) => w.aborts).filter((a) => a.id === id);
  const endsOf = (id: string) => workers.flatMap((w) => w.ends).filter((e) => e.id === id);

  /** A job firing once a minute, at a second at least 2.5 s ahead; returns its first attempt id. */
  async function createJob(
    id: string,
    retry: { backoff: 'fixed' | 'exponential'; initialDelayMs: number; maxDelayMs: number },
  ): Promise<{ firstId: string; dueMs: number }> {
    const dueMs = Math.ceil((Date.now() + 2500) / SECOND) * SECOND;
    await rig.api('POST', '/api/jobs', {
      id,
      name: id,
      group: 'tr',
      target: 't',
      schedule: { cron: cronAtSecondOf(dueMs), timezone: 'UTC' },
      timeoutMs: TIMEOUT_MS,
      retry: { maxAttempts: 2, ...retry },
    });
    return { firstId: executionId(id, scheduledExecKey(dueMs)), dueMs };
  }

  /** Waits until attempt `attempt` (1-based) of the fire exists and is final. */
  async function waitTimedOut(ids: string[], attempt: number, timeoutMs: number) {
    let last: ApiExecution | string = 'not read';
    await eventually(async () => {
      try {
        last = await rig.getExecution(ids[attempt - 1]);
      } catch (error) {
        last = String(error);
      }
      expect(typeof last === 'object' && last.status).toBe('timed_out');
    }, timeoutMs).catch((error: Error) => {
      throw new Error(
        `attempt ${attempt} (${ids[attempt - 1]}) did not end timed_out: ${error.message}\n` +
          `last read: ${JSON.stringify(last)}`,
      );
    });
  }

  /**
   * What every attempt of a fire must show: the ids and links, each handler started once,
   * timed out by the leader while the handler still ran, the signal aborted at timeoutMs,
   * each retry dispatched no earlier than its retryAt = finish + backoff (-20 % jitter).
   */
  async function checkAttempts(
    ids: string[],
    backoffOf: (attempt: number) => number,
    rows: string[],
  ): Promise<ApiExecution[]> {
    const records = await Promise.all(ids.map((id) => rig.getExecution(id)));
    // The fire's attempts, attempt 1 first, whichever attempt is asked about.
    for (const id of ids) {
      expect((await rig.attemptsOf(id)).map((e) => e.id)).toEqual(ids);
    }
    records.forEach((record, i) => {
      const attempt = i + 1;
      expect(record).toMatchObject({
        id: ids[i],
        status: 'timed_out',
        attempt,
        trigger: attempt === 1 ? 'schedule' : 'retry',
        timeoutMs: TIMEOUT_MS,
      });
      if (attempt === 1) expect(record.retryOf).toBeUndefined();
      else expect(record.retryOf).toBe(ids[i - 1]);

      // Started once, on one worker, never again anywhere.
      const starts = startsOf(record.id);
      expect(starts).toHaveLength(1);
      expect(starts[0].a).toBe(attempt);
      const startedMs = starts[0].t;

      // Timed out by the leader within timeoutMs + grace (+ slack), not by the worker: the
      // handler ignores its signal and was still running when the record became timed_out.
      const timedOutAt = timelineAt(record, 'timed_out')!;
      expect(timedOutAt).toBeDefined();
      const lateness = timedOutAt - startedMs;
      expect(lateness).toBeGreaterThanOrEqual(TIMEOUT_MS);
      expect(lateness).toBeLessThanOrEqual(TIMEOUT_MS + GRACE_MS + SLACK_MS);
      const end = endsOf(record.id)[0];
      if (end) expect(end.t).toBeGreaterThan(timedOutAt);
      expect(rig.started.map((n) => n.nodeId)).toContain(
        record.timeline[record.timeline.length - 1].node,
      );

      // The handler's signal fired (the SDK's own timer at timeoutMs, or the leader's word).
      const aborts = abortsOf(record.id);
      expect(aborts).toHaveLength(1);
      const abortAfter = aborts[0].t - startedMs;
      expect(abortAfter).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
      expect(abortAfter).toBeLessThanOrEqual(TIMEOUT_MS + GRACE_MS + SLACK_MS);

      let spacing = '';
      if (attempt > 1) {
        const previous = records[i - 1];
        const finishedMs = Date.parse(previous.finishedAt ?? previous.timeline.at(-1)!.at);
        const backoff = backoffOf(attempt - 1);
        expect(record.retryAt).toBeDefined();
        const retryAtMs = Date.parse(record.retryAt!);
        // retryAt = finish + backoff, less up to 20 % jitter (a few ms of rounding allowed).
        expect(retryAtMs - finishedMs).toBeGreaterThanOrEqual(0.8 * backoff - 50);
        expect(retryAtMs - finishedMs).toBeLessThanOrEqual(backoff + 50);
        // Dispatched not before then.
        expect(startedMs).toBeGreaterThanOrEqual(retryAtMs - 5);
        expect(startedMs - finishedMs).toBeGreaterThanOrEqual(0.8 * backoff - 50);
        spacing = `, ${startedMs - finishedMs} ms after attempt ${attempt - 1} finished (backoff ${backoff}, retryAt +${retryAtMs - finishedMs})`;
      }
      rows.push(
        `${record.id}: started on ${starts[0].w}, signal +${abortAfter} ms, timed_out by ` +
          `${record.timeline.at(-1)!.node} +${lateness} ms${spacing}`,
      );
    });
    return records;
  }

  it('times out a handler that ignores its signal on the leader, and retries it exactly twice with exponential backoff', async () => {
    await rig.explained(async () => {
      const { firstId } = await createJob('to-exp', {
        backoff: 'exponential',
        initialDelayMs: 1000,
        maxDelayMs: 10_000,
      });
      const ids = [firstId, retryExecutionId(firstId, 2), retryExecutionId(firstId, 3)];
      expect(ids[1]).toBe(`${firstId}.r2`);

      // 2.5 s to the fire, then 3 x (1 s + grace + slack) and backoffs of 1 s and 2 s.
      await waitTimedOut(ids, 3, 30_000);
      // Nothing after the third: no fourth attempt is created.
      await sleep(SECOND);
      await rig.api('POST', '/api/jobs/to-exp/pause');
      const listed = await rig.listExecutions('to-exp');
      expect(listed.map((e) => e.id).sort()).toEqual([...ids].sort());

      const rows: string[] = [];
      // exponential: initialDelayMs * 2^(n-1) after attempt n, capped by maxDelayMs.
      await checkAttempts(ids, (n) => Math.min(1000 * 2 ** (n - 1), 10_000), rows);
      console.log(`timeouts and exponential retries:\n${rows.join('\n')}`);
    });
  }, 90_000);

  it('runs exactly three attempts, none twice, with the leader SIGKILLed while each retry waits for its backoff', async () => {
    await rig.explained(async () => {
      const { firstId, dueMs } = await createJob('to-kill', {
        backoff: 'fixed',
        initialDelayMs: FIXED_BACKOFF_MS,
        maxDelayMs: 60_000,
      });
      const ids = [firstId, retryExecutionId(firstId, 2), retryExecutionId(firstId, 3)];
      await sleepUntil(dueMs);

      const kills: string[] = [];
      for (const attempt of [1, 2]) {
        // Attempt n timed out; the retry exists and waits for its backoff: kill the leader.
        await waitTimedOut(ids, attempt, 15_000);
        const retry = await rig.getExecution(ids[attempt]);
        expect(retry).toMatchObject({ attempt: attempt + 1, trigger: 'retry' });
        expect(['pending', 'assigned']).toContain(retry.status);
        const retryAtMs = Date.parse(retry.retryAt!);
        const kill = await rig.killLeader();
        // The kill landed between the attempts: the retry's handler had not started.
        expect(startsOf(ids[attempt])).toHaveLength(0);
        kills.push(
          `leader ${kill.killed} SIGKILLed ${retryAtMs - kill.at} ms before ${ids[attempt]} was due; ` +
            `${kill.newLeader} led ${kill.failoverMs} ms later`,
        );
      }
      await waitTimedOut(ids, 3, 20_000);
      await sleep(SECOND);
      await rig.api('POST', '/api/jobs/to-kill/pause');

      const listed = await rig.listExecutions('to-kill');
      expect(listed.map((e) => e.id).sort()).toEqual([...ids].sort());
      const rows: string[] = [];
      await checkAttempts(ids, () => FIXED_BACKOFF_MS, rows);
      // Every handler start of this job, on either worker, is one of the three, once.
      const starts = workers.flatMap((w) => w.starts).filter((s) => s.job === 'to-kill');
      expect(starts.map((s) => s.id).sort()).toEqual([...ids].sort());
      console.log(`retries across leader kills:\n${kills.join('\n')}\n${rows.join('\n')}`);
    });
  }, 90_000);
});
