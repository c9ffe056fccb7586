import { Logger } from '@nestjs/common';
import { EmbeddedStore } from '@forest/store';
import {
  FakeLeadership,
  GROUP,
  openStore,
  putPending,
  putWorker,
  testConfig,
  workerRecord,
} from '../../test/support/dispatch-rig';
import { DispatchEvent, DispatchEventBus } from './dispatch.events';
import { DispatchState } from './dispatch-state';
import { LongWaitSweep } from './long-wait-sweep';
import { AssignmentMirror } from '../assignments/assignment-mirror';

const THRESHOLD_MS = 1000;

describe('LongWaitSweep', () => {
  let store: EmbeddedStore;
  let close: () => Promise<void>;
  let state: DispatchState;
  let mirror: AssignmentMirror;
  let sweep: LongWaitSweep;
  let events: DispatchEvent[];

  beforeEach(async () => {
    ({ store, close, mirror } = await openStore());
    state = new DispatchState(store, new FakeLeadership(store).asService(), mirror);
    const bus = new DispatchEventBus();
    events = [];
    bus.events$.subscribe((event) => events.push(event));
    sweep = new LongWaitSweep(state, testConfig({ alertNoWorkerMs: THRESHOLD_MS }), bus);
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  });

  afterEach(async () => {
    await state.stop();
    await close();
    jest.restoreAllMocks();
  });

  const longAgo = () => new Date(Date.now() - 2 * THRESHOLD_MS).toISOString();

  it('raises no_worker once for an execution waiting past the threshold', async () => {
    const waiting = await putPending(store, 1, { since: longAgo() });
    await putPending(store, 2); // waiting since now: not yet
    await state.start();

    sweep.sweep();
    sweep.sweep();

    expect(events).toEqual([
      {
        type: 'no_worker',
        executionId: waiting.id,
        jobId: 'job',
        group: GROUP,
        target: 't',
        since: expect.any(String),
        reason: 'no live worker of group g runs target t',
      },
    ]);
  });

  it('says why: every worker is full, or what the strategy last answered', async () => {
    await putWorker(store, workerRecord('w1', { capacity: 0 }));
    const full = await putPending(store, 1, { since: longAgo() });
    const declined = await putPending(store, 2, { since: longAgo() });
    await state.start();
    const item = [...state.pendingOf(GROUP)].find((i) => i.entry.executionId === declined.id)!;
    item.reason = 'no worker has label gpu';

    sweep.sweep();

    expect(events.map((e) => e.type === 'no_worker' && [e.executionId, e.reason])).toEqual([
      [full.id, 'every worker of group g that runs target t is full'],
      [declined.id, 'no worker has label gpu'],
    ]);
  });

  it('counts a retry as waiting from the end of its backoff', async () => {
    const notBeforeMs = Date.now() + 10_000;
    await putPending(store, 1, { since: longAgo(), notBeforeMs });
    await state.start();

    sweep.sweep();
    expect(events).toEqual([]);
    sweep.sweep(notBeforeMs + THRESHOLD_MS);
    expect(events).toHaveLength(1);
  });

  it('sweeps only while the state is loaded, and runs on its own once loaded', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    try {
      await putPending(store, 1, { since: longAgo() });
      sweep.sweep();
      expect(events).toEqual([]);

      await state.start();
      jest.advanceTimersByTime(5000);
      expect(events).toHaveLength(1);

      await state.stop();
      expect(jest.getTimerCount()).toBe(0);
    } finally {
      jest.useRealTimers();
    }
  });
});
