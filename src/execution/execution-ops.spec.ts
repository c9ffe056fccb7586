import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Assignment,
  ConcurrencyPolicy,
  ExecutionRecord,
  executionId,
  executionKeyOf,
  JobRetry,
  Keyspace,
  PendingEntry,
  retryExecutionId,
  scheduledExecKey,
} from '@forest/protocol';
import { EmbeddedStore, getMany, TxnResult } from '@forest/store';
import {
  Admission,
  admitOps,
  assignOps,
  createOps,
  ExecutionState,
  finishOps,
  fitsOneTxn,
  joinParts,
  liveView,
  OP_BUDGET,
  ReadKeys,
  readStates,
  requeueOps,
  retriesExhausted,
  retryDelayMs,
  skipOps,
  startOps,
  TxnPart,
} from './execution-ops';
import { newExecution } from './execution-record';

const JOB = 'job';
const G = 'g';
const W = 'w1';
const NODE = 'n1';
const NOW = Date.parse('2026-06-01T12:00:00.000Z');
const MARKER = Keyspace.activeExecution(JOB);
const FIXED: JobRetry = {
  maxAttempts: 2,
  backoff: 'fixed',
  initialDelayMs: 1000,
  maxDelayMs: 60_000,
};

/** A fresh pending execution of JOB for the fire at NOW + n seconds. */
function fresh(
  n: number,
  extra: { retry?: JobRetry; concurrency?: ConcurrencyPolicy; forced?: boolean } = {},
): ExecutionRecord {
  const scheduledMs = NOW + n * 1000;
  const record = newExecution(
    {
      id: executionId(JOB, scheduledExecKey(scheduledMs)),
      jobId: JOB,
      jobName: JOB,
      group: G,
      target: 't',
      params: { n },
      trigger: 'schedule',
      attempt: 1,
      scheduledMs,
      catchUp: false,
      firedBy: { node: NODE, token: 3 },
      timeoutMs: 0,
      dispatch: { strategy: 'round-robin', options: {} },
    },
    NOW,
    NODE,
  );
  return { ...record, ...extra };
}

/** The txn of an admission that creates; fails the test on `busy`. */
function created(admission: Admission): TxnPart {
  if (admission.kind !== 'create')
    throw new Error(`expected create, got busy (${admission.holderId})`);
  return admission;
}

