import { ClientFilter, EventClient, EventSink } from './event-client';
import { StreamEvent } from './stream-event';

/** A connection that takes nothing until told to: its backlog is what was written. */
class SlowSink implements EventSink {
  written: string[] = [];
  taken = 0;
  ended = false;
  write(text: string): void {
    this.written.push(text);
  }
  get queuedBytes(): number {
    return this.written.slice(this.taken).reduce((sum, text) => sum + text.length, 0);
  }
  end(): void {
    this.ended = true;
  }
  /** The connection took everything written so far. */
  drain(): void {
    this.taken = this.written.length;
  }
  events(): string[] {
    return this.written.map((text) => /^event: (\w+)/m.exec(text)?.[1] ?? 'comment');
  }
}

function execution(revision: number, group: string, jobId = 'job'): StreamEvent {
  return {
    type: 'execution',
    revision,
    data: {
      id: `${jobId}~${revision}`,
      jobId,
      jobName: jobId,
      group,
      status: 'running',
      trigger: 'schedule',
      attempt: 1,
      scheduledAt: new Date(0).toISOString(),
    },
  };
}
const worker = (revision: number, group: string): StreamEvent => ({
  type: 'worker',
  revision,
  data: { change: 'registered', group, workerId: `w${revision}` },
});
const node = (revision: number): StreamEvent => ({
  type: 'node',
  revision,
  data: { change: 'joined', nodeId: 'n1', leader: false },
});

function client(filter: Partial<ClientFilter>, maxBytes = 100_000) {
  const sink = new SlowSink();
  const closed: EventClient[] = [];
  const subject = new EventClient(
    sink,
    { types: ['execution', 'node', 'worker'], ...filter },
    maxBytes,
    (c) => closed.push(c),
  );
  subject.start(false, []);
  return { sink, subject, closed };
}

describe('EventClient', () => {
  it('writes each event as SSE with the store revision as its id', () => {
    const { sink, subject } = client({});
    subject.deliver(execution(42, 'g'));
    expect(sink.written[0]).toMatch(/^id: 42\nevent: execution\ndata: \{.*"jobId":"job".*\}\n\n$/);
    expect(JSON.parse(sink.written[0].split('data: ')[1])).not.toHaveProperty('params');
  });

  it('sends only the types, group and job asked for; nodes are not group-bound', () => {
    const { sink, subject } = client({ types: ['execution', 'node'], group: 'a', jobId: 'j1' });
    for (const event of [
      execution(1, 'a', 'j1'),
      execution(2, 'a', 'j2'),
      execution(3, 'b', 'j1'),
      worker(4, 'a'),
      node(5),
    ]) {
      subject.deliver(event);
    }
    expect(sink.written.map((text) => /^id: (\d+)/.exec(text)![1])).toEqual(['1', '5']);
  });

  it("shows a group-limited token only its groups' executions and workers, whatever it filters", () => {
    const { sink, subject } = client({ scope: ['a'] });
    subject.deliver(execution(1, 'a'));
    subject.deliver(execution(2, 'b'));
    subject.deliver(worker(3, 'b'));
    subject.deliver(worker(4, 'a'));
    subject.deliver(node(5));
    expect(sink.written.map((text) => /^id: (\d+)/.exec(text)![1])).toEqual(['1', '4', '5']);
    const outside = client({ scope: ['a'], group: 'b' });
    outside.subject.deliver(execution(6, 'b'));
    expect(outside.sink.written).toEqual([]);
  });

  it('cuts off a client that cannot keep up with `overflow`, and never buffers past the bound', () => {
    const { sink, subject, closed } = client({}, 2000);
    for (let i = 1; i <= 5; i++) subject.deliver(execution(i, 'g'));
    sink.drain();
    for (let i = 6; i <= 100; i++) subject.deliver(execution(i, 'g'));
    expect(sink.events().at(-1)).toBe('overflow');
    expect(sink.ended).toBe(true);
    expect(closed).toEqual([subject]);
    // Everything queued besides the overflow line fits the bound.
    const queued = sink.written.slice(sink.taken, -1).reduce((sum, text) => sum + text.length, 0);
    expect(queued).toBeLessThanOrEqual(2000);
    const count = sink.written.length;
    subject.deliver(execution(101, 'g'));
    subject.heartbeat();
    expect(sink.written.length).toBe(count);
  });

  it('keeps up with a reader that drains', () => {
    const { sink, subject, closed } = client({}, 2000);
    for (let i = 1; i <= 100; i++) {
      subject.deliver(execution(i, 'g'));
      sink.drain();
    }
    expect(closed).toEqual([]);
    expect(sink.events().filter((e) => e === 'execution')).toHaveLength(100);
  });

  it('holds live events until started, then sends reset, the replay and the held events in order', () => {
    const sink = new SlowSink();
    const subject = new EventClient(sink, { types: ['execution'] }, 100_000, () => undefined);
    subject.deliver(execution(10, 'g'));
    expect(sink.written).toEqual([]);
    subject.start(true, [execution(8, 'g'), execution(9, 'g')]);
    expect(sink.events()).toEqual(['reset', 'execution', 'execution', 'execution']);
    expect(sink.written.slice(1).map((text) => /^id: (\d+)/.exec(text)![1])).toEqual([
      '8',
      '9',
      '10',
    ]);
    // Control events carry no id: they do not move the client's resume point.
    expect(sink.written[0]).not.toMatch(/^id:/m);
  });

  it('overflows while held, too', () => {
    const sink = new SlowSink();
    const closed: EventClient[] = [];
    const subject = new EventClient(sink, { types: ['execution'] }, 1000, (c) => closed.push(c));
    for (let i = 1; i <= 50; i++) subject.deliver(execution(i, 'g'));
    expect(closed).toEqual([subject]);
    expect(sink.events()).toEqual(['overflow']);
  });

  it('stops writing once the connection is gone and reports itself closed once', () => {
    const { sink, subject, closed } = client({});
    subject.disconnected();
    subject.disconnected();
    subject.end();
    subject.deliver(execution(1, 'g'));
    expect(sink.written).toEqual([]);
    expect(sink.ended).toBe(false);
    expect(closed).toHaveLength(1);
  });
});
