import { admitLogLines } from './log-bounds';
import { LogLine } from './history.port';

const line = (seq: number, text = 'ab'): LogLine => ({ seq, atMs: 0, level: 'info', text });
const empty = { lines: 0, bytes: 0, dropped: 0 };
const bounds = { maxLinesPerExecution: 3, maxBytesPerExecution: 100 };

describe('admitLogLines', () => {
  it('takes new lines in seq order, ignoring stored seqs and repeats', () => {
    const admitted = admitLogLines(
      [line(3), line(1), line(2), line(3)],
      (seq) => seq === 2,
      empty,
      bounds,
    );
    expect(admitted.store.map((l) => l.seq)).toEqual([1, 3]);
    expect(admitted).toMatchObject({ dropped: 0, bytes: 4 });
  });

  it('drops the line that crosses a bound and all after it', () => {
    const byLines = admitLogLines(
      [1, 2, 3, 4, 5].map((s) => line(s)),
      () => false,
      { ...empty, lines: 1 },
      bounds,
    );
    expect(byLines.store.map((l) => l.seq)).toEqual([1, 2]);
    expect(byLines.dropped).toBe(3);
    const byBytes = admitLogLines(
      [line(1, 'x'.repeat(60)), line(2, 'x'.repeat(60)), line(3, 'x')],
      () => false,
      empty,
      bounds,
    );
    expect(byBytes.store.map((l) => l.seq)).toEqual([1]);
    expect(byBytes.dropped).toBe(2);
  });

  it('takes nothing once the log dropped a line', () => {
    expect(admitLogLines([line(9)], () => false, { ...empty, dropped: 1 }, bounds)).toEqual({
      store: [],
      dropped: 1,
      bytes: 0,
    });
  });
});
