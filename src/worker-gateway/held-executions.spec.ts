import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Assignment,
  ExecutionRecord,
  ExecutionStatus,
  executionId,
  executionKeyOf,
  Keyspace,
  scheduledExecKey,
} from '@forest/protocol';
import { CoordinationStore, EmbeddedStore, TxnRequest } from '@forest/store';
import { AssignmentMirror } from '../assignments/assignment-mirror';
import { startInbox } from '../../test/support/inbox-rig';
import { AssignmentInbox } from './assignment-inbox.service';
import { heldAbortNotices, InboxLookup } from './held-executions';

const G = 'g';
const W = 'w1';

const idOf = (n: number) => executionId('job', scheduledExecKey(n));

function record(n: number, status: ExecutionStatus, extra: Partial<ExecutionRecord> = {}) {
  const value = {
    id: idOf(n),
    jobId: 'job',
    jobName: 'job',
    group: G,
    target: 't',
    params: null,
    trigger: 'schedule',
    status,
    attempt: 1,
    scheduledMs: n,
    scheduledAt: new Date(n).toISOString(),
    timeoutMs: 0,
    timeline: [],
    ...extra,
  };
  return value as unknown as ExecutionRecord;
}

function assignment(n: number, workerId = W): Assignment {
  return {
    executionId: idOf(n),
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
    workerId,
    assignedAt: new Date().toISOString(),
    state: 'assigned',
  };
}

/** An execution assigned to `workerId`: its record and its inbox key, in one txn. */
async function assigned(store: CoordinationStore, n: number, workerId = W): Promise<string> {
  await store.txn({
    compare: [],
    success: [
      {
        type: 'put',
        key: executionKeyOf(idOf(n))!,
        value: JSON.stringify(record(n, 'assigned', { worker: workerId })),
      },
      {
        type: 'put',
        key: Keyspace.assignment(G, workerId, idOf(n)),
        value: JSON.stringify(assignment(n, workerId)),
      },
    ],
  });
  return idOf(n);
}

/** What the leader does when it ends or moves an execution: new record, inbox key gone. */
async function taken(store: CoordinationStore, n: number, next: ExecutionRecord): Promise<string> {
  await store.txn({
    compare: [],
    success: [
      { type: 'put', key: executionKeyOf(idOf(n))!, value: JSON.stringify(next) },
      { type: 'delete', key: Keyspace.assignment(G, W, idOf(n)) },
      ...(next.worker && next.worker !== W && next.status === 'assigned'
        ? [
            {
              type: 'put' as const,
              key: Keyspace.assignment(G, next.worker, idOf(n)),
              value: JSON.stringify(assignment(n, next.worker)),
            },
          ]
        : []),
    ],
  });
  return idOf(n);
}

