import {
  ExecutionRecord,
  ExecutionStatus,
  executionId,
  Keyspace,
  scheduledExecKey,
} from '@forest/protocol';
import { CoordinationStore, rangeAll, TxnOp } from '@forest/store';
import {
  isFinal,
  newExecution,
  pendingEntry,
  transition,
} from '../../src/execution/execution-record';
import { ExecutionHistory, historySortKey } from '../../src/history/history.port';
import { EXECUTION_HISTORY } from '../../src/history/history.tokens';
import { COORDINATION_STORE } from '../../src/store/store.tokens';
import { startTestApp, TestApp } from '../support/app-harness';
import { waitFor } from '../support/wait';

const NODE = 'test-node';
const HOUR = 3_600_000;

/** An execution of `jobId` keyed `minutesAgo` minutes back, moved to `status`. */
function execution(
  jobId: string,
  minutesAgo: number,
  status: ExecutionStatus,
  finishedHoursAgo = 0,
): ExecutionRecord {
  const now = Date.now();
  const scheduledMs = now - minutesAgo * 60_000 - finishedHoursAgo * HOUR;
  const record = newExecution(
    {
      id: executionId(jobId, scheduledExecKey(scheduledMs)),
      jobId,
      jobName: jobId,
      group: 'g',
      target: 't',
      params: null,
      trigger: 'schedule',
      attempt: 1,
      scheduledMs,
      catchUp: false,
      firedBy: { node: NODE, token: 1 },
      timeoutMs: 0,
    },
    scheduledMs,
    NODE,
  );
  if (status === 'pending') return record;
  const assigned = transition(record, 'assigned', scheduledMs + 1, NODE, { worker: 'w' });
  if (status === 'assigned') return assigned;
  const running = transition(assigned, 'running', scheduledMs + 2, NODE);
  if (status === 'running') return running;
  return transition(running, status, now - finishedHoursAgo * HOUR, NODE);
}

/**
 * Finished records go where the mover puts them (the history), the others where the
 * writers keep live executions (`executions/`, with a pending entry when pending).
 */
async function seed(
  store: CoordinationStore,
  history: ExecutionHistory,
  records: ExecutionRecord[],
): Promise<void> {
  await history.append(records.filter((record) => isFinal(record.status)));
  const live = records.filter((record) => !isFinal(record.status));
  for (let i = 0; i < live.length; i += 50) {
    const success: TxnOp[] = live.slice(i, i + 50).flatMap((record) => {
      const execKey = record.id.slice(record.jobId.length + 1);
      const ops: TxnOp[] = [
        {
          type: 'put',
          key: Keyspace.execution(record.jobId, execKey),
          value: JSON.stringify(record),
        },
      ];
      if (record.status === 'pending') {
        ops.push({
          type: 'put',
          key: Keyspace.pendingExecution(record.group, record.id),
          value: JSON.stringify(pendingEntry(record, record.firedAt)),
        });
      }
      return ops;
    });
    await store.txn({ compare: [], success });
  }
}

/** The job's executions, live and finished, oldest first (key order). */
async function idsOf(
  store: CoordinationStore,
  history: ExecutionHistory,
  jobId: string,
): Promise<string[]> {
  const live = (await rangeAll(store, Keyspace.jobExecutions(jobId))).map(
    (kv) => JSON.parse(kv.value) as ExecutionRecord,
  );
  const finished = (await history.list({ jobId, limit: 500, order: 'asc' })).items;
  return [...live, ...finished]
    .sort((x, y) => (historySortKey(x.id) < historySortKey(y.id) ? -1 : 1))
    .map((record) => record.id);
}

describe('history retention on the leader (history in the store)', () => {
  let subject: TestApp;
  let store: CoordinationStore;
  let history: ExecutionHistory;

  beforeAll(async () => {
    subject = await startTestApp({
      store: 'embedded',
      env: {
        FOREST_EXECUTION_KEEP_PER_JOB: '3',
        FOREST_EXECUTION_MAX_AGE_H: '1',
        FOREST_RETENTION_INTERVAL_S: '1',
      },
    });
    store = subject.app.get(COORDINATION_STORE);
    history = subject.app.get(EXECUTION_HISTORY);
  });

  afterAll(async () => {
    await subject?.close();
  });

  it('keeps the newest finished executions per job, drops old ones, never touches active ones', async () => {
    // Job "a": 8 finished, with unfinished ones among the oldest and the newest.
    const a = [
      execution('a', 100, 'pending'),
      execution('a', 90, 'succeeded'),
      execution('a', 80, 'assigned'),
      execution('a', 70, 'failed'),
      execution('a', 60, 'running'),
      execution('a', 50, 'timed_out'),
      execution('a', 40, 'succeeded'),
      execution('a', 30, 'cancelled'),
      execution('a', 20, 'lost'),
      execution('a', 10, 'skipped'),
      execution('a', 5, 'succeeded'),
      execution('a', 1, 'pending'),
    ];
    // Job "a.b" (its keys sort before "a/"): under the cap, one finished over an hour ago.
    // No job record exists for it: history of deleted jobs ages out too.
    const ab = [
      execution('a.b', 30, 'succeeded', 2),
      execution('a.b', 20, 'running', 2),
      execution('a.b', 10, 'failed'),
    ];
    // Job "a0" (sorts after "a/"): 250 finished, so deletes span several txns of <= 100.
    const a0 = Array.from({ length: 250 }, (_, i) => execution('a0', 300 - i, 'succeeded'));
    await seed(store, history, [...a, ...ab, ...a0]);

    const expectedA = [a[0], a[2], a[4], a[8], a[9], a[10], a[11]].map((r) => r.id);
    const expectedAb = [ab[1], ab[2]].map((r) => r.id);
    const expectedA0 = a0.slice(-3).map((r) => r.id);
    const settled = await waitFor(
      async () => ({
        a: await idsOf(store, history, 'a'),
        ab: await idsOf(store, history, 'a.b'),
        a0: await idsOf(store, history, 'a0'),
      }),
      (state) => state.a0.length === 3 && state.a.length === 7 && state.ab.length === 2,
      15_000,
    );
    expect(settled).toEqual({ a: expectedA, ab: expectedAb, a0: expectedA0 });
    // Pending entries stay with their pending executions.
    const pendingKeys = (await rangeAll(store, Keyspace.pending)).map((kv) => kv.key);
    expect(pendingKeys.sort()).toEqual(
      [a[0], a[11]].map((r) => Keyspace.pendingExecution('g', r.id)).sort(),
    );

    // New finished executions are trimmed on the next passes too.
    const newer = [execution('a', 0.5, 'succeeded'), execution('a', 0.2, 'failed')];
    await seed(store, history, newer);
    const after = await waitFor(
      () => idsOf(store, history, 'a'),
      (ids) => !ids.includes(a[9].id),
      15_000,
    );
    expect(after).toEqual([
      a[0].id,
      a[2].id,
      a[4].id,
      a[10].id,
      a[11].id,
      ...newer.map((r) => r.id),
    ]);
  });
});
