import { Logger } from '@nestjs/common';
import { assignTo, DispatchContext, DispatchDecision, shardAcross } from '@forest/plugin-api';
import { EmbeddedStore } from '@forest/store';
import {
  FakeLeadership,
  GROUP,
  NODE,
  openStore,
  putWorker,
  strategiesOf,
  testConfig,
  waitFor,
  workerRecord,
} from '../../test/support/dispatch-rig';
import { DispatchEvent, DispatchEventBus } from './dispatch.events';
import { DispatchState } from './dispatch-state';
import { Dispatcher } from './dispatcher.service';
import { FiringJob } from './fire-placement';
import { PendingDrain } from './pending-drain';
import { AssignmentMirror } from '../assignments/assignment-mirror';

const job: FiringJob = {
  jobId: 'job',
  name: 'job',
  group: GROUP,
  target: 't',
  params: { a: 1 },
  timeoutMs: 0,
  dispatch: { strategy: 'round-robin', options: {} },
  retry: { maxAttempts: 0, backoff: 'fixed', initialDelayMs: 0, maxDelayMs: 0 },
  concurrency: 'allow',
};

describe('Dispatcher', () => {
  let store: EmbeddedStore;
  let close: () => Promise<void>;
  let leadership: FakeLeadership;
  let state: DispatchState;
  let mirror: AssignmentMirror;
  let bus: DispatchEventBus;
  let select: jest.Mock<DispatchDecision, [DispatchContext]>;
  let dispatcher: Dispatcher;

  beforeEach(async () => {
    ({ store, close, mirror } = await openStore());
    leadership = new FakeLeadership(store);
    state = new DispatchState(store, leadership.asService(), mirror);
    bus = new DispatchEventBus();
    select = jest.fn((context: DispatchContext) => assignTo(context.workers[0]));
    const strategies = strategiesOf((context) => select(context));
    const drain = new PendingDrain(state, store, leadership.asService(), testConfig(), strategies);
    dispatcher = new Dispatcher(leadership.asService(), strategies, state, drain, bus);
    dispatcher.onModuleInit();
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  });

  afterEach(async () => {
    await dispatcher.onModuleDestroy();
    await close();
    jest.restoreAllMocks();
  });

  const elect = () =>
    leadership.events.next({ type: 'elected', nodeId: NODE, token: 1, at: new Date() });

  it('loads on election and clears on demotion', async () => {
    await putWorker(store, workerRecord('w1'));
    elect();
    await waitFor('the load', () => state.ready);
    expect(state.pool.get(GROUP, 'w1')).toBeDefined();

    leadership.events.next({ type: 'demoted', nodeId: NODE, reason: 'test', at: new Date() });
    await waitFor('the stop', () => !state.ready);
    expect(state.pool.groupsWithWorkers()).toEqual([]);
  });

  it('places a fire on the worker a synchronous strategy picks, and releases it', async () => {
    await putWorker(store, workerRecord('w1', { capacity: 1 }));
    expect(dispatcher.place(job, 'job~1', 1000)).toBeUndefined(); // not loaded yet
    elect();
    await waitFor('the load', () => state.ready);

    expect(dispatcher.place(job, 'job~1', 1000)).toBe('w1');
    expect(select.mock.calls[0][0]).toMatchObject({
      job: { id: 'job', group: GROUP, target: 't', params: { a: 1 } },
      execution: { id: 'job~1', trigger: 'schedule', attempt: 1, scheduledMs: 1000 },
      workers: [{ id: 'w1', capacity: 1, load: 0, free: 1 }],
    });
    expect(state.pool.get(GROUP, 'w1')?.inbox.get('job~1')).toBe('reserved');
    // Full now: no strategy call, the fire goes to pending/.
    expect(dispatcher.place(job, 'job~2', 2000)).toBeUndefined();
    expect(select).toHaveBeenCalledTimes(1);

    dispatcher.release(GROUP, 'w1', 'job~1');
    expect(state.pool.get(GROUP, 'w1')?.inbox.size).toBe(0);
  });

  it('leaves broadcasts to the drain', async () => {
    await putWorker(store, workerRecord('w1'));
    select.mockImplementation((context) => shardAcross(context.workers));
    elect();
    await waitFor('the load', () => state.ready);
    expect(dispatcher.place(job, 'job~1', 1000)).toBeUndefined();
    expect(state.pool.get(GROUP, 'w1')?.inbox.size).toBe(0);
  });

  it('passes on what the dispatch units announce, and completes on shutdown', async () => {
    const seen: DispatchEvent[] = [];
    let completed = false;
    dispatcher.events$.subscribe({ next: (e) => seen.push(e), complete: () => (completed = true) });
    const event: DispatchEvent = { type: 'worker_lost', worker: workerRecord('w1'), held: 0 };
    bus.emit(event);
    expect(seen).toEqual([event]);
    await dispatcher.onModuleDestroy();
    expect(completed).toBe(true);
  });
});
