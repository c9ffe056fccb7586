import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConcurrencyPolicy,
  ExecutionRecord,
  executionId,
  executionKeyOf,
  JobStateRecord,
  Keyspace,
  scheduledExecKey,
} from '@forest/protocol';
import { EmbeddedStore, getMany, TxnRequest, TxnResult } from '@forest/store';
import { FirePlacement, FiringJob } from '../dispatch/fire-placement';
import {
  admitOps,
  assignOps,
  createOps,
  finishOps,
  readStates,
  startOps,
  TxnPart,
} from '../execution/execution-ops';
import { isFinal, newExecution } from '../execution/execution-record';
import { DueFire } from './due-fires';
import { FireWriter, FireWriterOptions } from './fire-writer';

const G = 'g';
const W = 'w1';
const NODE = 'n1';
const T = Date.parse('2026-06-01T12:00:00.000Z');
const TOKEN = 7;

function job(jobId: string, concurrency: ConcurrencyPolicy): FiringJob {
  return {
    jobId,
    name: jobId,
    group: G,
    target: 'work',
    params: { job: jobId },
    timeoutMs: 0,
    dispatch: { strategy: 'round-robin', options: {} },
    retry: { maxAttempts: 2, backoff: 'fixed', initialDelayMs: 1000, maxDelayMs: 60_000 },
    concurrency,
  };
}

/** The fire `n` seconds after T. */
const fire = (n: number, catchUp = false): DueFire => ({ scheduledMs: T + n * 1000, catchUp });
const idOf = (jobId: string, f: DueFire) => executionId(jobId, scheduledExecKey(f.scheduledMs));

