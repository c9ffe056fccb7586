import {
  allWorkersFull,
  isLessBusy,
  leastBusy,
  noLiveWorker,
  noOptionsAllowed,
  unknownOptions,
  withFreeSlot,
} from './dispatch-helpers';
import * as api from './index';
import { DispatchJob, noWorker } from './dispatch-strategy.interface';
import { worker, workers } from './testing';

describe('dispatch helpers', () => {
  it('are exported from the plugin API entry point', () => {
    expect(api.withFreeSlot).toBe(withFreeSlot);
    expect(api.isLessBusy).toBe(isLessBusy);
    expect(api.leastBusy).toBe(leastBusy);
    expect(api.noLiveWorker).toBe(noLiveWorker);
    expect(api.allWorkersFull).toBe(allWorkersFull);
    expect(api.unknownOptions).toBe(unknownOptions);
    expect(api.noOptionsAllowed).toBe(noOptionsAllowed);
  });

  describe('withFreeSlot', () => {
    it('keeps the workers with free > 0, in the order given', () => {
      const ws = [
        worker('c'),
        worker('a', { load: 4 }),
        worker('b', { free: 0 }),
        worker('d', { load: 3 }),
      ];
      expect(withFreeSlot(ws).map((w) => w.id)).toEqual(['c', 'd']);
      expect(withFreeSlot([])).toEqual([]);
    });
  });

  describe('leastBusy', () => {
    it('chooses the lowest load for the capacity', () => {
      const ws = [worker('a', { capacity: 8, load: 3 }), worker('b', { capacity: 4, load: 1 })];
      expect(leastBusy(ws)?.id).toBe('b');
      expect(
        leastBusy([worker('a', { capacity: 8, load: 3 }), worker('b', { capacity: 4, load: 2 })])
          ?.id,
      ).toBe('a');
    });

    it('breaks ties by fewer running, then lower load, then lower id', () => {
      expect(
        leastBusy([worker('a', { load: 2, running: 2 }), worker('b', { load: 2, running: 1 })])?.id,
      ).toBe('b');
      // 2/4 = 4/8, equal running: the lower load.
      expect(
        leastBusy([
          worker('a', { capacity: 8, load: 4, running: 1 }),
          worker('b', { capacity: 4, load: 2, running: 1 }),
        ])?.id,
      ).toBe('b');
      expect(leastBusy([worker('b', { load: 1 }), worker('a', { load: 1 })])?.id).toBe('a');
    });

    it('does not depend on the order of the workers', () => {
      const ws = [
        worker('a', { capacity: 4, load: 2 }),
        worker('b', { capacity: 8, load: 2 }),
        worker('d', { capacity: 4, load: 1 }),
        worker('e', { capacity: 4, load: 1 }),
      ];
      expect(leastBusy(ws)?.id).toBe('d');
      expect(leastBusy([...ws].reverse())?.id).toBe('d');
    });

    it('skips full workers however idle they look, and is undefined when all are full', () => {
      const ws = [worker('a', { free: 0 }), worker('b', { load: 3 }), worker('c', { load: 4 })];
      expect(leastBusy(ws)?.id).toBe('b');
      expect(leastBusy(workers(3, { load: 4 }))).toBeUndefined();
      expect(leastBusy([])).toBeUndefined();
    });

    it('agrees with isLessBusy, which is a strict order', () => {
      const a = worker('a', { load: 1 });
      const b = worker('b', { load: 1 });
      expect(isLessBusy(a, b)).toBe(true);
      expect(isLessBusy(b, a)).toBe(false);
      expect(isLessBusy(a, a)).toBe(false);
    });
  });

  describe('refusals', () => {
    it('noLiveWorker names the group and target', () => {
      const job: DispatchJob = { id: 'j', name: 'j', group: 'batch', target: 'export', params: {} };
      expect(noLiveWorker(job)).toEqual(
        noWorker('no live worker of group batch runs target export'),
      );
    });

    it('allWorkersFull counts the workers', () => {
      expect(allWorkersFull(workers(3, { load: 4 }))).toEqual(
        noWorker('all 3 eligible workers are full'),
      );
      expect(allWorkersFull([worker('a', { free: 0 })])).toEqual(
        noWorker('all 1 eligible workers are full'),
      );
    });
  });

  describe('option checks', () => {
    it('noOptionsAllowed rejects every key, in key order', () => {
      expect(noOptionsAllowed('random', {})).toEqual([]);
      expect(noOptionsAllowed('least-busy', { by: 'ratio', weight: 2 })).toEqual([
        'dispatch.options.by is not an option of the least-busy strategy (allowed: none)',
        'dispatch.options.weight is not an option of the least-busy strategy (allowed: none)',
      ]);
    });

    it('unknownOptions rejects the keys not allowed, listing the allowed ones', () => {
      const allowed = ['by', 'param'];
      expect(unknownOptions('consistent-hash', { by: 'job', param: 'x' }, allowed)).toEqual([]);
      expect(unknownOptions('consistent-hash', { bye: 1, by: 'job', z: 0 }, allowed)).toEqual([
        'dispatch.options.bye is not an option of the consistent-hash strategy (allowed: by, param)',
        'dispatch.options.z is not an option of the consistent-hash strategy (allowed: by, param)',
      ]);
      expect(unknownOptions('random', { x: 1 }, [])).toEqual(noOptionsAllowed('random', { x: 1 }));
    });
  });
});
