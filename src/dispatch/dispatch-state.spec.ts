import { Logger } from '@nestjs/common';
import { Assignment, Keyspace, WorkerRecord } from '@forest/protocol';
import { EmbeddedStore, WatchHandlers } from '@forest/store';
import {
  FakeLeadership,
  GROUP,
  openStore,
  putAssigned,
  putPending,
  putWorker,
  waitFor,
  workerRecord,
} from '../../test/support/dispatch-rig';
import { DispatchState, GoneWorker, PendingItem } from './dispatch-state';
import { AssignmentMirror } from '../assignments/assignment-mirror';

describe('DispatchState', () => {
  let store: EmbeddedStore;
  let close: () => Promise<void>;
  let leadership: FakeLeadership;
  let state: DispatchState;
  let mirror: AssignmentMirror;
  let warn: jest.SpyInstance;

  beforeEach(async () => {
    ({ store, close, mirror } = await openStore());
    leadership = new FakeLeadership(store);
    state = new DispatchState(store, leadership.asService(), mirror);
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  });

  afterEach(async () => {
    await state.stop();
    await close();
    jest.restoreAllMocks();
  });

  /** Worker w1 running execution 1; execution 2 waiting in `pending/`. */
  async function seedRunningAndWaiting() {
    await putWorker(store, workerRecord('w1'));
    const running = await putPending(store, 1);
    await putAssigned(store, { ...running, status: 'running' }, 'w1', 'running');
    await store.delete(Keyspace.pendingExecution(GROUP, running.id));
    const waiting = await putPending(store, 2);
    return { running, waiting };
  }

  it('loads workers, assignments and pending executions, then follows their watches', async () => {
    const { running, waiting } = await seedRunningAndWaiting();
    const changes: [string, string, string, Assignment | undefined][] = [];
    state.onAssignmentChange((...change) => changes.push(change));

    await state.start();

    expect(state.ready).toBe(true);
    expect(state.pool.get(GROUP, 'w1')?.inbox).toEqual(new Map([[running.id, 'running']]));
    expect(state.pool.get(GROUP, 'w1')?.running).toBe(1);
    expect([...state.pendingOf(GROUP)].map((item) => item.entry.executionId)).toEqual([waiting.id]);
    expect(changes).toEqual([
      [GROUP, 'w1', running.id, expect.objectContaining({ state: 'running' })],
    ]);

    const joined: [WorkerRecord, boolean][] = [];
    const freed: string[] = [];
    const added: PendingItem[] = [];
    state.onWorkerPut((worker, isNew) => joined.push([worker, isNew]));
    state.onSlotFreed((_group, _workerId, executionId) => freed.push(executionId));
    state.onPendingAdded((item) => added.push(item));

    await putWorker(store, workerRecord('w2'));
    await putWorker(store, workerRecord('w1', { capacity: 5 }));
    await store.delete(Keyspace.assignment(GROUP, 'w1', running.id));
    const third = await putPending(store, 3);
    await store.delete(Keyspace.pendingExecution(GROUP, waiting.id));

    await waitFor('the watched changes', () => added.length === 1 && freed.length === 1);
    await waitFor('the pending delete', () => [...state.pendingOf(GROUP)].length === 1);
    expect(joined.map(([worker, isNew]) => [worker.id, isNew])).toEqual([
      ['w2', true],
      ['w1', false],
    ]);
    expect(state.pool.get(GROUP, 'w1')?.record.capacity).toBe(5);
    expect(state.pool.get(GROUP, 'w1')?.inbox.size).toBe(0);
    expect(freed).toEqual([running.id]);
    expect(changes[1]).toEqual([GROUP, 'w1', running.id, undefined]);
    expect(added.map((item) => item.entry.executionId)).toEqual([third.id]);
    expect([...state.pendingOf(GROUP)].map((item) => item.entry.executionId)).toEqual([third.id]);
  });

  it('skips malformed keys and undecodable values, loaded or watched, and logs them', async () => {
    await store.put('workers/g/w1/extra', JSON.stringify(workerRecord('w1')));
    await store.put(Keyspace.worker(GROUP, 'w2'), 'not json');
    await store.put(Keyspace.worker(GROUP, 'w3'), JSON.stringify(workerRecord('other')));
    await store.put(Keyspace.assignment(GROUP, 'w1', 'job~1'), JSON.stringify({ state: 'odd' }));
    await store.put(Keyspace.pendingExecution(GROUP, 'job~2'), JSON.stringify({ jobId: 'job' }));
    await store.put('pending/g', '{}');

    await state.start();

    expect(state.ready).toBe(true);
    expect(state.pool.groupsWithWorkers()).toEqual([]);
    expect(state.pool.takeOrphans()).toEqual([]);
    expect(state.pendingGroups()).toEqual([]);
    expect(warn).toHaveBeenCalledWith(
      expect.stringContaining('dispatch ignores workers/g/w1/extra'),
    );
    // One line per prefix at most every 10 s: pending/g/job~2 is held back behind pending/g.
    expect(warn).toHaveBeenCalledWith(
      expect.stringContaining('dispatch ignores pending/g: malformed'),
    );
    expect(warn).toHaveBeenCalledTimes(3);

    // Watched: the bad ones are skipped and the good ones after them still apply.
    await store.put(Keyspace.worker(GROUP, 'w4'), '[]');
    await store.delete('workers/g/w1/extra');
    await store.put(Keyspace.pendingExecution(GROUP, 'job~3'), '{');
    await putWorker(store, workerRecord('w5'));
    await waitFor('the good worker', () => state.pool.get(GROUP, 'w5') !== undefined);
    expect(state.pool.get(GROUP, 'w4')).toBeUndefined();
    expect(state.pendingGroups()).toEqual([]);
  });

  it('hands over a gone worker with its inbox, telling a goodbye from a loss', async () => {
    await putWorker(store, workerRecord('w1'));
    await putWorker(store, workerRecord('w2'));
    await store.put(Keyspace.worker(GROUP, 'unreadable'), 'x');
    const record = await putPending(store, 1);
    await putAssigned(store, { ...record, status: 'assigned', worker: 'w1' }, 'w1');
    const gone: GoneWorker[] = [];
    state.onWorkerGone((worker) => gone.push(worker));
    await state.start();

    await putWorker(store, workerRecord('w2', { leavingAt: new Date().toISOString() }));
    await store.delete(Keyspace.worker(GROUP, 'w2'));
    await store.delete(Keyspace.worker(GROUP, 'w1'));
    await store.delete(Keyspace.worker(GROUP, 'unreadable'));

    await waitFor('three workers gone', () => gone.length === 3);
    expect(
      gone.map(({ workerId, left, record, inbox }) => [workerId, left, !!record, inbox]),
    ).toEqual([
      ['w2', true, true, new Map()],
      ['w1', false, true, new Map([[record.id, 'assigned']])],
      ['unreadable', false, false, new Map()],
    ]);
    expect(state.pool.groupsWithWorkers()).toEqual([]);
  });

  it('reloads when a watch ends, and ignores the old watches afterwards', async () => {
    const handlers: WatchHandlers[] = [];
    const watch = store.watch.bind(store);
    jest.spyOn(store, 'watch').mockImplementation((prefix, h, options) => {
      handlers.push(h);
      return watch(prefix, h, options);
    });
    let loads = 0;
    state.onLoaded(() => loads++);
    await state.start();
    const generation = state.generation;

    // Something the store no longer has (deleted while no watch ran) is not kept by a reload.
    state.pool.upsertWorker(workerRecord('vanished'));
    handlers[0].onError?.(new Error('compacted'));
    await waitFor('the reload', () => loads === 2);
    expect(state.pool.get(GROUP, 'vanished')).toBeUndefined();
    expect(state.generation).toBe(generation + 1);
    expect(warn).toHaveBeenCalledWith(
      expect.stringContaining('watch on workers/ ended (compacted)'),
    );

    // An event from a watch of the old generation changes nothing.
    handlers[0].onEvents([
      {
        type: 'put',
        kv: {
          key: Keyspace.worker(GROUP, 'ghost'),
          value: JSON.stringify(workerRecord('ghost')),
          createRevision: 1,
          modRevision: 1,
          version: 1,
        },
        revision: 1,
      },
    ]);
    expect(state.pool.get(GROUP, 'ghost')).toBeUndefined();
  });

  it('a reload during a start leaves nothing of what that start had read or applied', async () => {
    const { running, waiting } = await seedRunningAndWaiting();
    let syncLost: (() => void) | undefined;
    jest.spyOn(mirror, 'onSyncLost').mockImplementation((listener) => {
      syncLost = listener;
      return () => undefined;
    });
    const racing = new DispatchState(store, leadership.asService(), mirror);
    // The first start stops once it has read `pending/`, after it applied workers and
    // assignments; so does the second, until the gate opens.
    let release = (): void => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const range = store.range.bind(store);
    jest.spyOn(store, 'range').mockImplementation(async (prefix, options) => {
      const page = await range(prefix, options);
      // The page read (not the revision probe before it) waits: it holds what was read.
      if (prefix === Keyspace.pending && options?.limit !== 1) await gate;
      return page;
    });
    try {
      const first = racing.start();
      await waitFor('the first load', () => racing.pool.get(GROUP, 'w1')?.inbox.size === 1);
      await new Promise((resolve) => setTimeout(resolve, 50)); // it has read pending/
      // w1 and the waiting execution go while the mirror is out of sync; its reload
      // restarts the state.
      await store.delete(Keyspace.assignment(GROUP, 'w1', running.id));
      await store.delete(Keyspace.worker(GROUP, 'w1'));
      await store.delete(Keyspace.pendingExecution(GROUP, waiting.id));
      syncLost?.();
      await new Promise((resolve) => setTimeout(resolve, 50)); // the second has read them
      release();
      await first;
      await waitFor('the reload', () => racing.ready);
      expect(racing.pool.get(GROUP, 'w1')).toBeUndefined();
      expect(racing.pool.groupsWithWorkers()).toEqual([]);
      expect([...racing.pendingOf(GROUP)]).toEqual([]);
    } finally {
      release();
      await racing.stop();
    }
  });

  it('retries a failed load while leading', async () => {
    await putWorker(store, workerRecord('w1'));
    jest.spyOn(store, 'range').mockRejectedValueOnce(new Error('store down'));
    const resets = jest.fn();
    state.onReset(resets);

    await state.start();
    expect(state.ready).toBe(false);
    expect(resets).toHaveBeenCalledTimes(1);
    expect(warn).toHaveBeenCalledWith(
      expect.stringContaining('could not load (Error: store down)'),
    );

    await waitFor('the retried load', () => state.ready, 3000);
    expect(state.pool.get(GROUP, 'w1')).toBeDefined();
  });

  it('stop clears the state, tells listeners, and later changes are not applied', async () => {
    await putWorker(store, workerRecord('w1'));
    await putPending(store, 1);
    const resets = jest.fn();
    state.onReset(resets);
    await state.start();

    await state.stop();
    expect(state.ready).toBe(false);
    expect(resets).toHaveBeenCalledTimes(1);
    expect(state.pool.groupsWithWorkers()).toEqual([]);
    expect(state.pendingGroups()).toEqual([]);

    await putWorker(store, workerRecord('w2'));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(state.pool.groupsWithWorkers()).toEqual([]);
  });

  it('contains a throwing listener: the others still hear the change', async () => {
    const error = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const heard: string[] = [];
    state.onWorkerPut(() => {
      throw new Error('listener bug');
    });
    const unsubscribe = state.onWorkerPut((worker) => heard.push(worker.id));
    await putWorker(store, workerRecord('w1'));
    await state.start();
    unsubscribe();
    await putWorker(store, workerRecord('w2'));
    await waitFor('w2', () => state.pool.get(GROUP, 'w2') !== undefined);

    expect(heard).toEqual(['w1']);
    expect(error).toHaveBeenCalledWith(expect.stringContaining('worker put listener failed'));
  });

  it('restores a worker read directly, with the executions it holds', async () => {
    await state.start();
    await putWorker(store, workerRecord('w1'));
    const kv = (await store.get(Keyspace.worker(GROUP, 'w1')))!;
    state.restoreWorker(kv, ['job~1']);
    expect(state.pool.get(GROUP, 'w1')?.inbox).toEqual(new Map([['job~1', 'assigned']]));
  });
});
