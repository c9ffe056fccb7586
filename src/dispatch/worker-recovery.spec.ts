import { Logger } from '@nestjs/common';
import { ExecutionRecord, executionKeyOf, Keyspace } from '@forest/protocol';
import { EmbeddedStore } from '@forest/store';
import { transition } from '../execution/execution-record';
import {
  FakeLeadership,
  GROUP,
  keysUnder,
  NODE,
  openStore,
  putAssigned,
  putPending,
  putWorker,
  readRecord,
  testConfig,
  waitFor,
  workerRecord,
} from '../../test/support/dispatch-rig';
import { DispatchEvent, DispatchEventBus } from './dispatch.events';
import { DispatchState } from './dispatch-state';
import { RECOVERY_RETRY_MS, WorkerRecovery } from './worker-recovery';
import { AssignmentMirror } from '../assignments/assignment-mirror';

describe('WorkerRecovery', () => {
  let store: EmbeddedStore;
  let close: () => Promise<void>;
  let leadership: FakeLeadership;
  let state: DispatchState;
  let mirror: AssignmentMirror;
  let recovery: WorkerRecovery;
  let events: DispatchEvent[];
  let warn: jest.SpyInstance;

  beforeEach(async () => {
    ({ store, close, mirror } = await openStore());
    leadership = new FakeLeadership(store);
    state = new DispatchState(store, leadership.asService(), mirror);
    const bus = new DispatchEventBus();
    events = [];
    bus.events$.subscribe((event) => events.push(event));
    recovery = new WorkerRecovery(state, store, leadership.asService(), testConfig(), bus);
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  });

  afterEach(async () => {
    await state.stop();
    await close();
    jest.restoreAllMocks();
  });

  /** Execution n assigned to `workerId`; `running` when its worker reported it started. */
  async function held(n: number, workerId: string, running = false): Promise<ExecutionRecord> {
    const pending = await putPending(store, n);
    await store.delete(Keyspace.pendingExecution(GROUP, pending.id));
    let record = transition(pending, 'assigned', Date.now(), NODE, { worker: workerId });
    if (running) record = transition(record, 'running', Date.now(), NODE);
    await putAssigned(store, record, workerId, running ? 'running' : 'assigned');
    return record;
  }

  const status = async (id: string) => (await readRecord(store, id))?.status;

  it("moves a lost worker's unstarted executions back to pending and marks running ones lost", async () => {
    await putWorker(store, workerRecord('w1'));
    const unstarted = await held(1, 'w1');
    const running = await held(2, 'w1', true);
    await state.start();

    await store.delete(Keyspace.worker(GROUP, 'w1'));
    await waitFor('the recovery', async () => (await status(running.id)) === 'lost');

    expect(await status(unstarted.id)).toBe('pending');
    expect((await readRecord(store, unstarted.id))!.worker).toBeUndefined();
    expect(await keysUnder(store, Keyspace.pending)).toEqual([
      Keyspace.pendingExecution(GROUP, unstarted.id),
    ]);
    expect(await keysUnder(store, Keyspace.assignments)).toEqual([]);
    const lost = (await readRecord(store, running.id))!;
    expect(lost.error).toBe('worker w1 was lost (its lease expired) while running this execution');
    expect(events.map((event) => event.type)).toEqual(['worker_lost', 'execution_lost']);
    expect(events[0]).toMatchObject({ worker: { id: 'w1' }, held: 2 });
    expect(events[1]).toMatchObject({ execution: { id: running.id, status: 'lost' } });
  });

  it('recovers a worker that left without announcing it lost', async () => {
    await putWorker(store, workerRecord('w1', { leavingAt: new Date().toISOString() }));
    const unstarted = await held(1, 'w1');
    await state.start();

    await store.delete(Keyspace.worker(GROUP, 'w1'));
    await waitFor('the recovery', async () => (await status(unstarted.id)) === 'pending');
    expect(events).toEqual([]);
  });

  it('recovers the assignments of a worker it never saw once loaded', async () => {
    const orphan = await held(1, 'gone-before-load');
    await state.start();
    await waitFor('the orphan recovered', async () => (await status(orphan.id)) === 'pending');
    expect(await keysUnder(store, Keyspace.assignments)).toEqual([]);
  });

  it('lets a report racing the recovery win, and reads again', async () => {
    await putWorker(store, workerRecord('w1'));
    const record = await held(1, 'w1', true);
    await state.start();
    // The worker's final report lands between the recovery's read and its txn.
    const succeeded = transition(record, 'succeeded', Date.now(), NODE, { output: 'done' });
    leadership.beforeTxn = async () => {
      await store.txn({
        compare: [],
        success: [
          { type: 'put', key: executionKeyOf(record.id)!, value: JSON.stringify(succeeded) },
          { type: 'delete', key: Keyspace.assignment(GROUP, 'w1', record.id) },
        ],
      });
    };

    await store.delete(Keyspace.worker(GROUP, 'w1'));
    await waitFor('the refused txn', () => leadership.txns.length === 1);
    await new Promise((resolve) => setTimeout(resolve, 50));

    expect(await status(record.id)).toBe('succeeded');
    expect(await keysUnder(store, Keyspace.pending)).toEqual([]);
    expect(await keysUnder(store, Keyspace.assignments)).toEqual([]);
    // The second read found nothing left to take back: no second txn, nothing lost.
    expect(leadership.txns).toHaveLength(1);
    expect(events.map((event) => event.type)).toEqual(['worker_lost']);
  });

  it('logs a store error and retries later; nothing rejects unhandled', async () => {
    // Jest fails the test on an unhandled rejection; the recovery must catch its own.
    await putWorker(store, workerRecord('w1'));
    const unstarted = await held(1, 'w1');
    await state.start();
    const get = jest.spyOn(store, 'get').mockRejectedValueOnce(new Error('store unavailable'));

    await store.delete(Keyspace.worker(GROUP, 'w1'));
    await waitFor('the failure logged', () => get.mock.calls.length === 1);
    await new Promise((resolve) => setImmediate(resolve));
    expect(warn).toHaveBeenCalledWith(
      `recovery of worker w1 of group g: 1 execution(s) not recovered (Error: store unavailable); retrying in ${RECOVERY_RETRY_MS} ms`,
    );

    await waitFor('the retried recovery', async () => (await status(unstarted.id)) === 'pending');
    expect(get.mock.calls.length).toBeGreaterThanOrEqual(2);
  });

  it('retries a batch whose txn kept failing, after the attempts are spent', async () => {
    await putWorker(store, workerRecord('w1'));
    const unstarted = await held(1, 'w1');
    await state.start();
    // The store fails the recovery's txn three times (its attempts), then works again.
    const fenced = leadership.fencedTxn;
    let failures = 0;
    leadership.fencedTxn = (request) =>
      failures++ < 3 ? Promise.reject(new Error('txn failed')) : fenced(request);

    await store.delete(Keyspace.worker(GROUP, 'w1'));
    await waitFor(
      'the recovery after a retry',
      async () => (await status(unstarted.id)) === 'pending',
    );
    expect(failures).toBe(4);
    expect(warn).toHaveBeenCalledWith(
      expect.stringContaining('recovery of worker w1 failed (Error: txn failed)'),
    );
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('lost races or store errors'));
  });

  it('stops without retrying when this node is no longer the leader', async () => {
    await putWorker(store, workerRecord('w1'));
    const unstarted = await held(1, 'w1');
    await state.start();
    leadership.demote();

    await store.delete(Keyspace.worker(GROUP, 'w1'));
    await waitFor('the refused txn', () => leadership.txns.length === 1);
    await new Promise((resolve) => setTimeout(resolve, 50));

    expect(leadership.txns).toHaveLength(1);
    expect(await status(unstarted.id)).toBe('assigned');
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('NotLeaderError'));
  });

  it('puts back a worker that is still live instead of recovering it', async () => {
    await state.start();
    await putWorker(store, workerRecord('w9'));
    const left = await recovery.recover(GROUP, 'w9', ['job~1']);
    expect(left).toEqual([]);
    expect(state.pool.get(GROUP, 'w9')?.inbox).toEqual(new Map([['job~1', 'assigned']]));
    expect(leadership.txns).toEqual([]);
  });
});
