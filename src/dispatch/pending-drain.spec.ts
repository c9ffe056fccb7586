import { Logger } from '@nestjs/common';
import { executionKeyOf, Keyspace, shardExecutionId } from '@forest/protocol';
import {
  assignTo,
  DispatchContext,
  DispatchDecision,
  noWorker,
  shardAcross,
  withFreeSlot,
} from '@forest/plugin-api';
import { EmbeddedStore } from '@forest/store';
import { transition } from '../execution/execution-record';
import {
  FakeLeadership,
  GROUP,
  keysUnder,
  NODE,
  openStore,
  putPending,
  putWorker,
  readRecord,
  strategiesOf,
  testConfig,
  waitFor,
  workerRecord,
} from '../../test/support/dispatch-rig';
import { DispatchState } from './dispatch-state';
import { DECLINED_BACKOFF_MS, PendingDrain } from './pending-drain';
import { AssignmentMirror } from '../assignments/assignment-mirror';

/** The first offered worker with a free slot, or none. */
const firstFree = (context: DispatchContext): DispatchDecision => {
  const worker = withFreeSlot(context.workers)[0];
  return worker ? assignTo(worker) : noWorker('all full');
};

describe('PendingDrain', () => {
  let store: EmbeddedStore;
  let close: () => Promise<void>;
  let leadership: FakeLeadership;
  let state: DispatchState;
  let mirror: AssignmentMirror;
  let select: jest.Mock<DispatchDecision, [DispatchContext]>;
  let drain: PendingDrain;

  const assignmentKeys = () => keysUnder(store, Keyspace.assignments);
  const pendingKeys = () => keysUnder(store, Keyspace.pending);

  beforeEach(async () => {
    ({ store, close, mirror } = await openStore());
    leadership = new FakeLeadership(store);
    state = new DispatchState(store, leadership.asService(), mirror);
    select = jest.fn(firstFree);
    drain = new PendingDrain(
      state,
      store,
      leadership.asService(),
      testConfig(),
      strategiesOf((context) => select(context)),
    );
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  });

  afterEach(async () => {
    await state.stop();
    await close();
    jest.restoreAllMocks();
  });

  it('assigns pending executions to free workers, never past their capacity', async () => {
    await putWorker(store, workerRecord('w1', { capacity: 2 }));
    await putWorker(store, workerRecord('w2', { capacity: 1 }));
    const records = [];
    for (let n = 1; n <= 5; n++) records.push(await putPending(store, n));

    await state.start();
    await waitFor('three assignments', async () => (await assignmentKeys()).length === 3);
    await new Promise((resolve) => setTimeout(resolve, 50));

    const assigned = await assignmentKeys();
    expect(assigned.filter((key) => key.includes('/w1/'))).toHaveLength(2);
    expect(assigned.filter((key) => key.includes('/w2/'))).toHaveLength(1);
    expect(await pendingKeys()).toHaveLength(2);
    const first = (await readRecord(store, records[0].id))!;
    expect(first.status).toBe('assigned');
    expect(first.worker).toBe('w1');
    expect(first.timeline.map((t) => t.status)).toEqual(['pending', 'assigned']);

    // A final report deletes an assignment: the freed slot takes the next execution.
    await store.delete(assigned[0]);
    await waitFor('the freed slot taken', async () => (await pendingKeys()).length === 1);
    expect(await assignmentKeys()).toHaveLength(3);
  });

  it('shards a broadcast: one record and one assignment per worker', async () => {
    for (const id of ['w1', 'w2', 'w3']) await putWorker(store, workerRecord(id));
    select.mockImplementation((context) => shardAcross(context.workers));
    const record = await putPending(store, 1);

    await state.start();
    await waitFor('the shards', async () => (await assignmentKeys()).length === 3);

    const ids = [record.id, shardExecutionId(record.id, 1), shardExecutionId(record.id, 2)];
    expect(await assignmentKeys()).toEqual([
      Keyspace.assignment(GROUP, 'w1', ids[0]),
      Keyspace.assignment(GROUP, 'w2', ids[1]),
      Keyspace.assignment(GROUP, 'w3', ids[2]),
    ]);
    for (const [index, id] of ids.entries()) {
      const shard = (await readRecord(store, id))!;
      expect(shard).toMatchObject({ id, status: 'assigned', shard: { index, total: 3 } });
    }
    expect(await pendingKeys()).toEqual([]);
  });

  it('defers the placements past the txn op budget to the next pass', async () => {
    for (let i = 10; i < 40; i++) await putWorker(store, workerRecord(`w${i}`, { capacity: 3 }));
    select.mockImplementation((context) => shardAcross(context.workers));
    for (let n = 1; n <= 3; n++) await putPending(store, n);

    await state.start();
    await waitFor('90 shards', async () => (await assignmentKeys()).length === 90);

    // 30 shards cost 61 ops (pending delete + 2 per shard): two fit in 128, the third waits.
    const shardsPerTxn = leadership.txns.map(
      (txn) => txn.success.filter((op) => op.type === 'delete').length,
    );
    expect(shardsPerTxn).toEqual([2, 1]);
    expect(leadership.txns.every((txn) => txn.success.length <= 128)).toBe(true);
    expect(await pendingKeys()).toEqual([]);
  });

  it('backs off an execution its strategy declined, then offers it again', async () => {
    await putWorker(store, workerRecord('w1'));
    const calls: number[] = [];
    select.mockImplementation((context) => {
      calls.push(Date.now());
      return calls.length === 1 ? noWorker('not yet') : firstFree(context);
    });
    await putPending(store, 1);

    await state.start();
    await waitFor('the second offer', async () => (await assignmentKeys()).length === 1);

    expect(calls).toHaveLength(2);
    expect(calls[1] - calls[0]).toBeGreaterThanOrEqual(DECLINED_BACKOFF_MS - 20);
    expect(await pendingKeys()).toEqual([]);
  });

  it('does not offer a retry before its notBeforeMs', async () => {
    await putWorker(store, workerRecord('w1'));
    const notBeforeMs = Date.now() + 600;
    const record = await putPending(store, 1, { notBeforeMs });
    const calls: number[] = [];
    select.mockImplementation((context) => {
      calls.push(Date.now());
      return firstFree(context);
    });

    await state.start();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(calls).toEqual([]);
    expect((await readRecord(store, record.id))!.status).toBe('pending');

    await waitFor('the retry assigned', async () => (await assignmentKeys()).length === 1);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toBeGreaterThanOrEqual(notBeforeMs);
  });

  it('a retry due sooner is not held back by one due later', async () => {
    await putWorker(store, workerRecord('w1'));
    await putPending(store, 1, { notBeforeMs: Date.now() + 60_000 });
    await state.start();
    await new Promise((resolve) => setTimeout(resolve, 50));

    const soon = await putPending(store, 2, { notBeforeMs: Date.now() + 200 });
    await waitFor('the sooner retry', async () => (await assignmentKeys()).length === 1, 1500);
    expect(await assignmentKeys()).toEqual([Keyspace.assignment(GROUP, 'w1', soon.id)]);
  });

  it('drops pending entries whose execution is no longer pending', async () => {
    await putWorker(store, workerRecord('w1'));
    const record = await putPending(store, 1);
    const cancelled = transition(record, 'cancelled', Date.now(), NODE);
    await store.put(executionKeyOf(record.id)!, JSON.stringify(cancelled));

    await state.start();
    await waitFor('the stale entry dropped', async () => (await pendingKeys()).length === 0);
    expect(select).not.toHaveBeenCalled();
    expect(await assignmentKeys()).toEqual([]);
    expect(state.pool.get(GROUP, 'w1')?.inbox.size).toBe(0);
  });

  it('reads again after losing a race, and gives back the slots it reserved', async () => {
    await putWorker(store, workerRecord('w1', { capacity: 1 }));
    const record = await putPending(store, 1);
    // Between the drain's read and its txn the entry is written again (a race it loses).
    leadership.beforeTxn = async () => {
      const key = Keyspace.pendingExecution(GROUP, record.id);
      await store.put(key, (await store.get(key))!.value);
    };

    await state.start();
    await waitFor('the second attempt', async () => (await assignmentKeys()).length === 1);
    // The pool learns of the committed assignment through the watch, a hop after the store.
    await waitFor(
      'the watch',
      () => state.pool.get(GROUP, 'w1')?.inbox.get(record.id) === 'assigned',
    );
    expect(leadership.txns).toHaveLength(2);
    expect(state.pool.get(GROUP, 'w1')?.inbox).toEqual(new Map([[record.id, 'assigned']]));
  });

  it('writes nothing and keeps no slot when the fenced txn is refused (not leader)', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    await putWorker(store, workerRecord('w1'));
    await putPending(store, 1);
    leadership.demote();

    await state.start();
    await waitFor('the refused txn', () => leadership.txns.length > 0);
    await new Promise((resolve) => setTimeout(resolve, 20));

    expect(warn).toHaveBeenCalledWith(expect.stringContaining('dispatch of group g failed'));
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('NotLeaderError'));
    expect(state.pool.get(GROUP, 'w1')?.inbox.size).toBe(0);
    expect(await assignmentKeys()).toEqual([]);
    expect(await pendingKeys()).toHaveLength(1);
  });

  it('declines (and backs off) an execution whose record does not decode', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    await putWorker(store, workerRecord('w1'));
    const record = await putPending(store, 1);
    await store.put(executionKeyOf(record.id)!, '{"id": 1}');

    await state.start();
    await waitFor('the warning', () => warn.mock.calls.length > 0);

    expect(warn).toHaveBeenCalledWith(expect.stringContaining('not dispatched'));
    const item = [...state.pendingOf(GROUP)][0];
    expect(item.declinedUntil).toBeGreaterThan(Date.now());
    expect(select).not.toHaveBeenCalled();
    expect(leadership.txns).toEqual([]);
  });

  it('does nothing until the state is loaded', async () => {
    await putWorker(store, workerRecord('w1'));
    await putPending(store, 1);
    await drain.drain(GROUP);
    drain.scheduleDrain(GROUP);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(leadership.txns).toEqual([]);
  });
});
