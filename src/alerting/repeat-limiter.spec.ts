import { RepeatLimiter } from './repeat-limiter';

describe('RepeatLimiter', () => {
  it('sends the first alert, holds repeats, and summarises them when the window ends', () => {
    const limiter = new RepeatLimiter<string>(60_000);
    expect(limiter.admit('job-a|failed', 'e1', 0)).toBe(true);
    // A job failing every second for a minute: nothing more goes out during the window.
    for (let t = 1000; t < 60_000; t += 1000) {
      expect(limiter.admit('job-a|failed', `e${t}`, t)).toBe(false);
    }
    expect(limiter.due(59_999)).toEqual([]);
    expect(limiter.due(60_000)).toEqual([
      { key: 'job-a|failed', count: 59, since: 1000, latest: 'e59000' },
    ]);
    // The storm goes on: one summary per window.
    for (let t = 60_000; t < 120_000; t += 1000) limiter.admit('job-a|failed', `e${t}`, t);
    expect(limiter.due(120_000)).toEqual([
      { key: 'job-a|failed', count: 60, since: 60_000, latest: 'e119000' },
    ]);
    // Quiet for a window: the window closes and the next alert goes out at once.
    expect(limiter.due(180_000)).toEqual([]);
    expect(limiter.size).toBe(0);
    expect(limiter.admit('job-a|failed', 'late', 200_000)).toBe(true);
  });

  it('limits each key on its own', () => {
    const limiter = new RepeatLimiter<string>(1000);
    expect(limiter.admit('a|failed', 'x', 0)).toBe(true);
    expect(limiter.admit('b|failed', 'x', 0)).toBe(true);
    expect(limiter.admit('a|lost', 'x', 0)).toBe(true);
    expect(limiter.admit('a|failed', 'x', 10)).toBe(false);
  });

  it('holds an alert that arrives after the window ended but before its summary went out', () => {
    const limiter = new RepeatLimiter<string>(1000);
    limiter.admit('k', 'a', 0);
    limiter.admit('k', 'b', 500);
    expect(limiter.admit('k', 'c', 1500)).toBe(false);
    expect(limiter.due(1600)).toEqual([{ key: 'k', count: 2, since: 500, latest: 'c' }]);
  });

  it('sends everything with a zero window', () => {
    const limiter = new RepeatLimiter<string>(0);
    expect(limiter.admit('k', 'a', 0)).toBe(true);
    expect(limiter.admit('k', 'b', 0)).toBe(true);
    expect(limiter.due(10)).toEqual([]);
  });
});