describe('execution-ops against the embedded store', () => {
  let dataDir: string;
  let store: EmbeddedStore;
  let reads: number;
  let read: ReadKeys;

  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'forest-execution-ops-'));
    store = await EmbeddedStore.open({ dataDir });
    reads = 0;
    read = (keys) => {
      reads++;
      return getMany(store, keys);
    };
  });

  afterEach(async () => {
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const commit = (part: TxnPart): Promise<TxnResult> =>
    store.txn({ compare: part.compare, success: part.success });

  async function json<T>(key: string): Promise<T | undefined> {
    const kv = await store.get(key);
    return kv && (JSON.parse(kv.value) as T);
  }
  const recordOf = (id: string) => json<ExecutionRecord>(executionKeyOf(id)!);
  const pendingOf = (id: string) => json<PendingEntry>(Keyspace.pendingExecution(G, id));
  const inboxOf = (id: string, worker = W) => json<Assignment>(Keyspace.assignment(G, worker, id));
  const marker = async () => (await store.get(MARKER))?.value;
  const stateOf = async (id: string, workerId?: string): Promise<ExecutionState> =>
    (await readStates(read, [{ id, group: G, workerId }]))[0];

  /** Commits `part` and fails the test if the txn was refused. */
  async function commitOk(part: TxnPart): Promise<void> {
    expect((await commit(part)).succeeded).toBe(true);
  }

  /** Creates `record` assigned to W and starts it: it is running in W's inbox. */
  async function running(record: ExecutionRecord, marker?: 'free'): Promise<void> {
    await commitOk(createOps(record, { workerId: W, nowMs: NOW, node: NODE, marker }));
    const state = await stateOf(record.id, W);
    await commitOk(startOps(state.execution!, state.assignment!, W, NOW + 10, NODE));
  }

  /** Assigns a pending execution to W, starts it, and fails it; returns the finish. */
  async function runAndFail(id: string, random = () => 0.5) {
    const pending = await stateOf(id);
    await commitOk(assignOps(pending.execution!, W, NOW, NODE));
    const assigned = await stateOf(id, W);
    await commitOk(startOps(assigned.execution!, assigned.assignment!, W, NOW + 10, NODE));
    const state = await stateOf(id, W);
    const finish = finishOps(state, 'failed', NOW + 20, NODE, {
      worker: W,
      error: 'boom',
      random,
      token: 9,
    });
    await commitOk(finish);
    return finish;
  }

  describe('createOps', () => {
    it('creates a pending execution with its pending entry', async () => {
      const record = fresh(1);
      const part = createOps(record, { nowMs: NOW, node: NODE });
      expect(part.created).toBe(record);
      await commitOk(part);
      expect(await recordOf(record.id)).toEqual(record);
      expect(await pendingOf(record.id)).toEqual({
        executionId: record.id,
        jobId: JOB,
        target: 't',
        since: new Date(NOW).toISOString(),
      });
      expect((await store.range(Keyspace.assignments)).kvs).toEqual([]);
      expect(await marker()).toBeUndefined();
    });

    it('creates an assigned execution with its inbox entry instead', async () => {
      const record = fresh(1);
      const part = createOps(record, { workerId: W, nowMs: NOW, node: NODE });
      await commitOk(part);
      const stored = await recordOf(record.id);
      expect(stored).toMatchObject({ status: 'assigned', worker: W });
      expect(stored!.timeline.map((t) => t.status)).toEqual(['pending', 'assigned']);
      expect(stored).toEqual(part.created);
      expect(await inboxOf(record.id)).toMatchObject({
        executionId: record.id,
        workerId: W,
        state: 'assigned',
        attempt: 1,
      });
      expect(await pendingOf(record.id)).toBeUndefined();
    });

    it('is create-if-absent: a second create of the same id is refused and writes nothing', async () => {
      const record = fresh(1);
      await commitOk(createOps(record, { nowMs: NOW, node: NODE }));
      const revision = await store.revision();
      const again = await commit(createOps(record, { workerId: W, nowMs: NOW, node: NODE }));
      expect(again.succeeded).toBe(false);
      expect(await store.revision()).toBe(revision);
      expect((await recordOf(record.id))!.status).toBe('pending');
      expect(await inboxOf(record.id)).toBeUndefined();
    });
  });

  describe('skipOps', () => {
    it('records a skipped execution with its reason, once, and only while the marker is as read', async () => {
      const holder = fresh(1, { concurrency: 'forbid' });
      await commitOk(createOps(holder, { nowMs: NOW, node: NODE, marker: 'free' }));
      const held = (await store.get(MARKER))!;
      const record = fresh(2, { concurrency: 'forbid' });
      const skip = skipOps(record, 'busy', NOW, NODE, held.modRevision);
      await commitOk(skip);
      expect(await recordOf(record.id)).toMatchObject({ status: 'skipped', skipReason: 'busy' });
      expect(await pendingOf(record.id)).toBeUndefined();
      expect((await commit(skipOps(record, 'busy', NOW, NODE))).succeeded).toBe(false);

      // A marker that moved since it was read refuses the skip.
      const later = fresh(3, { concurrency: 'forbid' });
      await store.put(MARKER, 'someone-else');
      expect((await commit(skipOps(later, 'busy', NOW, NODE, held.modRevision))).succeeded).toBe(
        false,
      );
      expect(await recordOf(later.id)).toBeUndefined();
    });
  });

  describe('assignOps / startOps / requeueOps', () => {
    it('assignOps moves pending to a worker inbox and drops the pending entry', async () => {
      const record = fresh(1);
      await commitOk(createOps(record, { nowMs: NOW, node: NODE }));
      const state = await stateOf(record.id);
      const part = assignOps(state.execution!, W, NOW + 5, NODE);
      await commitOk(part);
      expect(await recordOf(record.id)).toMatchObject({ status: 'assigned', worker: W });
      expect(await inboxOf(record.id)).toMatchObject({ state: 'assigned', workerId: W });
      expect(await pendingOf(record.id)).toBeUndefined();
      // The record as read is stale now: assigning it again is refused.
      expect((await commit(assignOps(state.execution!, 'w2', NOW + 6, NODE))).succeeded).toBe(
        false,
      );
      expect(await inboxOf(record.id, 'w2')).toBeUndefined();
    });

    it('startOps writes only the inbox entry; the live view and the finish record the start', async () => {
      const record = fresh(1);
      await commitOk(createOps(record, { workerId: W, nowMs: NOW, node: NODE }));
      const state = await stateOf(record.id, W);
      const part = startOps(state.execution!, state.assignment!, W, NOW + 50, NODE);
      expect(part.success.map((op) => ('key' in op ? op.key : op.prefix))).toEqual([
        Keyspace.assignment(G, W, record.id),
      ]);
      expect(state.assignment!.assignment.params).toEqual({ n: 1 });
      await commitOk(part);
      const inbox = await inboxOf(record.id);
      expect(inbox).toMatchObject({ state: 'running', startedAtMs: NOW + 50, startedBy: NODE });
      // The worker has the params since its poll: the running entry does not copy them again.
      expect(inbox).not.toHaveProperty('params');
      // The record is not rewritten: it stays `assigned`; its live view has started.
      expect(await recordOf(record.id)).toMatchObject({ status: 'assigned', worker: W });
      expect(liveView((await recordOf(record.id))!, inbox)).toMatchObject({
        status: 'running',
        worker: W,
        startedAt: new Date(NOW + 50).toISOString(),
      });
      expect(part.running).toMatchObject({ status: 'running' });
      // The finish writes the start into the timeline, from the inbox entry.
      const finish = finishOps(await stateOf(record.id, W), 'succeeded', NOW + 250, NODE, {
        worker: W,
      });
      expect(finish.finished).toMatchObject({
        status: 'succeeded',
        params: { n: 1 },
        startedAt: new Date(NOW + 50).toISOString(),
        durationMs: 200,
      });
      expect(finish.finished.timeline.map((t) => t.status)).toEqual([
        'pending',
        'assigned',
        'running',
        'succeeded',
      ]);
      // A second claim on the same read state is refused.
      expect(
        (await commit(startOps(state.execution!, state.assignment!, W, NOW + 60, NODE))).succeeded,
      ).toBe(false);
    });

    it('requeueOps returns an assigned execution to pending/', async () => {
      const record = fresh(1);
      await commitOk(createOps(record, { workerId: W, nowMs: NOW, node: NODE }));
      const state = await stateOf(record.id, W);
      const part = requeueOps(state.execution!, state.assignment!, NOW + 5, NODE);
      await commitOk(part);
      const stored = await recordOf(record.id);
      expect(stored!.status).toBe('pending');
      expect(stored!.worker).toBeUndefined();
      expect(await inboxOf(record.id)).toBeUndefined();
      expect(await pendingOf(record.id)).toEqual({
        executionId: record.id,
        jobId: JOB,
        target: 't',
        since: new Date(NOW + 5).toISOString(),
      });
    });

    it('requeueOps is refused when the assignment changed since it was read', async () => {
      const record = fresh(1);
      await commitOk(createOps(record, { workerId: W, nowMs: NOW, node: NODE }));
      const state = await stateOf(record.id, W);
      await store.put(
        state.assignment!.key,
        JSON.stringify({ ...state.assignment!.assignment, state: 'running' }),
      );
      expect(
        (await commit(requeueOps(state.execution!, state.assignment!, NOW + 5, NODE))).succeeded,
      ).toBe(false);
      expect(await pendingOf(record.id)).toBeUndefined();
    });
  });

  describe('finishOps and retries', () => {
    it('a failed attempt with attempts left creates {id}.r2 pending for its backoff', async () => {
      const record = fresh(1, { retry: FIXED });
      await commitOk(createOps(record, { nowMs: NOW, node: NODE }));
      const finish = await runAndFail(record.id, () => 0.5);
      const r2 = retryExecutionId(record.id, 2);
      expect(r2).toBe(`${record.id}.r2`);
      expect(finish.retry!.id).toBe(r2);

      expect(await recordOf(record.id)).toMatchObject({ status: 'failed', error: 'boom' });
      expect(await inboxOf(record.id)).toBeUndefined();
      const retry = await recordOf(r2);
      // 1000 ms less 20 % · 0.5 of jitter.
      expect(retry).toMatchObject({
        id: r2,
        status: 'pending',
        trigger: 'retry',
        attempt: 2,
        retryOf: record.id,
        retryAtMs: NOW + 20 + 900,
        retry: FIXED,
        scheduledMs: record.scheduledMs,
        params: record.params,
        firedBy: { node: NODE, token: 9 },
      });
      expect(await pendingOf(r2)).toMatchObject({ executionId: r2, notBeforeMs: NOW + 20 + 900 });
      expect(retriesExhausted((await recordOf(record.id))!)).toBe(false);
    });

    it('finishing .r2 creates .r3; finishing .r3 creates none and the retries are exhausted', async () => {
      const record = fresh(1, { retry: FIXED });
      await commitOk(createOps(record, { nowMs: NOW, node: NODE }));
      const r2 = retryExecutionId(record.id, 2);
      const r3 = retryExecutionId(record.id, 3);
      await runAndFail(record.id);

      const second = await runAndFail(r2);
      expect(second.retry!.id).toBe(r3);
      expect(await recordOf(r3)).toMatchObject({
        attempt: 3,
        retryOf: r2,
        trigger: 'retry',
        status: 'pending',
      });
      expect(retriesExhausted((await recordOf(r2))!)).toBe(false);

      const third = await runAndFail(r3);
      expect(third.retry).toBeUndefined();
      expect(third.success.filter((op) => op.type === 'put').map((op) => op.key)).toEqual([
        executionKeyOf(r3),
      ]);
      const last = await recordOf(r3);
      expect(last!.status).toBe('failed');
      expect(retriesExhausted(last!)).toBe(true);
      expect((await store.range(Keyspace.jobExecutions(JOB))).kvs.map((kv) => kv.key)).toEqual(
        [record.id, r2, r3].map((id) => executionKeyOf(id)),
      );
      expect((await store.range(Keyspace.pending)).kvs).toEqual([]);
    });

    it('timed_out and lost attempts are retried too', async () => {
      for (const [n, status] of [
        [1, 'timed_out'],
        [2, 'lost'],
      ] as const) {
        const record = fresh(n, { retry: FIXED });
        await running(record);
        const finish = finishOps(await stateOf(record.id, W), status, NOW + 20, NODE, {
          random: () => 0,
        });
        await commitOk(finish);
        expect(await recordOf(retryExecutionId(record.id, 2))).toMatchObject({
          attempt: 2,
          retryAtMs: NOW + 20 + 1000,
        });
      }
    });

    it('succeeded never retries; cancelled with noRetry never retries', async () => {
      const ok = fresh(1, { retry: FIXED });
      await running(ok);
      const done = finishOps(await stateOf(ok.id, W), 'succeeded', NOW + 20, NODE, { worker: W });
      expect(done.retry).toBeUndefined();
      await commitOk(done);
      expect(await recordOf(ok.id)).toMatchObject({ status: 'succeeded' });
      expect(retriesExhausted((await recordOf(ok.id))!)).toBe(false);

      const cancelled = fresh(2, { retry: FIXED });
      await running(cancelled);
      const cancel = finishOps(await stateOf(cancelled.id, W), 'cancelled', NOW + 20, NODE, {
        noRetry: true,
        cancelledBy: { kind: 'api', node: NODE },
      });
      expect(cancel.retry).toBeUndefined();
      await commitOk(cancel);
      expect(await recordOf(cancelled.id)).toMatchObject({
        status: 'cancelled',
        cancelledBy: { kind: 'api', node: NODE },
      });
      expect(await inboxOf(cancelled.id)).toBeUndefined();
      for (const id of [ok.id, cancelled.id]) {
        expect(await recordOf(retryExecutionId(id, 2))).toBeUndefined();
      }
    });

    it('a cancelled pending execution loses its pending entry', async () => {
      const record = fresh(1, { retry: FIXED });
      await commitOk(createOps(record, { nowMs: NOW, node: NODE }));
      await commitOk(
        finishOps(await stateOf(record.id), 'cancelled', NOW + 5, NODE, { noRetry: true }),
      );
      expect(await pendingOf(record.id)).toBeUndefined();
      expect((await recordOf(record.id))!.status).toBe('cancelled');
    });

    it('refuses a non-final status and a missing execution', async () => {
      const record = fresh(1);
      await commitOk(createOps(record, { nowMs: NOW, node: NODE }));
      const state = await stateOf(record.id);
      expect(() => finishOps(state, 'running', NOW, NODE)).toThrow(/not a final status/);
      expect(() => finishOps({}, 'failed', NOW, NODE)).toThrow(/no execution/);
    });

    it('two concurrent finishes of the same read state: exactly one commits, one retry', async () => {
      const record = fresh(1, { retry: FIXED });
      await running(record);
      const state = await stateOf(record.id, W);
      const report = finishOps(state, 'failed', NOW + 20, NODE, { worker: W, random: () => 0 });
      const recovery = finishOps(state, 'lost', NOW + 21, 'n2', { random: () => 0 });
      // Both would create the same next attempt.
      expect(report.retry!.id).toBe(recovery.retry!.id);
      const results = await Promise.all([commit(report), commit(recovery)]);
      expect(results.map((r) => r.succeeded).sort()).toEqual([false, true]);
      const winner = results[0].succeeded ? 'failed' : 'lost';
      expect((await recordOf(record.id))!.status).toBe(winner);
      const attempts = (await store.range(Keyspace.jobExecutions(JOB))).kvs;
      expect(attempts.map((kv) => kv.key)).toEqual([
        executionKeyOf(record.id),
        executionKeyOf(`${record.id}.r2`),
      ]);
      const retry = JSON.parse(attempts[1].value) as ExecutionRecord;
      expect(retry.timeline).toHaveLength(1);
      // The loser, re-reading, finds it final: a retry is never created twice.
      expect((await commit(recovery)).succeeded).toBe(false);
    });

    it('a retry already present blocks a finish built from another read', async () => {
      const record = fresh(1, { retry: FIXED });
      await running(record);
      const state = await stateOf(record.id, W);
      await store.put(executionKeyOf(`${record.id}.r2`)!, JSON.stringify({ stray: true }));
      const finish = finishOps(state, 'failed', NOW + 20, NODE, { worker: W });
      expect((await commit(finish)).succeeded).toBe(false);
      expect((await recordOf(record.id))!.status).toBe('assigned');
      expect(await inboxOf(record.id)).toMatchObject({ state: 'running' });
    });
  });

  describe('retryDelayMs', () => {
    const policy = (p: Partial<JobRetry>): JobRetry => ({ ...FIXED, maxAttempts: 10, ...p });
    const none = () => 0;

    it('fixed: the same delay every attempt', () => {
      expect([1, 2, 3, 7].map((a) => retryDelayMs(policy({}), a, none))).toEqual([
        1000, 1000, 1000, 1000,
      ]);
    });

    it('exponential: doubles per attempt', () => {
      const p = policy({ backoff: 'exponential', initialDelayMs: 500 });
      expect([1, 2, 3, 4, 5].map((a) => retryDelayMs(p, a, none))).toEqual([
        500, 1000, 2000, 4000, 8000,
      ]);
    });

    it('capped by maxDelayMs, even for huge attempt numbers', () => {
      const p = policy({ backoff: 'exponential', initialDelayMs: 1000, maxDelayMs: 5000 });
      expect([1, 2, 3, 4, 5, 100].map((a) => retryDelayMs(p, a, none))).toEqual([
        1000, 2000, 4000, 5000, 5000, 5000,
      ]);
      expect(retryDelayMs(policy({ initialDelayMs: 9000, maxDelayMs: 3000 }), 1, none)).toBe(3000);
    });

    it('jitter stays within [80 %, 100 %] of the backoff', () => {
      const p = policy({ backoff: 'exponential', initialDelayMs: 1000 });
      for (const r of [0, 0.1, 0.25, 0.5, 0.75, 0.999999]) {
        for (const attempt of [1, 3]) {
          const base = 1000 * 2 ** (attempt - 1);
          const delay = retryDelayMs(p, attempt, () => r);
          expect(delay).toBeGreaterThanOrEqual(base * 0.8);
          expect(delay).toBeLessThanOrEqual(base);
        }
      }
      expect(retryDelayMs(p, 1, () => 0.5)).toBe(900);
      // Math.random by default (via nextAttempt): still within bounds.
      for (let i = 0; i < 50; i++) {
        const delay = retryDelayMs(p, 2, Math.random);
        expect(delay).toBeGreaterThanOrEqual(1600);
        expect(delay).toBeLessThanOrEqual(2000);
      }
    });
  });

  describe('concurrency markers', () => {
    it('forbid: the first execution takes the marker; a second admission is busy', async () => {
      const holder = fresh(1, { concurrency: 'forbid' });
      const first = admitOps(holder, undefined, undefined, { nowMs: NOW, node: NODE });
      expect(first.kind).toBe('create');
      await commitOk(created(first));
      expect(await marker()).toBe(holder.id);

      const held = (await store.get(MARKER))!;
      const holderState = await stateOf(holder.id);
      const second = admitOps(fresh(2, { concurrency: 'forbid' }), held, holderState, {
        nowMs: NOW,
        node: NODE,
      });
      expect(second).toEqual({
        kind: 'busy',
        holderId: holder.id,
        markerModRevision: held.modRevision,
      });
    });

    it('createOps with marker free is refused while the marker is held', async () => {
      const holder = fresh(1, { concurrency: 'forbid' });
      await commitOk(createOps(holder, { nowMs: NOW, node: NODE, marker: 'free' }));
      const other = fresh(2, { concurrency: 'forbid' });
      expect(
        (await commit(createOps(other, { nowMs: NOW, node: NODE, marker: 'free' }))).succeeded,
      ).toBe(false);
      expect(await recordOf(other.id)).toBeUndefined();
      expect(await marker()).toBe(holder.id);
    });

    it('finishing the holder releases the marker', async () => {
      const holder = fresh(1, { concurrency: 'forbid' });
      await running(holder, 'free');
      const state = await stateOf(holder.id, W);
      expect(state.marker!.value).toBe(holder.id);
      await commitOk(finishOps(state, 'succeeded', NOW + 20, NODE, { worker: W }));
      expect(await marker()).toBeUndefined();
      // The job is free again.
      const next = admitOps(fresh(2, { concurrency: 'forbid' }), undefined, undefined, {
        nowMs: NOW,
        node: NODE,
      });
      await commitOk(created(next));
    });

    it('finishing a holder that is retried hands the marker to the retry', async () => {
      const holder = fresh(1, { concurrency: 'forbid', retry: FIXED });
      await commitOk(createOps(holder, { nowMs: NOW, node: NODE, marker: 'free' }));
      const finish = await runAndFail(holder.id);
      const r2 = retryExecutionId(holder.id, 2);
      expect(finish.retry).toMatchObject({ id: r2, concurrency: 'forbid' });
      expect(await marker()).toBe(r2);
      // The waiting retry keeps the job busy.
      const held = (await store.get(MARKER))!;
      const busy = admitOps(fresh(2, { concurrency: 'forbid' }), held, await stateOf(r2), {
        nowMs: NOW,
        node: NODE,
      });
      expect(busy).toMatchObject({ kind: 'busy', holderId: r2 });
      // The last attempt releases it.
      await runAndFail(r2);
      expect(await marker()).toBe(retryExecutionId(holder.id, 3));
      await runAndFail(retryExecutionId(holder.id, 3));
      expect(await marker()).toBeUndefined();
    });

    it('a forced execution neither takes nor releases the marker', async () => {
      const holder = fresh(1, { concurrency: 'forbid' });
      await running(holder, 'free');
      const held = (await store.get(MARKER))!;
      const forced = fresh(2, { concurrency: 'forbid', forced: true });
      const admission = admitOps(forced, held, await stateOf(holder.id, W), {
        nowMs: NOW,
        node: NODE,
      });
      expect(admission.kind).toBe('create');
      const part = created(admission);
      expect(part.compare.some((c) => c.key === MARKER)).toBe(false);
      expect(part.success.some((op) => 'key' in op && op.key === MARKER)).toBe(false);
      await commitOk(part);
      expect(await marker()).toBe(holder.id);

      const finish = finishOps(await stateOf(forced.id), 'cancelled', NOW + 5, NODE, {
        noRetry: true,
      });
      await commitOk(finish);
      expect(await marker()).toBe(holder.id);
      expect((await store.get(MARKER))!.modRevision).toBe(held.modRevision);
    });

    it('finishing a non-holder leaves the marker alone, and does not depend on it', async () => {
      const holder = fresh(1, { concurrency: 'forbid' });
      await running(holder, 'free');
      const other = fresh(2); // allow: beside it
      await running(other);
      const state = await stateOf(other.id, W);
      expect(state.marker!.value).toBe(holder.id);
      const finish = finishOps(state, 'succeeded', NOW + 20, NODE, { worker: W });
      expect(finish.compare.some((c) => c.key === MARKER)).toBe(false);
      // The marker moving meanwhile does not refuse the finish.
      await store.put(MARKER, holder.id);
      await commitOk(finish);
      expect(await marker()).toBe(holder.id);
    });

    it('a stale marker (its holder final) is taken over under forbid', async () => {
      const holder = fresh(1, { concurrency: 'forbid' });
      await running(holder, 'free');
      // The holder finishes without touching the marker (as an old writer might have).
      const state = await stateOf(holder.id, W);
      await commitOk(finishOps({ ...state, marker: undefined }, 'succeeded', NOW, NODE));
      const held = (await store.get(MARKER))!;
      const next = fresh(2, { concurrency: 'forbid' });
      const admission = admitOps(next, held, await stateOf(holder.id), { nowMs: NOW, node: NODE });
      expect(admission.kind).toBe('create');
      await commitOk(created(admission));
      expect(await marker()).toBe(next.id);
    });
  });

  describe('replace', () => {
    it('cancels the running holder and hands the marker over, in one txn', async () => {
      const holder = fresh(1, { concurrency: 'replace', retry: FIXED });
      await running(holder, 'free');
      const held = (await store.get(MARKER))!;
      const holderState = await stateOf(holder.id, W);
      expect(holderState.assignment).toBeDefined();
      const next = fresh(2, { concurrency: 'replace', retry: FIXED });
      const admission = admitOps(next, held, holderState, { nowMs: NOW + 30, node: 'n2' });
      if (admission.kind !== 'create') throw new Error('expected create');
      expect(admission.replaced).toMatchObject({ id: holder.id, status: 'cancelled' });

      const before = await store.revision();
      await commitOk(admission);
      expect(await store.revision()).toBe(before + 1);

      expect(await recordOf(holder.id)).toMatchObject({
        status: 'cancelled',
        cancelledBy: { kind: 'replace', node: 'n2', by: next.id },
      });
      expect((await recordOf(holder.id))!.error).toContain(next.id);
      expect(await inboxOf(holder.id)).toBeUndefined();
      expect(await recordOf(retryExecutionId(holder.id, 2))).toBeUndefined();
      expect(await marker()).toBe(next.id);
      expect(await recordOf(next.id)).toMatchObject({ status: 'pending' });
      expect(await pendingOf(next.id)).toBeDefined();
    });

    it('replaces a pending holder too (its pending entry goes)', async () => {
      const holder = fresh(1, { concurrency: 'replace' });
      await commitOk(createOps(holder, { nowMs: NOW, node: NODE, marker: 'free' }));
      const next = fresh(2, { concurrency: 'replace' });
      const admission = admitOps(next, await store.get(MARKER), await stateOf(holder.id), {
        workerId: W,
        nowMs: NOW,
        node: NODE,
      });
      await commitOk(created(admission));
      expect((await recordOf(holder.id))!.status).toBe('cancelled');
      expect(await pendingOf(holder.id)).toBeUndefined();
      expect(await inboxOf(next.id)).toMatchObject({ state: 'assigned' });
      expect(await marker()).toBe(next.id);
    });

    it('a holder that changed since it was read makes the txn fail, writing nothing', async () => {
      const holder = fresh(1, { concurrency: 'replace' });
      await commitOk(createOps(holder, { workerId: W, nowMs: NOW, node: NODE, marker: 'free' }));
      const held = (await store.get(MARKER))!;
      const holderState = await stateOf(holder.id, W);
      const next = fresh(2, { concurrency: 'replace' });
      const admission = admitOps(next, held, holderState, { nowMs: NOW, node: NODE });
      // The worker claims it meanwhile.
      await commitOk(startOps(holderState.execution!, holderState.assignment!, W, NOW + 10, NODE));
      const revision = await store.revision();
      expect((await commit(created(admission))).succeeded).toBe(false);
      expect(await store.revision()).toBe(revision);
      expect(await recordOf(holder.id)).toMatchObject({ status: 'assigned' });
      expect(await inboxOf(holder.id)).toMatchObject({ state: 'running' });
      expect(await recordOf(next.id)).toBeUndefined();
      expect(await marker()).toBe(holder.id);
    });

    it('a marker that moved since it was read makes the txn fail', async () => {
      const holder = fresh(1, { concurrency: 'replace' });
      await running(holder, 'free');
      const held = (await store.get(MARKER))!;
      const admission = admitOps(
        fresh(2, { concurrency: 'replace' }),
        held,
        await stateOf(holder.id, W),
        { nowMs: NOW, node: NODE },
      );
      const other = fresh(3, { concurrency: 'replace' });
      await commitOk(
        created(admitOps(other, held, await stateOf(holder.id, W), { nowMs: NOW, node: NODE })),
      );
      expect((await commit(created(admission))).succeeded).toBe(false);
      expect(await marker()).toBe(other.id);
    });
  });

  describe('readStates', () => {
    it('with the worker known: one round trip finds record, assignment and marker', async () => {
      const record = fresh(1, { concurrency: 'forbid' });
      await running(record, 'free');
      reads = 0;
      const [state] = await readStates(read, [{ id: record.id, group: G, workerId: W }]);
      expect(reads).toBe(1);
      expect(state.execution).toMatchObject({
        key: executionKeyOf(record.id),
        record: { id: record.id, status: 'assigned' },
      });
      expect(state.assignment).toMatchObject({
        key: Keyspace.assignment(G, W, record.id),
        assignment: { state: 'running', workerId: W },
      });
      expect(state.marker).toMatchObject({ key: MARKER, value: record.id });
    });

    it('without the worker: a second round trip finds it under the worker the record names', async () => {
      const record = fresh(1);
      await running(record);
      const pending = fresh(2);
      await commitOk(createOps(pending, { nowMs: NOW, node: NODE }));
      reads = 0;
      const [found, waiting, absent, malformed] = await readStates(read, [
        { id: record.id },
        { id: pending.id },
        { id: executionId(JOB, scheduledExecKey(1)) },
        { id: 'no-tilde' },
      ]);
      expect(reads).toBe(2);
      expect(found.execution!.record.worker).toBe(W);
      expect(found.assignment!.key).toBe(Keyspace.assignment(G, W, record.id));
      expect(found.marker).toBeUndefined();
      expect(waiting.execution!.record.status).toBe('pending');
      expect(waiting.assignment).toBeUndefined();
      expect(absent).toEqual({ execution: undefined, assignment: undefined, marker: undefined });
      expect(malformed).toEqual({ execution: undefined, assignment: undefined, marker: undefined });
    });

    it('without the worker and nothing assigned: one round trip', async () => {
      const record = fresh(1);
      await commitOk(createOps(record, { nowMs: NOW, node: NODE }));
      reads = 0;
      const [state] = await readStates(read, [{ id: record.id }]);
      expect(reads).toBe(1);
      expect(state.execution!.record.status).toBe('pending');
    });
  });

  describe('joinParts / fitsOneTxn', () => {
    const part = (compares: number, ops: number): TxnPart => ({
      compare: Array.from({ length: compares }, (_, i) => ({
        key: `c${i}`,
        target: 'version' as const,
        op: '==' as const,
        value: 0,
      })),
      success: Array.from({ length: ops }, (_, i) => ({ type: 'get' as const, key: `o${i}` })),
    });

    it('joins compares and ops in order', () => {
      const joined = joinParts([part(1, 2), part(2, 1)]);
      expect(joined.compare.map((c) => c.key)).toEqual(['c0', 'c0', 'c1']);
      expect(joined.success.map((op) => ('key' in op ? op.key : ''))).toEqual(['o0', 'o1', 'o0']);
      expect(joinParts([])).toEqual({ compare: [], success: [] });
    });

    it('fits within 128 per branch, less the reserve', () => {
      expect(OP_BUDGET).toBe(128);
      expect(fitsOneTxn([part(100, 27), part(27, 100)])).toBe(true);
      expect(fitsOneTxn([part(100, 28)])).toBe(true);
      expect(fitsOneTxn([part(100, 28), part(0, 100)])).toBe(false);
      expect(fitsOneTxn([part(128, 0)])).toBe(false);
      expect(fitsOneTxn([part(128, 0)], 0)).toBe(true);
      expect(fitsOneTxn([part(0, 126)], 2)).toBe(true);
      expect(fitsOneTxn([part(0, 127)], 2)).toBe(false);
    });

    it('parts of real builders join into one committed txn', async () => {
      const a = fresh(1);
      const b = fresh(2);
      const parts = [
        createOps(a, { nowMs: NOW, node: NODE }),
        createOps(b, { workerId: W, nowMs: NOW, node: NODE }),
      ];
      expect(fitsOneTxn(parts)).toBe(true);
      await commitOk(joinParts(parts));
      expect((await recordOf(a.id))!.status).toBe('pending');
      expect((await recordOf(b.id))!.status).toBe('assigned');
    });
  });
});
