import { Logger } from '@nestjs/common';
import { Keyspace } from '@forest/protocol';
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
import { DispatchState } from '../dispatch/dispatch-state';
import { AssignmentChange, AssignmentMirror } from './assignment-mirror';

describe('AssignmentMirror', () => {
  let store: EmbeddedStore;
  let close: () => Promise<void>;
  let warn: jest.SpyInstance;

  beforeEach(async () => {
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    ({ store, close } = await openStore());
  });

  afterEach(async () => {
    await close();
    jest.restoreAllMocks();
  });

  /** A second mirror on the same store, whose watch handlers the test can reach. */
  async function watchedMirror(): Promise<{ mirror: AssignmentMirror; handlers: WatchHandlers[] }> {
    const handlers: WatchHandlers[] = [];
    const watch = store.watch.bind(store);
    jest.spyOn(store, 'watch').mockImplementation((prefix, h, options) => {
      handlers.push(h);
      return watch(prefix, h, options);
    });
    const mirror = new AssignmentMirror(store);
    await mirror.onApplicationBootstrap();
    return { mirror, handlers };
  }

  it('holds what it loaded, then applies each watched change once and tells its followers', async () => {
    const first = await putPending(store, 1);
    await putAssigned(store, first, 'w1');
    const { mirror } = await watchedMirror();
    try {
      expect(mirror.revision).toBeDefined();
      expect([...mirror.entries()].map((e) => [e.group, e.workerId, e.executionId])).toEqual([
        [GROUP, 'w1', first.id],
      ]);

      const seen: AssignmentChange[][] = [];
      mirror.onChange((changes) => seen.push([...changes]));
      const second = await putPending(store, 2);
      await putAssigned(store, second, 'w1', 'running');
      await store.delete(Keyspace.assignment(GROUP, 'w1', first.id));
      await waitFor('the changes', () => seen.flat().length === 2);

      expect(seen.flat().map((c) => [c.executionId, c.held?.value.state])).toEqual([
        [second.id, 'running'],
        [first.id, undefined],
      ]);
      expect([...(mirror.inbox(GROUP, 'w1')?.keys() ?? [])]).toEqual([second.id]);
      expect(mirror.inbox(GROUP, 'w2')).toBeUndefined();
    } finally {
      await mirror.onModuleDestroy();
    }
  });

  it('skips a malformed key or value and logs it, keeping the rest', async () => {
    await store.put(`${Keyspace.assignments}${GROUP}/w1`, '{}');
    await store.put(Keyspace.assignment(GROUP, 'w1', 'job~000000000000001'), 'not json');
    const good = await putPending(store, 2);
    await putAssigned(store, good, 'w1');
    const { mirror } = await watchedMirror();
    try {
      expect([...mirror.entries()].map((e) => e.executionId)).toEqual([good.id]);
      expect(warn).toHaveBeenCalledWith(expect.stringContaining('assignment mirror ignores'));

      // A bad value written over a good entry: the entry goes, and followers hear a delete.
      const seen: AssignmentChange[] = [];
      mirror.onChange((changes) => seen.push(...changes));
      await store.put(Keyspace.assignment(GROUP, 'w1', good.id), '{"state":"odd"}');
      await waitFor('the delete', () => seen.length === 1);
      expect(seen[0]).toEqual({ group: GROUP, workerId: 'w1', executionId: good.id });
      expect([...mirror.entries()]).toEqual([]);
    } finally {
      await mirror.onModuleDestroy();
    }
  });

  it('after its watch fails: says it lost sync, reloads from the store, and a following DispatchState rebuilds its pool', async () => {
    const { mirror, handlers } = await watchedMirror();
    const state = new DispatchState(store, new FakeLeadership(store).asService(), mirror);
    try {
      await putWorker(store, workerRecord('w1'));
      const kept = await putPending(store, 1);
      await putAssigned(store, kept, 'w1');
      await state.start();
      await waitFor('the slot', () => state.pool.get(GROUP, 'w1')?.inbox.has(kept.id) === true);

      let lost = 0;
      let synced = 0;
      mirror.onSyncLost(() => lost++);
      mirror.onSynced(() => synced++);
      // A slot the store does not have (a change missed while no watch ran) must not survive.
      state.pool.setSlot(GROUP, 'w1', 'job~000000000000009', 'assigned');
      const assignmentWatch = handlers[0];
      assignmentWatch.onError?.(new Error('compacted'));
      expect(lost).toBe(1);
      expect(mirror.revision).toBeUndefined();
      await mirror.synced();
      expect(synced).toBe(1);
      await waitFor('the rebuilt pool', () => state.ready);
      expect([...(state.pool.get(GROUP, 'w1')?.inbox.keys() ?? [])]).toEqual([kept.id]);
      expect(warn).toHaveBeenCalledWith(
        expect.stringContaining('assignment mirror lost its watch'),
      );
    } finally {
      await state.stop();
      await mirror.onModuleDestroy();
    }
  });
});
