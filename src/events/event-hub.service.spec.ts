import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExecutionRecord, Keyspace, WorkerRecord } from '@forest/protocol';
import { CoordinationStore, EmbeddedStore } from '@forest/store';
import { ForestConfig } from '../config/forest.config';
import { ClientFilter, EventClient, EventSink } from './event-client';
import { EventHub } from './event-hub.service';
import { TooManyStreamsError } from './events.errors';

/** A connection that takes everything at once; keeps what it got, parsed. */
class Received implements EventSink {
  readonly texts: string[] = [];
  ended = false;
  readonly queuedBytes = 0;
  write(text: string): void {
    this.texts.push(text);
  }
  end(): void {
    this.ended = true;
  }
  events(type?: string): { id?: number; event: string; data: Record<string, unknown> }[] {
    return this.texts
      .filter((text) => text.includes('event: '))
      .map((text) => ({
        id: /^id: (\d+)$/m.exec(text) ? Number(/^id: (\d+)$/m.exec(text)![1]) : undefined,
        event: /^event: (\w+)$/m.exec(text)![1],
        data: JSON.parse(/^data: (.*)$/m.exec(text)![1]) as Record<string, unknown>,
      }))
      .filter((e) => type === undefined || e.event === type);
  }
}

/** The embedded store, counting the watches open on it. */
function counted(inner: EmbeddedStore): { store: CoordinationStore; open: () => number } {
  let open = 0;
  const store = new Proxy(inner, {
    get(target, property, receiver) {
      if (property !== 'watch') return Reflect.get(target, property, receiver) as unknown;
      return async (...args: Parameters<CoordinationStore['watch']>) => {
        const watch = await target.watch(...args);
        open++;
        let cancelled = false;
        return {
          get lastRevision() {
            return watch.lastRevision;
          },
          cancel: async () => {
            if (!cancelled) open--;
            cancelled = true;
            await watch.cancel();
          },
        };
      };
    },
  });
  return { store, open: () => open };
}

function execution(jobId: string, n: number, group: string, status = 'running'): ExecutionRecord {
  const execKey = String(n).padStart(15, '0');
  return {
    id: `${jobId}~${execKey}`,
    jobId,
    jobName: `${jobId} name`,
    group,
    target: 't',
    params: { secret: 'never in the stream' },
    output: 'never in the stream',
    trigger: 'schedule',
    status,
    attempt: 1,
    scheduledMs: n,
    scheduledAt: new Date(n).toISOString(),
    firedAt: new Date(n).toISOString(),
    catchUp: false,
    firedBy: { node: 'n', token: 1 },
    timeoutMs: 0,
    timeline: [],
  } as ExecutionRecord;
}

