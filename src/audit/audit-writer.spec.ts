import { AuditWriter, AuditWriterOptions } from './audit-writer';
import { AuditEntry } from './audit.types';

const OPTIONS: AuditWriterOptions = {
  flushIntervalMs: 100,
  maxBatch: 4,
  maxQueued: 10,
  retryDelayMs: 500,
  maxRetryDelayMs: 2000,
};

function entry(n: number): AuditEntry {
  return {
    id: `${String(n).padStart(15, '0')}-00000000`,
    at: new Date(n).toISOString(),
    actor: 'anonymous (auth off)',
    action: 'job.create',
    method: 'POST',
    route: '/api/jobs',
    object: `job:j${n}`,
    status: 201,
    node: 'n1',
    ip: '127.0.0.1',
  };
}

/** A sink that records each batch and can be made to fail or to hold its writes. */
function sink() {
  const batches: number[][] = [];
  const state = { failing: false, hold: undefined as Promise<void> | undefined };
  const write = jest.fn(async (entries: AuditEntry[]) => {
    if (state.hold) await state.hold;
    if (state.failing) throw new Error('store down');
    batches.push(entries.map((e) => Number(e.id.slice(0, 15))));
  });
  return { batches, state, write };
}

describe('AuditWriter', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('writes a lone entry after the flush interval, not at once', async () => {
    const { batches, write } = sink();
    const writer = new AuditWriter(write, OPTIONS);
    writer.record(entry(1));
    await jest.advanceTimersByTimeAsync(99);
    expect(write).not.toHaveBeenCalled();
    await jest.advanceTimersByTimeAsync(1);
    expect(batches).toEqual([[1]]);
    expect(writer.stats).toMatchObject({ recorded: 1, written: 1, writes: 1, queued: 0 });
  });

  it('turns a burst into few writes: a full batch goes at once, the rest after the interval', async () => {
    const { batches, write } = sink();
    const writer = new AuditWriter(write, OPTIONS);
    for (let n = 1; n <= 10; n++) writer.record(entry(n));
    await jest.advanceTimersByTimeAsync(0);
    // One write in flight (the first full batch); the others waited for it.
    await jest.advanceTimersByTimeAsync(100);
    expect(batches).toEqual([
      [1, 2, 3, 4],
      [5, 6, 7, 8],
      [9, 10],
    ]);
    expect(writer.stats).toMatchObject({ recorded: 10, written: 10, writes: 3 });
  });

  it('has one write in flight at a time; entries arriving meanwhile form the next batch', async () => {
    const { batches, state, write } = sink();
    let release!: () => void;
    state.hold = new Promise<void>((resolve) => (release = resolve));
    const writer = new AuditWriter(write, OPTIONS);
    writer.record(entry(1));
    await jest.advanceTimersByTimeAsync(100);
    expect(write).toHaveBeenCalledTimes(1);
    writer.record(entry(2));
    writer.record(entry(3));
    await jest.advanceTimersByTimeAsync(500);
    expect(write).toHaveBeenCalledTimes(1);
    state.hold = undefined;
    release();
    await jest.advanceTimersByTimeAsync(100);
    expect(batches).toEqual([[1], [2, 3]]);
  });

  it('never throws to the caller; a failed write is reported, kept and retried with backoff', async () => {
    const { batches, state, write } = sink();
    const failures: number[] = [];
    const writer = new AuditWriter(write, {
      ...OPTIONS,
      onWriteFailed: (_error, size) => failures.push(size),
    });
    state.failing = true;
    writer.record(entry(1));
    writer.record(entry(2));
    await jest.advanceTimersByTimeAsync(100);
    expect(failures).toEqual([2]);
    writer.record(entry(3));
    await jest.advanceTimersByTimeAsync(500); // first retry (500 ms), fails again
    expect(failures).toEqual([2, 3]);
    state.failing = false;
    await jest.advanceTimersByTimeAsync(999);
    expect(batches).toEqual([]);
    await jest.advanceTimersByTimeAsync(1); // second retry after 1000 ms: in order
    expect(batches).toEqual([[1, 2, 3]]);
    expect(writer.stats).toMatchObject({ written: 3, failedWrites: 2, dropped: 0, queued: 0 });
  });

  it('bounds the queue during an outage: the oldest entries are dropped and counted', async () => {
    const { batches, state, write } = sink();
    const writer = new AuditWriter(write, { ...OPTIONS, maxBatch: 100 });
    state.failing = true;
    for (let n = 1; n <= 15; n++) writer.record(entry(n));
    await jest.advanceTimersByTimeAsync(100);
    expect(writer.stats).toMatchObject({ queued: 10, dropped: 5 });
    state.failing = false;
    await jest.advanceTimersByTimeAsync(500);
    expect(batches).toEqual([[6, 7, 8, 9, 10, 11, 12, 13, 14, 15]]);
  });

  it('close writes what is queued; what it cannot write is dropped, later entries too', async () => {
    const { batches, write } = sink();
    const writer = new AuditWriter(write, OPTIONS);
    writer.record(entry(1));
    writer.record(entry(2));
    await writer.close();
    expect(batches).toEqual([[1, 2]]);
    writer.record(entry(3));
    expect(writer.stats.dropped).toBe(1);

    const failing = sink();
    failing.state.failing = true;
    const other = new AuditWriter(failing.write, OPTIONS);
    other.record(entry(1));
    await other.close();
    expect(other.stats).toMatchObject({ written: 0, dropped: 1, queued: 0 });
  });

  it('a throwing failure callback does not stop the writer', async () => {
    const { batches, state, write } = sink();
    const writer = new AuditWriter(write, {
      ...OPTIONS,
      onWriteFailed: () => {
        throw new Error('logger broke');
      },
    });
    state.failing = true;
    writer.record(entry(1));
    await jest.advanceTimersByTimeAsync(100);
    state.failing = false;
    await jest.advanceTimersByTimeAsync(500);
    expect(batches).toEqual([[1]]);
  });
});
