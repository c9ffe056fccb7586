import { LogLine } from '../history/history.port';
import { MemoryExecutionLogs } from '../history/memory-logs';
import { FollowSink, LogFollow, LogFollowOptions, LogFollowSource } from './log-follow';

const ID = 'job~001795485570000';
const FINAL = ['succeeded', 'failed'];

/** A response stream that records what was written; `queuedBytes` is set by the test. */
class RecordingSink implements FollowSink {
  text = '';
  ended = false;
  queuedBytes = 0;
  write(text: string): void {
    this.text += text;
  }
  end(): void {
    this.ended = true;
  }
  /** The SSE events written so far. */
  get events(): { id?: string; event: string; data: any }[] {
    return this.text
      .split('\n\n')
      .filter((block) => block.length > 0 && !block.startsWith(':'))
      .map((block) => {
        const fields = Object.fromEntries(
          block
            .split('\n')
            .map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 2)]),
        );
        return { id: fields.id, event: fields.event, data: JSON.parse(fields.data) };
      });
  }
}

const line = (seq: number, text = `line ${seq}`): LogLine => ({
  seq,
  atMs: 1_000 + seq,
  level: 'info',
  text,
});

function rig(options: Partial<LogFollowOptions> = {}, afterSeq = 0) {
  const store = new MemoryExecutionLogs();
  let status: string | undefined = 'running';
  const reads: number[] = [];
  const source: LogFollowSource = {
    read: (after, limit) => {
      reads.push(after);
      return store.read(ID, after, limit);
    },
    status: () => Promise.resolve(status),
  };
  const sink = new RecordingSink();
  const closed = jest.fn();
  const errors: unknown[] = [];
  const follow = new LogFollow(
    source,
    sink,
    afterSeq,
    {
      pollMs: 2,
      statusEveryMs: 0,
      pageLines: 3,
      maxQueuedBytes: 1000,
      isFinal: (s) => FINAL.includes(s),
      onError: (error) => errors.push(error),
      ...options,
    },
    closed,
  );
  const done = follow.run();
  return {
    store,
    sink,
    follow,
    closed,
    errors,
    reads,
    done,
    setStatus: (s: string | undefined) => (status = s),
    append: (...lines: LogLine[]) => store.append(ID, lines),
  };
}