describe('heldAbortNotices', () => {
  let dataDir: string;
  let store: EmbeddedStore;
  let counting: CoordinationStore;
  let txns: TxnRequest[];
  let inbox: AssignmentInbox | undefined;
  let mirror: AssignmentMirror | undefined;

  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'forest-held-'));
    store = await EmbeddedStore.open({ dataDir });
    txns = [];
    counting = new Proxy(store, {
      get: (target, name) => {
        const value: unknown = Reflect.get(target, name);
        if (name === 'txn') {
          return (request: TxnRequest) => {
            txns.push(request);
            return target.txn(request);
          };
        }
        return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
      },
    });
  });

  afterEach(async () => {
    inbox?.onModuleDestroy();
    await mirror?.onModuleDestroy();
    inbox = undefined;
    mirror = undefined;
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const notSynced: InboxLookup = () => undefined;
  const check = (held: string[], lookup: InboxLookup = notSynced) =>
    heldAbortNotices(counting, G, W, held, lookup);

  it('keeps what the synced mirror holds without reading the store, thousands at a time', async () => {
    await assigned(store, 1);
    ({ inbox, mirror } = await startInbox(store));
    const held = Array.from({ length: 5000 }, (_, i) => idOf(i + 1));
    const synced = new Set(held);
    expect(await check(held, (id) => synced.has(id))).toEqual([]);
    expect(txns).toEqual([]);
    // The real mirror: it has the key, so it is kept without a read.
    expect(inbox.holds(G, W, idOf(1))).toBe(true);
    expect(inbox.holds(G, W, idOf(2))).toBe(false);
    expect(inbox.holds(G, 'other', idOf(1))).toBe(false);
    expect(await check([idOf(1)], (id) => inbox!.holds(G, W, id))).toEqual([]);
    expect(txns).toEqual([]);
  });

  it('confirms a mirror miss with the store before aborting: a key the mirror lags behind is kept', async () => {
    const fresh = await assigned(store, 1); // written, not yet seen by the mirror
    const cancelled = await assigned(store, 2);
    await taken(
      store,
      2,
      record(2, 'cancelled', {
        worker: W,
        error: 'cancelled through the API on node n1: stop it\nmore detail',
        cancelledBy: { kind: 'api', node: 'n1', reason: 'stop it' },
      }),
    );
    const notices = await check([fresh, cancelled], () => false);
    expect(notices).toEqual([
      {
        executionId: cancelled,
        status: 'cancelled',
        reason: 'cancelled through the API on node n1: stop it',
      },
    ]);
    // One batched read of the assignment keys, one of the records of the absent ones.
    expect(txns).toHaveLength(2);
    expect(txns[0].success.map((op) => ('key' in op ? op.key : op.type))).toEqual([
      Keyspace.assignment(G, W, fresh),
      Keyspace.assignment(G, W, cancelled),
    ]);
    expect(txns[1].success.map((op) => ('key' in op ? op.key : op.type))).toEqual([
      executionKeyOf(cancelled),
    ]);
  });

  it('reads every held id when the mirror is not in sync, and names what became of each', async () => {
    const kept = await assigned(store, 1);
    const timedOut = await assigned(store, 2);
    await taken(
      store,
      2,
      record(2, 'timed_out', { worker: W, error: 'execution passed its time limit of 5000ms' }),
    );
    const movedToOther = await assigned(store, 3);
    await taken(store, 3, record(3, 'assigned', { worker: 'w2' }));
    const backToPending = await assigned(store, 4);
    await taken(store, 4, record(4, 'pending', { worker: W }));
    const lost = await assigned(store, 5);
    await taken(store, 5, record(5, 'lost', { worker: W }));
    const missing = idOf(6);

    const notices = await check([kept, timedOut, movedToOther, backToPending, lost, missing, kept]);
    expect(notices).toEqual([
      {
        executionId: timedOut,
        status: 'timed_out',
        reason: 'execution passed its time limit of 5000ms',
      },
      { executionId: movedToOther, status: 'moved', reason: 'assigned to worker w2 now' },
      {
        executionId: backToPending,
        status: 'moved',
        reason: `taken back from worker ${W}; waiting for a worker again`,
      },
      { executionId: lost, status: 'lost', reason: 'the execution is lost' },
      { executionId: missing, status: 'not_found', reason: 'no such execution' },
    ]);
    expect(txns).toHaveLength(2);
    expect(txns[0].success).toHaveLength(6); // duplicates read once
  });

  it('does not abort an execution whose record says it is this worker’s again', async () => {
    // The assignment read saw no key, the record read (later) says assigned to W: a
    // re-assignment between the two reads. Not aborted; the next heartbeat looks again.
    await store.put(executionKeyOf(idOf(1))!, JSON.stringify(record(1, 'assigned', { worker: W })));
    expect(await check([idOf(1)], () => false)).toEqual([]);
  });

  it('reads nothing for an empty list', async () => {
    expect(await check([])).toEqual([]);
    expect(txns).toEqual([]);
  });
});