const putExecution = (store: CoordinationStore, record: ExecutionRecord) =>
  store.put(Keyspace.execution(record.jobId, record.id.split('~')[1]), JSON.stringify(record));

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('EventHub on the embedded store', () => {
  let dataDir: string;
  let inner: EmbeddedStore;
  let store: CoordinationStore;
  let openWatches: () => number;
  let hub: EventHub;

  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'forest-events-'));
    inner = await EmbeddedStore.open({ dataDir, historyRevisions: 50 });
    ({ store, open: openWatches } = counted(inner));
    hub = new EventHub(store, { eventsMaxStreams: 3 } as ForestConfig);
  });

  afterEach(async () => {
    await hub.onModuleDestroy();
    await inner.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const subscribe = async (filter: Partial<ClientFilter> = {}, resumeAfter?: number) => {
    const sink = new Received();
    const client = await hub.open(
      { types: ['execution', 'node', 'worker'], ...filter },
      sink,
      resumeAfter,
    );
    return { sink, client };
  };

  it('opens no watch until a client subscribes, one per prefix it needs, and closes them with the last client', async () => {
    await putExecution(store, execution('j', 1, 'g'));
    expect(openWatches()).toBe(0);
    const a = await subscribe({ types: ['execution'] });
    // Execution records and the inbox entries (a start rewrites only the entry).
    expect(openWatches()).toBe(2);
    expect(hub.openFeeds()).toEqual(['execution']);
    const b = await subscribe({ types: ['execution', 'worker'] });
    // The execution watches are shared; the workers watch opens for the second client.
    expect(openWatches()).toBe(3);
    a.client.disconnected();
    expect(openWatches()).toBe(3);
    b.client.disconnected();
    await tick();
    expect(openWatches()).toBe(0);
    expect(hub.openFeeds()).toEqual([]);
    expect(hub.streamCount).toBe(0);
  });

  it('fans one watch out to every client, as summaries, and ignores deletes of executions', async () => {
    const a = await subscribe();
    const b = await subscribe({ group: 'g2' });
    await putExecution(store, execution('j', 1, 'g1'));
    await putExecution(store, execution('k', 2, 'g2'));
    await putExecution(store, execution('k', 2, 'g2', 'succeeded'));
    await store.delete(Keyspace.execution('k', String(2).padStart(15, '0')));
    await tick();
    expect(a.sink.events('execution').map((e) => [e.data.jobId, e.data.status])).toEqual([
      ['j', 'running'],
      ['k', 'running'],
      ['k', 'succeeded'],
    ]);
    expect(b.sink.events('execution').map((e) => e.data.status)).toEqual(['running', 'succeeded']);
    const [first] = a.sink.events('execution');
    expect(first.data).toEqual({
      id: `j~${String(1).padStart(15, '0')}`,
      jobId: 'j',
      jobName: 'j name',
      group: 'g1',
      status: 'running',
      trigger: 'schedule',
      attempt: 1,
      scheduledAt: new Date(1).toISOString(),
    });
    expect(first.id).toBeGreaterThan(0);
  });

  it('tells workers registering and leaving, with what left', async () => {
    const a = await subscribe({ types: ['worker'] });
    const record: WorkerRecord = {
      id: 'w-1',
      group: 'g',
      targets: ['t'],
      capacity: 4,
      host: 'h1',
      pid: 1,
      labels: { zone: 'a' },
      registeredAt: new Date().toISOString(),
      node: 'n',
      lease: '1',
    };
    await store.put(Keyspace.worker('g', 'w-1'), JSON.stringify(record));
    await store.put(Keyspace.worker('g', 'w-1'), JSON.stringify({ ...record, leavingAt: 'x' }));
    await store.delete(Keyspace.worker('g', 'w-1'));
    await tick();
    expect(a.sink.events('worker').map((e) => e.data)).toEqual([
      {
        change: 'registered',
        group: 'g',
        workerId: 'w-1',
        host: 'h1',
        capacity: 4,
        labels: { zone: 'a' },
      },
      {
        change: 'left',
        group: 'g',
        workerId: 'w-1',
        host: 'h1',
        capacity: 4,
        labels: { zone: 'a' },
      },
    ]);
  });

  it('tells nodes joining and leaving and the leader changing', async () => {
    const node = (id: string) =>
      JSON.stringify({ id, address: `http://${id}`, version: '1.2.3', startedAt: 'T' });
    await store.put(Keyspace.node('n1'), node('n1'));
    await store.put(Keyspace.candidate('n1'), 'n1');
    const a = await subscribe({ types: ['node'] });
    await store.put(Keyspace.node('n2'), node('n2'));
    await store.put(Keyspace.candidate('n2'), 'n2');
    await store.delete(Keyspace.candidate('n1'));
    await store.delete(Keyspace.node('n1'));
    await tick();
    expect(a.sink.events('node').map((e) => e.data)).toEqual([
      { change: 'joined', nodeId: 'n2', leader: false, version: '1.2.3', startedAt: 'T' },
      { change: 'leader', nodeId: 'n2', leader: true, version: '1.2.3', startedAt: 'T' },
      { change: 'left', nodeId: 'n1', leader: false, version: '1.2.3', startedAt: 'T' },
    ]);
  });

  it('resumes after Last-Event-ID: from the store when it opens the feed, from the feed when it is open', async () => {
    const first = await putExecution(store, execution('j', 1, 'g'));
    await putExecution(store, execution('j', 2, 'g'));
    await putExecution(store, execution('j', 3, 'g'));
    // No client yet: the feed opens at the resume point, from the store's history.
    const a = await subscribe({ types: ['execution'] }, first.revision);
    await tick();
    expect(a.sink.events().map((e) => e.data.scheduledAt)).toEqual([
      new Date(2).toISOString(),
      new Date(3).toISOString(),
    ]);
    const [second] = a.sink.events();
    // A second client resuming while the feed is open gets the missed events from the feed.
    const b = await subscribe({ types: ['execution'] }, second.id);
    await putExecution(store, execution('j', 4, 'g'));
    await tick();
    expect(b.sink.events().map((e) => e.data.scheduledAt)).toEqual([
      new Date(3).toISOString(),
      new Date(4).toISOString(),
    ]);
  });

  it('starts with `reset` when the resume point is no longer in the store', async () => {
    const first = await putExecution(store, execution('j', 1, 'g'));
    for (let n = 2; n < 80; n++) await putExecution(store, execution('j', n, 'g'));
    const a = await subscribe({ types: ['execution'] }, first.revision);
    await putExecution(store, execution('j', 100, 'g'));
    await tick();
    expect(a.sink.events().map((e) => e.event)).toEqual(['reset', 'execution']);
    // And when the open feed started after the resume point.
    const b = await subscribe({ types: ['execution'] }, first.revision);
    expect(b.sink.events().map((e) => e.event)).toEqual(['reset']);
  });

  it('refuses streams beyond FOREST_EVENTS_MAX_STREAMS until one closes', async () => {
    const clients: EventClient[] = [];
    for (let i = 0; i < 3; i++) clients.push((await subscribe()).client);
    await expect(subscribe()).rejects.toBeInstanceOf(TooManyStreamsError);
    clients[0].disconnected();
    await expect(subscribe()).resolves.toBeDefined();
  });

  it('ends every stream and closes every watch when the node stops', async () => {
    const a = await subscribe();
    const b = await subscribe({ types: ['node'] });
    expect(openWatches()).toBe(5);
    await hub.onModuleDestroy();
    expect(a.sink.ended && b.sink.ended).toBe(true);
    expect(openWatches()).toBe(0);
    await expect(subscribe()).rejects.toThrow('closed');
  });

  it('writes a heartbeat comment to every client', async () => {
    const a = await subscribe();
    hub.heartbeat();
    expect(a.sink.texts.at(-1)).toBe(': heartbeat\n\n');
  });
});