async function waitUntil(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

describe('LogFollow', () => {
  it('sends stored lines, then new ones as they come, then `end` once final, and closes', async () => {
    const r = rig();
    await r.append(line(1), line(2), line(3), line(4)); // more than one read's page
    await waitUntil(() => r.sink.events.length === 4);
    await r.append(line(5));
    await waitUntil(() => r.sink.events.length === 5);
    expect(r.sink.ended).toBe(false);
    r.setStatus('succeeded');
    await r.done;
    expect(r.sink.events.map((e) => [e.event, e.id])).toEqual([
      ['line', '1'],
      ['line', '2'],
      ['line', '3'],
      ['line', '4'],
      ['line', '5'],
      ['end', undefined],
    ]);
    expect(r.sink.events[0].data).toEqual(line(1));
    expect(r.sink.events[5].data).toEqual({ status: 'succeeded', lastSeq: 5 });
    expect(r.sink.ended).toBe(true);
    expect(r.closed).toHaveBeenCalledTimes(1);
  });

  it('sends every line stored before the execution became final, before `end`', async () => {
    // The worker's last lines land, then its final report: the status read that first sees
    // the final status comes after them, and so must the read that decides `end`.
    const store = new MemoryExecutionLogs();
    await store.append(ID, [line(1)]);
    let statusReads = 0;
    const sink = new RecordingSink();
    const follow = new LogFollow(
      {
        read: (after, limit) => store.read(ID, after, limit),
        status: async () => {
          if (++statusReads < 3) return 'running';
          await store.append(ID, [line(2), line(3)]);
          return 'succeeded';
        },
      },
      sink,
      0,
      {
        pollMs: 2,
        statusEveryMs: 0,
        pageLines: 10,
        maxQueuedBytes: 1000,
        isFinal: (s) => FINAL.includes(s),
        onError: () => undefined,
      },
      () => undefined,
    );
    await follow.run();
    expect(sink.events.map((e) => e.id ?? e.event)).toEqual(['1', '2', '3', 'end']);
    expect(sink.events[3].data).toEqual({ status: 'succeeded', lastSeq: 3 });
  });

  it('reads at once when nudged, rather than at the end of its pause', async () => {
    const r = rig({ pollMs: 60_000 });
    await waitUntil(() => r.reads.length === 1); // the first read, then a minute's pause
    await r.append(line(1));
    r.follow.nudge();
    await waitUntil(() => r.sink.events.length === 1);
    // Nudges that come while it reads make it read again rather than pause.
    r.follow.nudge();
    r.follow.nudge();
    await waitUntil(() => r.reads.length >= 3);
    await r.append(line(2));
    r.follow.nudge();
    await waitUntil(() => r.sink.events.length === 2);
    r.follow.disconnected();
    await r.done;
    r.follow.nudge(); // after close: nothing happens
  });

  it('resumes after the given seq', async () => {
    const r = rig({}, 2);
    await r.append(line(1), line(2), line(3));
    r.setStatus('succeeded');
    await r.done;
    expect(r.sink.events.map((e) => e.id)).toEqual(['3', undefined]);
  });

  it('ends at once, with status null, for an execution that no longer exists', async () => {
    const r = rig();
    r.setStatus(undefined);
    await r.done;
    expect(r.sink.events).toEqual([{ event: 'end', data: { status: null, lastSeq: 0 } }]);
  });

  it('reads nothing while the client has not taken what was sent, and goes on after', async () => {
    const r = rig();
    r.sink.queuedBytes = 5000;
    await r.append(line(1));
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(r.reads).toEqual([]);
    r.sink.queuedBytes = 0;
    await waitUntil(() => r.sink.events.length === 1);
    r.follow.disconnected();
    await r.done;
  });

  it('stops reading when the client leaves, without writing or ending the response', async () => {
    const r = rig();
    await waitUntil(() => r.reads.length > 0);
    r.follow.disconnected();
    await r.done;
    const reads = r.reads.length;
    await r.append(line(1));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(r.reads.length).toBe(reads);
    expect(r.sink.ended).toBe(false);
    expect(r.sink.text).toBe('');
    expect(r.closed).toHaveBeenCalledTimes(1);
  });

  it('goes on after a failed read, reporting it', async () => {
    let failures = 1;
    const store = new MemoryExecutionLogs();
    await store.append(ID, [line(1)]);
    const sink = new RecordingSink();
    const errors: unknown[] = [];
    const follow = new LogFollow(
      {
        read: (after, limit) =>
          failures-- > 0 ? Promise.reject(new Error('store down')) : store.read(ID, after, limit),
        status: () => Promise.resolve('succeeded'),
      },
      sink,
      0,
      {
        pollMs: 2,
        statusEveryMs: 0,
        pageLines: 10,
        maxQueuedBytes: 1000,
        isFinal: (s) => FINAL.includes(s),
        onError: (error) => errors.push(error),
      },
      () => undefined,
    );
    await follow.run();
    expect(errors).toEqual([new Error('store down')]);
    expect(sink.events.map((e) => e.event)).toEqual(['line', 'end']);
  });

  it('writes heartbeats while open, and nothing once closed', () => {
    const sink = new RecordingSink();
    const follow = new LogFollow(
      { read: () => Promise.resolve([]), status: () => Promise.resolve('running') },
      sink,
      0,
      {
        pollMs: 1000,
        statusEveryMs: 0,
        pageLines: 10,
        maxQueuedBytes: 1000,
        isFinal: () => false,
        onError: () => undefined,
      },
      () => undefined,
    );
    follow.heartbeat();
    follow.end();
    follow.heartbeat();
    expect(sink.text).toBe(': heartbeat\n\n');
    expect(sink.ended).toBe(true);
  });
});
