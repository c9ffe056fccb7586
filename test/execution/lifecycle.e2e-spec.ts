import type { AddressInfo } from 'node:net';
import type { ForestJobContext } from '@forest/worker/client';
import { startTestApp, TestApp } from '../support/app-harness';
import { injectJson, Json, JsonResponse } from '../support/http-inject';
import { sleep, waitFor } from '../support/wait';
import { WorkerFleet } from '../support/worker-fleet';

/** A schedule that never fires during a test (midnight, January 1st). */
const NEVER = '0 0 1 1 *';
const GROUP = 'life';
const FINAL = ['succeeded', 'failed', 'timed_out', 'lost', 'cancelled', 'skipped'];
/** FOREST_TIMEOUT_GRACE_MS of the node. */
const GRACE_MS = 300;
/** FOREST_WORKER_TTL_S of the node: workers heartbeat every third of it. */
const WORKER_TTL_S = 2;
const HEARTBEAT_MS = Math.round((WORKER_TTL_S * 1000) / 3);
/** How late a revoked handler's signal may fire: two heartbeats, and the request's own time. */
const ABORT_WITHIN_MS = 2 * HEARTBEAT_MS + 500;
/** The leader-timeout job's limit, and how long its first attempt ignores its signal. */
const TIMEOUT_MS = 300;
const STUBBORN_MS = 3000;
/** The longest a `hold` handler waits for its signal when the worker is never told to abort. */
const HOLD_CAP_MS = 5000;
/** Retries never jitter more than this share off their backoff. */
const JITTER = 0.2;
/** Clock slack for comparisons of times the node recorded (ms rounding, timers). */
const SLACK_MS = 15;

interface Execution {
  id: string;
  jobId: string;
  status: string;
  trigger: string;
  attempt: number;
  worker?: string;
  firedAt: string;
  startedAt?: string;
  finishedAt?: string;
  error?: string;
  retryOf?: string;
  retryAt?: string;
  skipReason?: string;
  cancelledBy?: { kind: string; node: string; by?: string; reason?: string };
  forced?: boolean;
  timeline?: { status: string; at: string; node: string; worker?: string }[];
}

/** When a handler's signal fired, and with what reason. */
interface AbortSeen {
  atMs: number;
  reason: string;
}

/**
 * The execution lifecycle end to end on one embedded-store node with in-process SDK
 * workers: retries (ids, links, backoff, the retries_exhausted alert), the leader's
 * deadline, concurrency `forbid` and `replace`, and cancelling a running execution. The
 * worker learns from its heartbeat which held executions to abort, so a revoked
 * handler's signal must fire within about two heartbeat intervals.
 */