describe('FireWriter against the embedded store', () => {
  let dataDir: string;
  let store: EmbeddedStore;
  let commits: TxnRequest[];
  /** Runs before a commit reaches the store, once (to change something under the writer). */
  let beforeCommit: (() => Promise<void>) | undefined;
  /** Jobs whose jobstate a commit wrote: what the plan would have learnt (hasFired). */
  let fired: Set<string>;

  beforeEach(async () => {
    fired = new Set();
    dataDir = mkdtempSync(join(tmpdir(), 'forest-fire-writer-'));
    store = await EmbeddedStore.open({ dataDir });
    commits = [];
    beforeCommit = undefined;
  });

  afterEach(async () => {
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  function writer(extra: Partial<FireWriterOptions> = {}): FireWriter {
    return new FireWriter({
      commit: async (request: TxnRequest): Promise<TxnResult> => {
        commits.push(request);
        const change = beforeCommit;
        beforeCommit = undefined;
        if (change) await change();
        const result = await store.txn(request);
        if (result.succeeded) {
          for (const op of request.success) {
            if (op.type === 'put' && op.key.startsWith(Keyspace.jobStates)) {
              fired.add(op.key.slice(Keyspace.jobStates.length));
            }
          }
        }
        return result;
      },
      hasFired: (jobId) => fired.has(jobId),
      read: (keys) => getMany(store, keys),
      fencingToken: () => TOKEN,
      nodeId: NODE,
      now: () => T + 60_000,
      ...extra,
    });
  }

  const read = (keys: readonly (string | undefined)[]) => getMany(store, keys);
  async function recordOf(id: string): Promise<ExecutionRecord | undefined> {
    const kv = await store.get(executionKeyOf(id)!);
    return kv && (JSON.parse(kv.value) as ExecutionRecord);
  }
  const marker = async (jobId: string) => (await store.get(Keyspace.activeExecution(jobId)))?.value;
  async function records(jobId: string): Promise<ExecutionRecord[]> {
    const { kvs } = await store.range(Keyspace.jobExecutions(jobId));
    return kvs.map((kv) => JSON.parse(kv.value) as ExecutionRecord);
  }
  /** Executions of the job that are not final: under forbid / replace, at most one. */
  const active = async (jobId: string) =>
    (await records(jobId)).filter((r) => !isFinal(r.status)).map((r) => r.id);
  const commitOk = async (part: TxnPart) =>
    expect((await store.txn({ compare: part.compare, success: part.success })).succeeded).toBe(
      true,
    );

  /** Assigns the pending execution `id` to W and starts it. */
  async function start(id: string): Promise<void> {
    const [pending] = await readStates(read, [{ id }]);
    await commitOk(assignOps(pending.execution!, W, T + 61_000, NODE));
    const [assigned] = await readStates(read, [{ id, group: G, workerId: W }]);
    await commitOk(startOps(assigned.execution!, assigned.assignment!, W, T + 61_000, NODE));
  }

  /** Finishes `id` as the report path would: succeeded, marker released. */
  async function finish(id: string): Promise<void> {
    const [state] = await readStates(read, [{ id }]);
    await commitOk(finishOps(state, 'succeeded', T + 62_000, NODE, { worker: W }));
  }

  /** A manual execution of the job (as the trigger API would admit it). */
  function manual(jobId: string, concurrency: ConcurrencyPolicy, n: number): ExecutionRecord {
    const record = newExecution(
      {
        id: executionId(jobId, `${scheduledExecKey(T + n)}-manual`),
        jobId,
        jobName: jobId,
        group: G,
        target: 'work',
        params: null,
        trigger: 'manual',
        attempt: 1,
        scheduledMs: T + n,
        catchUp: false,
        firedBy: { node: 'n2', token: 0 },
        timeoutMs: 0,
      },
      T + n,
      'n2',
    );
    return { ...record, concurrency };
  }

  describe('allow', () => {
    it('creates every fire, with its pending entry and the jobstate; a rewrite finds them existing', async () => {
      const a = job('a', 'allow');
      const fires = [fire(1), fire(2)];
      const outcome = await writer().write(a, fires);
      expect(outcome).toMatchObject({ created: fires, skipped: [], existing: [] });
      expect(outcome.committedAt).toBe(T + 60_000);
      expect(commits).toHaveLength(1);
      for (const f of fires) {
        expect(await recordOf(idOf('a', f))).toMatchObject({
          status: 'pending',
          trigger: 'schedule',
          attempt: 1,
          scheduledMs: f.scheduledMs,
          firedBy: { node: NODE, token: TOKEN },
          retry: a.retry,
        });
        expect(await store.get(Keyspace.pendingExecution(G, idOf('a', f)))).toBeDefined();
      }
      // allow records do not carry a concurrency policy, and no marker is written.
      expect((await recordOf(idOf('a', fires[0])))!.concurrency).toBeUndefined();
      expect(await marker('a')).toBeUndefined();
      const state = JSON.parse((await store.get(Keyspace.jobState('a')))!.value) as JobStateRecord;
      expect(state).toMatchObject({ jobId: 'a', lastScheduledMs: T + 2000, node: NODE });

      const again = await writer().write(a, fires);
      expect(again).toMatchObject({ created: [], skipped: [], existing: fires });
      expect(await active('a')).toHaveLength(2);
    });

    it('never writes a fire again once its execution left the store for the history', async () => {
      const a = job('a', 'allow');
      const fires = [fire(1), fire(2)];
      expect((await writer().write(a, fires)).created).toEqual(fires);
      // Both finished and moved to the history: their keys are gone.
      for (const f of fires)
        await store.delete(Keyspace.execution('a', scheduledExecKey(f.scheduledMs)));
      // A leader whose plan has not seen the jobstate yet guesses wrong: refused once.
      fired.clear();
      commits = [];
      const again = await writer().write(a, [...fires, fire(3)]);
      expect(again).toMatchObject({ created: [fire(3)], existing: fires });
      expect(commits).toHaveLength(2);
      expect(
        await store.get(Keyspace.execution('a', scheduledExecKey(fire(1).scheduledMs))),
      ).toBeUndefined();
      const state = (await store.get(Keyspace.jobState('a')))!.value;
      expect(state.startsWith(`{"fence":"${scheduledExecKey(fire(3).scheduledMs)}"`)).toBe(true);
    });

    it('takes over a jobstate written before the fence by its revision, and fences it', async () => {
      const legacy: JobStateRecord = {
        jobId: 'a',
        lastScheduledMs: fire(1).scheduledMs,
        lastFiredAt: new Date(T).toISOString(),
        node: 'old',
      };
      await store.put(Keyspace.jobState('a'), JSON.stringify(legacy));
      fired.add('a');
      const outcome = await writer().write(job('a', 'allow'), [fire(1), fire(2)]);
      expect(outcome).toMatchObject({ created: [fire(2)], existing: [fire(1)] });
      const state = (await store.get(Keyspace.jobState('a')))!.value;
      expect(state.startsWith(`{"fence":"${scheduledExecKey(fire(2).scheduledMs)}"`)).toBe(true);
      // Fenced now: a stale write of fire 2 is refused by the value compare alone.
      await store.delete(Keyspace.execution('a', scheduledExecKey(fire(2).scheduledMs)));
      expect(await writer().write(job('a', 'allow'), [fire(2)])).toMatchObject({
        created: [],
        existing: [fire(2)],
      });
    });

    it('writes fires of several jobs in one txn', async () => {
      const w = writer();
      const [a, b] = await Promise.all([
        w.write(job('a', 'allow'), [fire(1)]),
        w.write(job('b', 'forbid'), [fire(1)]),
      ]);
      expect(a.created).toEqual([fire(1)]);
      expect(b.created).toEqual([fire(1)]);
      expect(commits).toHaveLength(1);
      expect(await marker('b')).toBe(idOf('b', fire(1)));
    });
  });

  describe('forbid', () => {
    it('creates the first fire with the marker, skips while it is held, creates again once it finished', async () => {
      const f = job('f', 'forbid');
      const first = await writer().write(f, [fire(1)]);
      expect(first).toMatchObject({ created: [fire(1)], skipped: [] });
      const holder = idOf('f', fire(1));
      expect(await marker('f')).toBe(holder);
      expect(await recordOf(holder)).toMatchObject({ status: 'pending', concurrency: 'forbid' });

      await start(holder);
      const second = await writer().write(f, [fire(2)]);
      expect(second).toMatchObject({ created: [], skipped: [fire(2)], existing: [] });
      const skipped = await recordOf(idOf('f', fire(2)));
      expect(skipped).toMatchObject({ status: 'skipped', trigger: 'schedule' });
      expect(skipped!.skipReason).toContain(holder);
      expect(skipped!.skipReason).toContain('forbid');
      expect(await store.get(Keyspace.pendingExecution(G, idOf('f', fire(2))))).toBeUndefined();
      expect(await marker('f')).toBe(holder);
      // The jobstate still moves on: the skipped fire is recorded.
      const state = JSON.parse((await store.get(Keyspace.jobState('f')))!.value) as JobStateRecord;
      expect(state.lastScheduledMs).toBe(T + 2000);

      await finish(holder);
      expect(await marker('f')).toBeUndefined();
      const third = await writer().write(f, [fire(3)]);
      expect(third).toMatchObject({ created: [fire(3)], skipped: [] });
      expect(await marker('f')).toBe(idOf('f', fire(3)));
      expect(await active('f')).toEqual([idOf('f', fire(3))]);
    });

    it('a pending retry of the holder keeps the job busy', async () => {
      const f = job('f', 'forbid');
      await writer().write(f, [fire(1)]);
      const holder = idOf('f', fire(1));
      await start(holder);
      const [state] = await readStates(read, [{ id: holder }]);
      await commitOk(finishOps(state, 'failed', T + 62_000, NODE, { worker: W }));
      expect(await marker('f')).toBe(`${holder}.r2`);
      const next = await writer().write(f, [fire(2)]);
      expect(next.skipped).toEqual([fire(2)]);
      expect((await recordOf(idOf('f', fire(2))))!.skipReason).toContain(`${holder}.r2`);
    });

    it('a catch-up of 3 fires in one write: one created, two skipped', async () => {
      const f = job('f', 'forbid');
      const fires = [fire(1, true), fire(2, true), fire(3, true)];
      const outcome = await writer().write(f, fires);
      expect(outcome).toMatchObject({ created: [fire(1, true)], skipped: fires.slice(1) });
      expect(commits).toHaveLength(1);
      expect(await marker('f')).toBe(idOf('f', fires[0]));
      expect((await records('f')).map((r) => r.status)).toEqual(['pending', 'skipped', 'skipped']);
      expect((await recordOf(idOf('f', fires[2])))!.skipReason).toContain(idOf('f', fires[0]));
      expect(await active('f')).toEqual([idOf('f', fires[0])]);
    });

    it('a rewrite of the holder fire finds it existing (not skipped over itself)', async () => {
      const f = job('f', 'forbid');
      await writer().write(f, [fire(1)]);
      const again = await writer().write(f, [fire(1)]);
      expect(again).toMatchObject({ created: [], skipped: [], existing: [fire(1)] });
      expect((await recordOf(idOf('f', fire(1))))!.status).toBe('pending');
    });

    it('a stale marker (its holder final) is taken over', async () => {
      const f = job('f', 'forbid');
      await writer().write(f, [fire(1)]);
      const holder = idOf('f', fire(1));
      const [state] = await readStates(read, [{ id: holder }]);
      // Finished without releasing the marker (not something Forest writes, but survivable).
      await commitOk(finishOps({ ...state, marker: undefined }, 'succeeded', T + 62_000, NODE));
      const next = await writer().write(f, [fire(2)]);
      expect(next.created).toEqual([fire(2)]);
      expect(await marker('f')).toBe(idOf('f', fire(2)));
    });
  });

  describe('replace', () => {
    it('a new fire cancels the running holder in the same txn', async () => {
      const r = job('r', 'replace');
      await writer().write(r, [fire(1)]);
      const holder = idOf('r', fire(1));
      await start(holder);
      commits = [];
      const outcome = await writer().write(r, [fire(2)]);
      expect(outcome).toMatchObject({ created: [fire(2)], skipped: [] });
      expect(commits).toHaveLength(1);
      const next = idOf('r', fire(2));
      const ops = commits[0].success.map((op) => `${op.type} ${'key' in op ? op.key : ''}`);
      expect(ops).toEqual(
        expect.arrayContaining([
          `put ${executionKeyOf(holder)}`,
          `delete ${Keyspace.assignment(G, W, holder)}`,
          `put ${executionKeyOf(next)}`,
          `put ${Keyspace.activeExecution('r')}`,
        ]),
      );
      expect(await recordOf(holder)).toMatchObject({
        status: 'cancelled',
        cancelledBy: { kind: 'replace', node: NODE, by: next },
      });
      expect(await store.get(Keyspace.assignment(G, W, holder))).toBeUndefined();
      // Cancelled by replace: never retried, whatever the policy says.
      expect(await recordOf(`${holder}.r2`)).toBeUndefined();
      expect(await marker('r')).toBe(next);
      expect(await active('r')).toEqual([next]);
    });

    it('a catch-up of 3: only the last is created, the first two skipped as superseded', async () => {
      const r = job('r', 'replace');
      await writer().write(r, [fire(1)]);
      const holder = idOf('r', fire(1));
      const fires = [fire(2, true), fire(3, true), fire(4, true)];
      const outcome = await writer().write(r, fires);
      expect(outcome).toMatchObject({ created: [fires[2]], skipped: fires.slice(0, 2) });
      for (const f of fires.slice(0, 2)) {
        const skipped = await recordOf(idOf('r', f));
        expect(skipped!.status).toBe('skipped');
        expect(skipped!.skipReason).toMatch(/superseded/);
      }
      expect(await recordOf(holder)).toMatchObject({ status: 'cancelled' });
      expect(await marker('r')).toBe(idOf('r', fires[2]));
      expect(await active('r')).toEqual([idOf('r', fires[2])]);
    });
  });

  describe('a marker that changes between read and commit', () => {
    it('forbid: taken by a manual trigger meanwhile -> re-read, the fire is skipped', async () => {
      const f = job('f', 'forbid');
      const other = manual('f', 'forbid', 5);
      beforeCommit = () =>
        commitOk(createOps(other, { nowMs: T, node: 'n2', marker: 'free' })).then(() => undefined);
      const outcome = await writer().write(f, [fire(1)]);
      expect(commits).toHaveLength(2);
      expect(outcome).toMatchObject({ created: [], skipped: [fire(1)], existing: [] });
      expect(await marker('f')).toBe(other.id);
      expect(await active('f')).toEqual([other.id]);
    });

    it('forbid: released meanwhile -> re-read, the fire is created', async () => {
      const f = job('f', 'forbid');
      await writer().write(f, [fire(1)]);
      const holder = idOf('f', fire(1));
      commits = [];
      beforeCommit = () => finish(holder);
      const outcome = await writer().write(f, [fire(2)]);
      expect(commits).toHaveLength(2);
      expect(outcome).toMatchObject({ created: [fire(2)], skipped: [] });
      expect(await marker('f')).toBe(idOf('f', fire(2)));
      expect(await active('f')).toEqual([idOf('f', fire(2))]);
    });

    it('replace: the holder replaced by a manual trigger meanwhile -> the fire replaces that one', async () => {
      const r = job('r', 'replace');
      await writer().write(r, [fire(1)]);
      const holder = idOf('r', fire(1));
      await start(holder);
      const other = manual('r', 'replace', 5);
      beforeCommit = async () => {
        const held = (await store.get(Keyspace.activeExecution('r')))!;
        const [state] = await readStates(read, [{ id: holder }]);
        const admission = admitOps(other, held, state, { nowMs: T, node: 'n2' });
        if (admission.kind !== 'create') throw new Error('expected create');
        await commitOk(admission);
      };
      commits = [];
      const outcome = await writer().write(r, [fire(2)]);
      expect(commits).toHaveLength(2);
      expect(outcome.created).toEqual([fire(2)]);
      const next = idOf('r', fire(2));
      expect(await recordOf(holder)).toMatchObject({
        status: 'cancelled',
        cancelledBy: { by: other.id },
      });
      expect(await recordOf(other.id)).toMatchObject({
        status: 'cancelled',
        cancelledBy: { kind: 'replace', by: next },
      });
      expect(await marker('r')).toBe(next);
      expect(await active('r')).toEqual([next]);
    });

    it('replace: the holder starting meanwhile -> re-read, cancelled with its assignment', async () => {
      const r = job('r', 'replace');
      await writer().write(r, [fire(1)]);
      const holder = idOf('r', fire(1));
      beforeCommit = () => start(holder);
      commits = [];
      const outcome = await writer().write(r, [fire(2)]);
      expect(commits).toHaveLength(2);
      expect(outcome.created).toEqual([fire(2)]);
      expect((await recordOf(holder))!.status).toBe('cancelled');
      expect(await store.get(Keyspace.assignment(G, W, holder))).toBeUndefined();
      expect(await active('r')).toEqual([idOf('r', fire(2))]);
    });

    it('markers that never settle: the write gives up after bounded rounds, writing nothing', async () => {
      const f = job('f', 'forbid');
      let n = 0;
      const w = writer({
        commit: async (request) => {
          commits.push(request);
          await store.put(Keyspace.activeExecution('f'), `churn-${n++}`);
          return store.txn(request);
        },
      });
      await expect(w.write(f, [fire(1)])).rejects.toThrow(/kept changing/);
      expect(commits.length).toBeGreaterThan(1);
      expect(commits.length).toBeLessThanOrEqual(8);
      expect(await records('f')).toEqual([]);
    });
  });

  describe('with a placement', () => {
    it('places the created fire in the inbox, and releases the reservation of a refused txn', async () => {
      const released: string[] = [];
      const placement: FirePlacement = {
        place: () => W,
        release: (_group, _worker, id) => released.push(id),
      };
      const f = job('f', 'forbid');
      const other = manual('f', 'forbid', 5);
      beforeCommit = () =>
        commitOk(createOps(other, { nowMs: T, node: 'n2', marker: 'free' })).then(() => undefined);
      const outcome = await writer({ placement }).write(f, [fire(1)]);
      // The first round placed the fire; its txn was refused, so the slot went back.
      expect(released).toEqual([idOf('f', fire(1))]);
      expect(outcome.skipped).toEqual([fire(1)]);
      expect(await store.get(Keyspace.assignment(G, W, idOf('f', fire(1))))).toBeUndefined();

      await finish(other.id);
      const next = await writer({ placement }).write(f, [fire(2)]);
      expect(next.created).toEqual([fire(2)]);
      expect(await recordOf(idOf('f', fire(2)))).toMatchObject({ status: 'assigned', worker: W });
      expect(await store.get(Keyspace.assignment(G, W, idOf('f', fire(2))))).toBeDefined();
    });
  });
});
