import { HistoryIndex, IndexedRecord } from './history-index';

const entry = (jobId: string, finishedMs: number, bytes = 10): IndexedRecord => ({
  jobId,
  bytes,
  finishedMs,
  modRevision: finishedMs,
});

describe('HistoryIndex', () => {
  it('keeps keys sorted whatever the insertion order, and totals bytes', () => {
    const index = new HistoryIndex();
    index.set('003', entry('a', 3));
    index.set('001', entry('a', 1));
    index.set('002', entry('a', 2, 5));
    index.set('002', entry('a', 2, 7)); // rewritten: counted once
    expect(index.keys()).toEqual(['001', '002', '003']);
    expect(index.bytes).toBe(27);
    index.delete('002');
    index.delete('missing');
    expect(index.keys()).toEqual(['001', '003']);
    expect(index.size).toBe(2);
    expect(index.bytes).toBe(20);
    index.set('002', entry('a', 2));
    expect(index.keys()).toEqual(['001', '002', '003']);
  });

  it('stays sorted through many deletes (lazy compaction)', () => {
    const index = new HistoryIndex();
    const keys = Array.from({ length: 5000 }, (_, i) => String(i).padStart(5, '0'));
    for (const key of keys) index.set(key, entry('a', 1));
    for (const key of keys.slice(0, 4000)) index.delete(key);
    index.set('00000', entry('a', 1));
    expect(index.keys()).toEqual(['00000', ...keys.slice(4000)]);
  });

  it('plans deletes by age, then per-job count, then size (oldest first)', async () => {
    const index = new HistoryIndex();
    // Keys sort by time; jobs a and b interleave.
    index.set('01', entry('a', 100));
    index.set('02', entry('b', 200));
    index.set('03', entry('a', 300));
    index.set('04', entry('a', 400));
    index.set('05', entry('b', 500));
    index.set('06', entry('a', 600));
    const plan = await index.planPrune({ cutoffMs: 150, keepPerJob: 2, maxBytes: 25 });
    expect(plan.age).toEqual(['01']);
    expect(plan.count).toEqual(['03']);
    // Kept after age and count: 06, 05, 04, 02 (40 bytes); the oldest go until <= 25.
    expect(plan.size).toEqual(['02', '04']);
  });
});
