import { ExecutionLogs, LogLine } from '../../src/history/history.port';
import { LogBounds } from '../../src/history/log-bounds';

/**
 * The contract every ExecutionLogs adapter passes (memory and PostgreSQL).
 */
export interface LogsUnderTest {
  logs: ExecutionLogs;
  dispose(): Promise<void>;
}

export interface LogsOptions extends Partial<LogBounds> {
  /** The adapter's clock of appends. */
  now?: () => number;
}

const line = (seq: number, text = `line ${seq}`): LogLine => ({
  seq,
  atMs: 1_700_000_000_000 + seq,
  level: seq % 2 === 0 ? 'warn' : 'info',
  text,
});
const seqs = (lines: readonly LogLine[]) => lines.map((l) => l.seq);

export function describeLogsContract(
  adapter: string,
  open: (options: LogsOptions) => Promise<LogsUnderTest>,
): void {
  describe(`ExecutionLogs contract: ${adapter}`, () => {
    let subject: LogsUnderTest | undefined;

    const start = async (options: LogsOptions = {}) => {
      subject = await open(options);
      return subject.logs;
    };

    afterEach(async () => {
      await subject?.dispose();
      subject = undefined;
    });

    it('stores lines once per seq: a resent batch adds only what is new', async () => {
      const logs = await start();
      expect(await logs.append('job~1', [line(1), line(2), line(3)])).toEqual({
        stored: 3,
        dropped: 0,
      });
      expect(await logs.append('job~1', [line(2), line(3), line(4), line(4)])).toEqual({
        stored: 1,
        dropped: 0,
      });
      expect(await logs.read('job~1', 0, 100)).toEqual([line(1), line(2), line(3), line(4)]);
    });

    it('reads in seq order after a seq, at most a limit', async () => {
      const logs = await start();
      await logs.append('job~1', [line(5), line(3)]);
      await logs.append('job~1', [line(1), line(4), line(2)]);
      expect(seqs(await logs.read('job~1', 0, 100))).toEqual([1, 2, 3, 4, 5]);
      expect(seqs(await logs.read('job~1', 2, 2))).toEqual([3, 4]);
      expect(await logs.read('job~1', 5, 10)).toEqual([]);
      expect(await logs.read('job~unknown', 0, 10)).toEqual([]);
    });

    it('keeps executions apart', async () => {
      const logs = await start();
      await logs.append('job~1', [line(1, 'one')]);
      await logs.append('job~2', [line(1, 'two')]);
      expect((await logs.read('job~1', 0, 10))[0].text).toBe('one');
      expect((await logs.read('job~2', 0, 10))[0].text).toBe('two');
    });

    it('drops lines past the per-execution line bound, and every line after', async () => {
      const logs = await start({ maxLinesPerExecution: 5 });
      expect(
        await logs.append(
          'job~1',
          [1, 2, 3].map((seq) => line(seq)),
        ),
      ).toEqual({
        stored: 3,
        dropped: 0,
      });
      expect(
        await logs.append(
          'job~1',
          [4, 5, 6, 7].map((seq) => line(seq)),
        ),
      ).toEqual({
        stored: 2,
        dropped: 2,
      });
      expect(await logs.append('job~1', [line(8)])).toEqual({ stored: 0, dropped: 1 });
      expect(seqs(await logs.read('job~1', 0, 100))).toEqual([1, 2, 3, 4, 5]);
      // Another execution has its own bound.
      expect(await logs.append('job~2', [line(1)])).toEqual({ stored: 1, dropped: 0 });
    });

    it('drops lines past the per-execution byte bound', async () => {
      const logs = await start({ maxBytesPerExecution: 10 });
      const result = await logs.append('job~1', [
        line(1, 'abcd'),
        line(2, 'efgh'),
        line(3, 'ijkl'),
      ]);
      expect(result).toEqual({ stored: 2, dropped: 1 });
      // A smaller line would fit, but the log is closed: it stays a whole beginning.
      expect(await logs.append('job~1', [line(4, 'x')])).toEqual({ stored: 0, dropped: 1 });
      expect(seqs(await logs.read('job~1', 0, 100))).toEqual([1, 2]);
    });

    it('counts bytes of UTF-8, not characters', async () => {
      const logs = await start({ maxBytesPerExecution: 8 });
      // 'é' is two bytes: 4 characters, 8 bytes fit; one more does not.
      expect(await logs.append('job~1', [line(1, 'éééé'), line(2, 'a')])).toEqual({
        stored: 1,
        dropped: 1,
      });
    });

    it('prunes logs nobody appended to since the cutoff, answering the lines removed', async () => {
      let nowMs = 1_000;
      const logs = await start({ now: () => nowMs });
      await logs.append('job~old', [line(1), line(2)]);
      nowMs = 5_000;
      await logs.append('job~new', [line(1)]);
      expect(await logs.prune(2_000)).toBe(2);
      expect(await logs.read('job~old', 0, 10)).toEqual([]);
      expect(seqs(await logs.read('job~new', 0, 10))).toEqual([1]);
      expect(await logs.prune(2_000)).toBe(0);
    });
  });
}