describe('execution lifecycle (embedded node, in-process workers)', () => {
  let subject: TestApp;
  let fleet: WorkerFleet;
  /** Execution id -> when (and why) its handler's signal fired. */
  const aborts = new Map<string, AbortSeen>();

  function watchAbort(ctx: ForestJobContext): void {
    const seen = () =>
      aborts.set(ctx.executionId, {
        atMs: Date.now(),
        reason: reasonName(ctx.signal.reason),
      });
    if (ctx.signal.aborted) seen();
    else ctx.signal.addEventListener('abort', seen, { once: true });
  }

  /** Resolves when the signal fires or `ms` pass, whichever is first. */
  function abortedOr(signal: AbortSignal, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      signal.addEventListener(
        'abort',
        () => {
          clearTimeout(timer);
          resolve();
        },
        { once: true },
      );
    });
  }

  beforeAll(async () => {
    subject = await startTestApp({
      store: 'embedded',
      env: {
        FOREST_TIMEOUT_GRACE_MS: String(GRACE_MS),
        FOREST_WORKER_TTL_S: String(WORKER_TTL_S),
      },
    });
    await subject.app.listen(0, '127.0.0.1');
    const { port } = subject.app.getHttpServer().address() as AddressInfo;
    expect((await call('POST', '/api/groups', { name: GROUP })).statusCode).toBe(201);

    fleet = new WorkerFleet(`http://127.0.0.1:${port}`, GROUP, {
      /** Always fails. */
      fail: (ctx) => {
        throw new Error(`attempt ${ctx.attempt} failed on purpose`);
      },
      /** Fails its first attempt only. */
      flaky: (ctx) => {
        if (ctx.attempt === 1) throw new Error('first attempt fails');
        return 'ok';
      },
      /** First attempt: runs STUBBORN_MS ignoring its signal; later attempts succeed. */
      stubborn: async (ctx) => {
        watchAbort(ctx);
        if (ctx.attempt === 1) await sleep(STUBBORN_MS);
        return `attempt ${ctx.attempt}`;
      },
      /** Sleeps params.ms (ignoring its signal). */
      sleep: async (ctx) => {
        watchAbort(ctx);
        await sleep(Number((ctx.params as Json | null)?.ms ?? 0));
        return 'slept';
      },
      /** Waits for its signal, at most params.ms (default HOLD_CAP_MS). */
      hold: async (ctx) => {
        watchAbort(ctx);
        await abortedOr(ctx.signal, Number((ctx.params as Json | null)?.ms ?? HOLD_CAP_MS));
        return ctx.signal.aborted ? 'aborted' : 'held';
      },
    });
    await fleet.add({ name: 'lw-a', concurrency: 4 });
    await fleet.add({ name: 'lw-b', concurrency: 4 });
  }, 30_000);

  afterAll(async () => {
    await fleet?.stopAll();
    await subject?.close();
  });

  function call(method: string, url: string, payload?: unknown): Promise<JsonResponse> {
    return injectJson(subject.app, method, url, payload);
  }

  async function createJob(id: string, target: string, extra: Json = {}): Promise<void> {
    const response = await call('POST', '/api/jobs', {
      id,
      name: `job ${id}`,
      group: GROUP,
      schedule: { cron: NEVER },
      target,
      state: 'paused',
      ...extra,
    });
    expect(response).toMatchObject({ statusCode: 201 });
  }

  /** POST /api/jobs/{id}/trigger; expects 201 and returns the execution. */
  async function trigger(jobId: string, body?: Json): Promise<Execution> {
    const response = await call('POST', `/api/jobs/${jobId}/trigger`, body);
    expect(response).toMatchObject({ statusCode: 201 });
    return response.body as Execution;
  }

  async function get(id: string): Promise<Execution> {
    const response = await call('GET', `/api/executions/${encodeURIComponent(id)}`);
    expect(response).toMatchObject({ statusCode: 200 });
    return response.body as Execution;
  }

  async function exists(id: string): Promise<boolean> {
    const response = await call('GET', `/api/executions/${encodeURIComponent(id)}`);
    if (response.statusCode === 404) return false;
    expect(response.statusCode).toBe(200);
    return true;
  }

  async function attemptsOf(id: string): Promise<Execution[]> {
    const response = await call('GET', `/api/executions?attemptsOf=${encodeURIComponent(id)}`);
    expect(response).toMatchObject({ statusCode: 200 });
    return response.body.items as Execution[];
  }

  /** Every execution of the job (list items), following `next`. */
  async function executionsOf(jobId: string): Promise<Execution[]> {
    const items: Execution[] = [];
    let cursor: string | undefined;
    do {
      const query = `jobId=${jobId}&limit=500${cursor ? `&cursor=${cursor}` : ''}`;
      const page = await call('GET', `/api/executions?${query}`);
      expect(page.statusCode).toBe(200);
      items.push(...(page.body.items as Execution[]));
      cursor = page.body.next as string | undefined;
    } while (cursor);
    return items;
  }

  /** Waits until the execution's status is one of `statuses`; returns it (full). */
  async function waitStatus(id: string, statuses: string[], ms = 10_000): Promise<Execution> {
    const execution = await waitFor(
      () => get(id),
      (e) => statuses.includes(e.status),
      ms,
    );
    if (!statuses.includes(execution.status)) {
      throw new Error(
        `execution ${id} is ${execution.status}, not ${statuses.join('/')}: ${JSON.stringify(execution)}`,
      );
    }
    return execution;
  }

  /** Waits until the fire of `id` has `count` attempts, all final; returns them in order. */
  async function settledAttempts(id: string, count: number, ms = 10_000): Promise<Execution[]> {
    const items = await waitFor(
      () => attemptsOf(id),
      (list) => list.length >= count && list.every((e) => FINAL.includes(e.status)),
      ms,
    );
    expect(items.map((e) => [e.id, e.status])).toHaveLength(count);
    return items;
  }

  const ms = (iso: string | undefined) => {
    expect(iso).toBeDefined();
    return Date.parse(iso!);
  };

  const alertsOf = async (jobId: string) => {
    const response = await call('GET', '/api/alerts?limit=500');
    expect(response.statusCode).toBe(200);
    return (response.body.items as { alert: Json }[])
      .map((entry) => entry.alert)
      .filter((alert) => alert.job?.id === jobId);
  };

  describe('retries', () => {
    it('retries a failing attempt after its fixed backoff, twice, then raises retries_exhausted', async () => {
      await createJob('rt-fixed', 'fail', {
        retry: { maxAttempts: 2, backoff: 'fixed', initialDelayMs: 500, maxDelayMs: 500 },
      });
      const first = await trigger('rt-fixed');
      const x = first.id;
      const attempts = await settledAttempts(x, 3);
      // Nothing follows the last attempt (its backoff would have passed by now).
      await sleep(700);
      expect(await exists(`${x}.r4`)).toBe(false);
      const all = await executionsOf('rt-fixed');
      expect(all.map((e) => e.id).sort()).toEqual([x, `${x}.r2`, `${x}.r3`].sort());

      expect(attempts.map((e) => e.id)).toEqual([x, `${x}.r2`, `${x}.r3`]);
      expect(attempts.map((e) => e.attempt)).toEqual([1, 2, 3]);
      expect(attempts.map((e) => e.status)).toEqual(['failed', 'failed', 'failed']);
      expect(attempts.map((e) => e.trigger)).toEqual(['manual', 'retry', 'retry']);
      expect(attempts.map((e) => e.retryOf)).toEqual([undefined, x, `${x}.r2`]);
      for (let i = 1; i < 3; i++) {
        const previousEnd = ms(attempts[i - 1].finishedAt);
        const retryAt = ms(attempts[i].retryAt);
        // The backoff less at most 20 % jitter, counted from the previous attempt's end.
        expect(retryAt - previousEnd).toBeGreaterThanOrEqual(500 * (1 - JITTER));
        expect(retryAt - previousEnd).toBeLessThanOrEqual(500);
        // Not started before its backoff passed.
        expect(ms(attempts[i].startedAt)).toBeGreaterThanOrEqual(retryAt - SLACK_MS);
        expect(ms(attempts[i].startedAt) - previousEnd).toBeGreaterThanOrEqual(400 - SLACK_MS);
      }
      // The handler saw each attempt once, in order, each well after the previous one ended.
      const runs = fleet.runsOf('rt-fixed');
      expect(runs.map((r) => r.executionId)).toEqual([x, `${x}.r2`, `${x}.r3`]);
      for (let i = 1; i < runs.length; i++) {
        expect(runs[i].startedMs - runs[i - 1].endedMs!).toBeGreaterThanOrEqual(350);
      }

      // Any attempt names the whole fire, attempt 1 first.
      for (const id of [x, `${x}.r2`, `${x}.r3`]) {
        expect((await attemptsOf(id)).map((e) => e.id)).toEqual([x, `${x}.r2`, `${x}.r3`]);
      }
      const full = await get(`${x}.r2`);
      expect(full).toMatchObject({
        retryOf: x,
        trigger: 'retry',
        retryPolicy: { maxAttempts: 2, backoff: 'fixed', initialDelayMs: 500, maxDelayMs: 500 },
      });

      const exhausted = await waitFor(
        () => alertsOf('rt-fixed'),
        (alerts) => alerts.some((a) => a.event === 'retries_exhausted'),
        3000,
      );
      const alert = exhausted.filter((a) => a.event === 'retries_exhausted');
      expect(alert).toHaveLength(1);
      expect(alert[0].execution).toMatchObject({ id: `${x}.r3`, attempt: 3, status: 'failed' });
    });

    it('stops retrying once an attempt succeeds', async () => {
      await createJob('rt-flaky', 'flaky', {
        retry: { maxAttempts: 2, backoff: 'fixed', initialDelayMs: 300, maxDelayMs: 300 },
      });
      const x = (await trigger('rt-flaky')).id;
      const attempts = await settledAttempts(x, 2);
      expect(attempts.map((e) => [e.id, e.status, e.attempt])).toEqual([
        [x, 'failed', 1],
        [`${x}.r2`, 'succeeded', 2],
      ]);
      await sleep(600);
      expect(await exists(`${x}.r3`)).toBe(false);
      expect(fleet.runsOf('rt-flaky')).toHaveLength(2);
      expect((await alertsOf('rt-flaky')).map((a) => a.event)).not.toContain('retries_exhausted');
    });

    it('makes no retry of a trigger with retry: false', async () => {
      await createJob('rt-off', 'fail', {
        retry: { maxAttempts: 2, backoff: 'fixed', initialDelayMs: 300, maxDelayMs: 300 },
      });
      const x = (await trigger('rt-off', { retry: false })).id;
      await waitStatus(x, ['failed']);
      // Well past the backoff a retry would have waited.
      await sleep(900);
      expect(await exists(`${x}.r2`)).toBe(false);
      expect((await executionsOf('rt-off')).map((e) => e.id)).toEqual([x]);
      expect(fleet.runsOf('rt-off')).toHaveLength(1);
      // And a plain trigger of the same job does retry (the policy is there).
      const y = (await trigger('rt-off')).id;
      expect(await waitFor(() => exists(`${y}.r2`), Boolean, 5000)).toBe(true);
      await settledAttempts(y, 3);
    });

    it('doubles an exponential backoff from attempt to attempt', async () => {
      const initial = 200;
      await createJob('rt-exp', 'fail', {
        retry: {
          maxAttempts: 3,
          backoff: 'exponential',
          initialDelayMs: initial,
          maxDelayMs: 60_000,
        },
      });
      const x = (await trigger('rt-exp')).id;
      const attempts = await settledAttempts(x, 4);
      expect(attempts.map((e) => e.attempt)).toEqual([1, 2, 3, 4]);
      const gaps = [1, 2, 3].map((i) => ms(attempts[i].retryAt) - ms(attempts[i - 1].finishedAt));
      gaps.forEach((gap, i) => {
        const base = initial * 2 ** i;
        expect(gap).toBeGreaterThanOrEqual(base * (1 - JITTER));
        expect(gap).toBeLessThanOrEqual(base);
      });
      // Roughly doubling (jitter allowed): 200, 400, 800 less up to 20 % each.
      expect(gaps[1] / gaps[0]).toBeGreaterThan(1.5);
      expect(gaps[1] / gaps[0]).toBeLessThan(2.6);
      expect(gaps[2] / gaps[1]).toBeGreaterThan(1.5);
      expect(gaps[2] / gaps[1]).toBeLessThan(2.6);
      for (let i = 1; i < 4; i++) {
        expect(ms(attempts[i].startedAt)).toBeGreaterThanOrEqual(
          ms(attempts[i].retryAt) - SLACK_MS,
        );
      }
    });
  });

  describe('leader-side timeout', () => {
    let timedOutId: string;

    it('marks a running execution whose handler ignores its signal timed_out, then retries it', async () => {
      await createJob('to-leader', 'stubborn', {
        timeoutMs: TIMEOUT_MS,
        retry: { maxAttempts: 1, backoff: 'fixed', initialDelayMs: 100, maxDelayMs: 100 },
      });
      const x = (await trigger('to-leader')).id;
      timedOutId = x;
      const running = await waitStatus(x, ['running', ...FINAL], 5000);
      expect(running.status).toBe('running');
      const timedOut = await waitStatus(x, ['timed_out', ...FINAL], 5000);
      const seenAt = Date.now();
      expect(timedOut.status).toBe('timed_out');
      expect(timedOut.error).toMatch(/leader/);

      const run = fleet.runsOf('to-leader').find((r) => r.executionId === x);
      expect(run).toBeDefined();
      // The handler was still running when the leader gave up on it.
      expect(run!.endedMs).toBeUndefined();
      expect(seenAt - run!.startedMs).toBeLessThan(STUBBORN_MS - 1000);
      // Not before timeoutMs + grace of its start, and not much later.
      const took = ms(timedOut.finishedAt) - ms(timedOut.startedAt);
      expect(took).toBeGreaterThanOrEqual(TIMEOUT_MS + GRACE_MS - SLACK_MS);
      expect(took).toBeLessThanOrEqual(TIMEOUT_MS + GRACE_MS + 1000);
      // Its signal fired (the SDK's own limit at timeoutMs, or the node's abort notice).
      expect(aborts.get(x)).toBeDefined();
      expect(aborts.get(x)!.atMs).toBeLessThanOrEqual(ms(timedOut.finishedAt) + ABORT_WITHIN_MS);

      // The retry runs (and succeeds: only attempt 1 is stubborn).
      const retry = await waitStatus(`${x}.r2`, FINAL, 5000);
      expect(retry).toMatchObject({
        status: 'succeeded',
        attempt: 2,
        retryOf: x,
        trigger: 'retry',
      });
      expect((await attemptsOf(x)).map((e) => [e.id, e.status])).toEqual([
        [x, 'timed_out'],
        [`${x}.r2`, 'succeeded'],
      ]);
      expect((await alertsOf('to-leader')).map((a) => a.event)).toContain('timed_out');
    });

    it('keeps the leader-timed-out execution as it is when the late handler returns', async () => {
      const run = await waitFor(
        () => Promise.resolve(fleet.runsOf('to-leader').find((r) => r.executionId === timedOutId)),
        (r) => r?.endedMs !== undefined,
        STUBBORN_MS + 2000,
      );
      expect(run?.endedMs).toBeDefined();
      // Its report (if the worker still sent one) came too late to change anything.
      await sleep(300);
      const record = await get(timedOutId);
      expect(record.status).toBe('timed_out');
      expect(record.error).toMatch(/leader/);
      expect((await attemptsOf(timedOutId)).map((e) => e.id)).toEqual([
        timedOutId,
        `${timedOutId}.r2`,
      ]);
    });
  });

  describe('concurrency forbid', () => {
    it('refuses a manual trigger while the job is active (409 JOB_ACTIVE) unless forced', async () => {
      await createJob('cf-manual', 'sleep', { concurrency: 'forbid', params: { ms: 2500 } });
      const first = await trigger('cf-manual');
      expect(first).toMatchObject({ concurrency: 'forbid' });
      await waitStatus(first.id, ['running'], 5000);

      const refused = await call('POST', '/api/jobs/cf-manual/trigger');
      expect(refused.statusCode).toBe(409);
      expect(refused.body).toMatchObject({
        code: 'JOB_ACTIVE',
        details: { activeExecution: first.id },
      });

      const forced = await call('POST', '/api/jobs/cf-manual/trigger', { force: true });
      expect(forced.statusCode).toBe(201);
      expect(forced.body).toMatchObject({ forced: true });
      const forcedId = forced.body.id as string;
      // It runs beside the first one.
      await waitStatus(forcedId, ['running', ...FINAL], 5000);
      const firstNow = await get(first.id);
      expect(firstNow.status).toBe('running');
      expect((await get(forcedId)).status).toBe('running');

      await waitStatus(first.id, ['succeeded'], 5000);
      await waitStatus(forcedId, ['succeeded'], 5000);
      const runs = fleet.runsOf('cf-manual');
      expect(runs).toHaveLength(2);
      expect(runs[1].startedMs).toBeLessThan(runs[0].endedMs!);
      // Once the job is idle again an ordinary trigger is admitted.
      const again = await trigger('cf-manual', { params: { ms: 0 } });
      await waitStatus(again.id, ['succeeded'], 5000);
    });

    it('skips cron fires while an execution is active, never running two at once', async () => {
      const jobId = 'cf-cron';
      const response = await call('POST', '/api/jobs', {
        id: jobId,
        name: `job ${jobId}`,
        group: GROUP,
        schedule: { cron: '* * * * * *' },
        target: 'sleep',
        params: { ms: 2500 },
        concurrency: 'forbid',
      });
      expect(response.statusCode).toBe(201);
      await sleep(6000);
      expect((await call('POST', `/api/jobs/${jobId}/pause`)).statusCode).toBeLessThan(300);
      const items = await waitFor(
        () => executionsOf(jobId),
        (list) => list.every((e) => FINAL.includes(e.status)),
        8000,
      );
      expect(items.every((e) => FINAL.includes(e.status))).toBe(true);

      const skipped = items.filter((e) => e.status === 'skipped');
      const ran = items.filter((e) => e.status !== 'skipped');
      expect(skipped.length).toBeGreaterThanOrEqual(2);
      expect(ran.length).toBeGreaterThanOrEqual(2);
      for (const e of skipped) {
        expect(e.skipReason).toMatch(/concurrency forbid/);
        expect(e.worker).toBeUndefined();
      }
      expect(ran.map((e) => e.status)).toEqual(ran.map(() => 'succeeded'));

      // From the timelines: each execution that ran was active (pending, assigned, running)
      // only after the one before it had finished.
      const full = await Promise.all(ran.map((e) => get(e.id)));
      const spans = full
        .map((e) => {
          const active = e.timeline!.filter((t) =>
            ['pending', 'assigned', 'running'].includes(t.status),
          );
          expect(active.length).toBeGreaterThan(0);
          return { id: e.id, from: Date.parse(active[0].at), to: ms(e.finishedAt) };
        })
        .sort((a, b) => a.from - b.from);
      for (let i = 1; i < spans.length; i++) {
        expect({ id: spans[i].id, overlaps: spans[i].from < spans[i - 1].to }).toEqual({
          id: spans[i].id,
          overlaps: false,
        });
      }
      // And as the workers saw it: never two handlers of the job at once.
      const runs = [...fleet.runsOf(jobId)].sort((a, b) => a.startedMs - b.startedMs);
      expect(runs).toHaveLength(ran.length);
      for (let i = 1; i < runs.length; i++) {
        expect(runs[i].startedMs).toBeGreaterThanOrEqual(runs[i - 1].endedMs!);
      }
    }, 25_000);
  });

  describe('concurrency replace', () => {
    it('cancels the active execution for the new one and aborts its handler', async () => {
      await createJob('cr-manual', 'hold', { concurrency: 'replace' });
      const first = await trigger('cr-manual');
      await waitStatus(first.id, ['running'], 5000);

      const second = await trigger('cr-manual', { params: { ms: 200 } });
      const replacedAt = Date.now();
      const cancelled = await get(first.id);
      expect(cancelled.status).toBe('cancelled');
      expect(cancelled.cancelledBy).toMatchObject({ kind: 'replace', by: second.id });
      // The second runs, and succeeds.
      await waitStatus(second.id, ['succeeded'], 5000);
      // Cancelled, not retried, and the late report of the first changes nothing.
      await waitFor(
        () => Promise.resolve(fleet.runsOf('cr-manual').find((r) => r.executionId === first.id)),
        (r) => r?.endedMs !== undefined,
        HOLD_CAP_MS + 1000,
      );
      await sleep(200);
      expect((await get(first.id)).status).toBe('cancelled');

      // The worker was told at a heartbeat: the first handler's signal fired soon after.
      const seen = aborts.get(first.id);
      expect(seen).toBeDefined();
      expect(seen!.atMs - replacedAt).toBeLessThanOrEqual(ABORT_WITHIN_MS);
      expect(seen!.reason).toBe('ExecutionRevokedError');
      expect(aborts.get(second.id)).toBeUndefined();
    }, 15_000);
  });

  describe('cancel a running execution', () => {
    it('cancels it through the API, aborts its handler and makes no retry', async () => {
      await createJob('cc-api', 'hold', {
        retry: { maxAttempts: 2, backoff: 'fixed', initialDelayMs: 100, maxDelayMs: 100 },
      });
      const x = (await trigger('cc-api')).id;
      await waitStatus(x, ['running'], 5000);

      const reason = 'wrong params';
      const response = await call('POST', `/api/executions/${encodeURIComponent(x)}/cancel`, {
        reason,
      });
      const cancelledAt = Date.now();
      expect(response.statusCode).toBe(200);
      expect(response.body).toMatchObject({
        id: x,
        status: 'cancelled',
        cancelledBy: { kind: 'api', reason },
      });
      expect(response.body.error).toContain(reason);
      expect((await get(x)).status).toBe('cancelled');
      // A second cancel: it is finished now.
      const again = await call('POST', `/api/executions/${encodeURIComponent(x)}/cancel`);
      expect(again.statusCode).toBe(409);
      expect(again.body).toMatchObject({ code: 'EXECUTION_NOT_CANCELLABLE' });

      // Wait for the handler to end (aborted, or at its cap), then: no retry, still cancelled.
      await waitFor(
        () => Promise.resolve(fleet.runsOf('cc-api').find((r) => r.executionId === x)),
        (r) => r?.endedMs !== undefined,
        HOLD_CAP_MS + 1000,
      );
      await sleep(300);
      expect(await exists(`${x}.r2`)).toBe(false);
      expect((await attemptsOf(x)).map((e) => [e.id, e.status])).toEqual([[x, 'cancelled']]);

      const seen = aborts.get(x);
      expect(seen).toBeDefined();
      expect(seen!.atMs - cancelledAt).toBeLessThanOrEqual(ABORT_WITHIN_MS);
      expect(seen!.reason).toBe('ExecutionRevokedError');
    }, 15_000);
  });
});

function reasonName(reason: unknown): string {
  return reason instanceof Error ? reason.name : String(reason);
}
