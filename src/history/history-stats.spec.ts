import { checkStatsQuery, emptyBuckets, percentileCont } from './history-stats';

describe('percentileCont', () => {
  it('interpolates between the closest ranks like PostgreSQL', () => {
    expect(percentileCont([7], 0.99)).toBe(7);
    expect(percentileCont([10, 20, 40], 0.5)).toBe(20);
    expect(percentileCont([10, 20, 40], 0.99)).toBeCloseTo(39.6, 9);
    expect(percentileCont([1, 2, 3, 4], 0.5)).toBe(2.5);
  });
});

describe('stats windows', () => {
  it('lists every bucket of the window', () => {
    expect(emptyBuckets({ fromMs: 0, toMs: 25, bucketMs: 10 }).map((b) => b.startMs)).toEqual([
      0, 10, 20,
    ]);
  });

  it('refuses empty windows, bad buckets and too many buckets', () => {
    expect(() => checkStatsQuery({ fromMs: 10, toMs: 10, bucketMs: 1 })).toThrow(RangeError);
    expect(() => checkStatsQuery({ fromMs: 0, toMs: 10, bucketMs: 0 })).toThrow(RangeError);
    expect(() => checkStatsQuery({ fromMs: 0, toMs: 10_000_000, bucketMs: 1 })).toThrow(/buckets/);
  });
});
