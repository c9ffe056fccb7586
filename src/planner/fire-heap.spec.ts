import fc from 'fast-check';
import { FireHeap } from './fire-heap';

describe('FireHeap', () => {
  it('pops due entries earliest first, ties by job id, and leaves later ones', () => {
    const heap = new FireHeap();
    heap.upsert('c', 30);
    heap.upsert('b', 10);
    heap.upsert('a', 10);
    heap.upsert('d', 50);
    expect(heap.peek()).toEqual({ jobId: 'a', fireAt: 10 });
    expect(heap.popDue(30)).toEqual([
      { jobId: 'a', fireAt: 10 },
      { jobId: 'b', fireAt: 10 },
      { jobId: 'c', fireAt: 30 },
    ]);
    expect(heap.size).toBe(1);
    expect(heap.popDue(49)).toEqual([]);
    expect(heap.peek()).toEqual({ jobId: 'd', fireAt: 50 });
  });

  it('re-keys a job in place when its schedule changes, and removes it', () => {
    const heap = new FireHeap();
    heap.upsert('a', 100);
    heap.upsert('b', 200);
    heap.upsert('a', 300); // later
    expect(heap.peek()?.jobId).toBe('b');
    heap.upsert('a', 50); // earlier
    expect(heap.peek()).toEqual({ jobId: 'a', fireAt: 50 });
    expect(heap.fireAtOf('a')).toBe(50);
    expect(heap.remove('a')).toBe(true);
    expect(heap.remove('a')).toBe(false);
    expect(heap.has('a')).toBe(false);
    expect(heap.size).toBe(1);
  });

  it('agrees with a sorted list under any sequence of upserts, removes and pops', () => {
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('upsert' as const),
        id: fc.integer({ min: 0, max: 30 }),
        at: fc.integer({ min: 0, max: 100 }),
      }),
      fc.record({ kind: fc.constant('remove' as const), id: fc.integer({ min: 0, max: 30 }) }),
      fc.record({ kind: fc.constant('pop' as const), now: fc.integer({ min: 0, max: 100 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const heap = new FireHeap();
        const model = new Map<string, number>();
        for (const step of ops) {
          if (step.kind === 'upsert') {
            heap.upsert(`j${step.id}`, step.at);
            model.set(`j${step.id}`, step.at);
          } else if (step.kind === 'remove') {
            expect(heap.remove(`j${step.id}`)).toBe(model.delete(`j${step.id}`));
          } else {
            const expected = [...model.entries()]
              .filter(([, at]) => at <= step.now)
              .sort(([a, x], [b, y]) => x - y || (a < b ? -1 : 1))
              .map(([jobId, fireAt]) => ({ jobId, fireAt }));
            expect(heap.popDue(step.now)).toEqual(expected);
            expected.forEach(({ jobId }) => model.delete(jobId));
          }
          expect(heap.size).toBe(model.size);
        }
      }),
      { numRuns: 500 },
    );
  });
});
