import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Assignment, Keyspace } from '@forest/protocol';
import { CoordinationStore, EmbeddedStore, RangeOptions, RangeResult } from '@forest/store';
import { AssignmentMirror } from '../assignments/assignment-mirror';
import { liveWorkers, startInbox } from '../../test/support/inbox-rig';
import { AssignmentInbox } from './assignment-inbox.service';

const G = 'g';
const W = 'w1';

function assignment(n: number, state: Assignment['state'] = 'assigned'): Assignment {
  const executionId = `job~${String(n).padStart(15, '0')}`;
  return {
    executionId,
    jobId: 'job',
    jobName: 'job',
    group: G,
    target: 't',
    params: null,
    trigger: 'schedule',
    attempt: 1,
    scheduledMs: n,
    scheduledAt: new Date(n).toISOString(),
    timeoutMs: 0,
    workerId: W,
    assignedAt: new Date().toISOString(),
    state,
  };
}

const keyOf = (n: number) => Keyspace.assignment(G, W, assignment(n).executionId);
const put = (store: CoordinationStore, n: number, state: Assignment['state'] = 'assigned') =>
  store.put(keyOf(n), JSON.stringify(assignment(n, state)));

/** Writes assignments 0..count-1 in txns of 100. */
async function putMany(store: CoordinationStore, count: number): Promise<void> {
  for (let from = 0; from < count; from += 100) {
    const success = Array.from({ length: Math.min(100, count - from) }, (_, i) => ({
      type: 'put' as const,
      key: keyOf(from + i),
      value: JSON.stringify(assignment(from + i)),
    }));
    await store.txn({ compare: [], success });
  }
}

const ids = (list: Assignment[]) => list.map((a) => a.scheduledMs);

describe('AssignmentInbox', () => {
  let dataDir: string;
  let store: EmbeddedStore;
  let inbox: AssignmentInbox | undefined;
  let mirror: AssignmentMirror | undefined;

  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'forest-inbox-'));
    store = await EmbeddedStore.open({ dataDir });
  });

  afterEach(async () => {
    inbox?.onModuleDestroy();
    await mirror?.onModuleDestroy();
    inbox = undefined;
    mirror = undefined;
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function start(over: CoordinationStore = store): Promise<AssignmentInbox> {
    ({ inbox, mirror } = await startInbox(over));
    return inbox;
  }

  const poll = (after: number, waitMs = 0, max = 1000) =>
    inbox!.poll({ group: G, workerId: W, after, waitMs, max });

  it('answers from what it loaded and what it watched since, and wakes a waiting poll', async () => {
    await put(store, 1);
    await start();
    const first = await poll(0);
    expect(ids(first.assignments)).toEqual([1]);

    const started = Date.now();
    const waiting = poll(first.revision, 5000);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await put(store, 2);
    const second = await waiting;
    expect(ids(second.assignments)).toEqual([2]);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(second.revision).toBeGreaterThan(first.revision);
  });

  it('leaves out assignments reported running and those that are gone; a full wait redelivers the rest', async () => {
    await start();
    await put(store, 1);
    await put(store, 2);
    await put(store, 3);
    const { revision } = await poll(0);
    await put(store, 1, 'running');
    await store.delete(keyOf(2));
    const again = await poll(revision + 1000, 200);
    expect(ids(again.assignments)).toEqual([3]);
  });

  it('delivers an inbox of more than 1,000 assignments, `max` at a time, the rest at once', async () => {
    await start();
    await putMany(store, 1500);
    const seen: number[] = [];
    let after = 0;
    // (A poll waits only while nothing is new: the watch may still be delivering the writes.)
    for (let round = 0; round < 6 && seen.length < 1500; round++) {
      const answer = await poll(after, 2000, 600);
      expect(answer.assignments.length).toBeLessThanOrEqual(600);
      seen.push(...ids(answer.assignments));
      after = answer.revision;
    }
    expect(new Set(seen).size).toBe(1500);
    // Nothing is new any more: the next poll waits its time, then redelivers them all.
    const waitedFrom = Date.now();
    expect((await poll(after, 200, 2000)).assignments.length).toBe(1500);
    expect(Date.now() - waitedFrom).toBeGreaterThanOrEqual(190);
  });

  it('leaves out values that do not decode or name another inbox, mirrored or read from the store', async () => {
    await put(store, 1);
    await put(store, 2, 'running');
    await store.put(Keyspace.assignment(G, W, 'job~bad'), 'not json');
    await store.put(keyOf(3), JSON.stringify({ ...assignment(3), workerId: 'w2' }));

    await start();
    expect(ids((await poll(0)).assignments)).toEqual([1]);
    expect(await inbox!.load(G, W)).toEqual({ assigned: 1, running: 1 });

    // A mirror not in sync: the inbox reads the store, and skips the bad value there too.
    const unsynced = new AssignmentMirror(store);
    const reading = new AssignmentInbox(store, liveWorkers, unsynced);
    reading.onModuleInit();
    try {
      expect(await reading.load(G, W)).toEqual({ assigned: 1, running: 1 });
      const answer = await reading.poll({ group: G, workerId: W, after: 0, waitMs: 0, max: 10 });
      expect(ids(answer.assignments)).toEqual([1]);
    } finally {
      reading.onModuleDestroy();
      await unsynced.onModuleDestroy();
    }
  });

  it('ends up exact when the inbox changes while it is loaded page by page', async () => {
    await putMany(store, 300); // two load pages: 0..255 and 256..299
    let pages = 0;
    const range = async (prefix: string, options?: RangeOptions): Promise<RangeResult> => {
      const page = await store.range(prefix, options);
      if (prefix === Keyspace.assignments && ++pages === 1) {
        // After the first page was read: a change to a key it holds, one to a key of the
        // second page, a key of the second page gone, and a new one.
        await put(store, 10, 'running');
        await put(store, 270, 'running');
        await store.delete(keyOf(280));
        await put(store, 400);
      }
      return page;
    };
    const racing = new Proxy(store, {
      get: (target, name) => {
        if (name === 'range') return range;
        const value: unknown = Reflect.get(target, name);
        return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
      },
    });
    await start(racing);
    expect(pages).toBeGreaterThanOrEqual(2);
    await new Promise((resolve) => setTimeout(resolve, 100)); // the watch replays
    const expected = [...Array.from({ length: 300 }, (_, n) => n), 400].filter(
      (n) => ![10, 270, 280].includes(n),
    );
    expect(ids((await poll(0)).assignments).sort((a, b) => a - b)).toEqual(expected);
  });
});
