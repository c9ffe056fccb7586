import {
  ExecutionRecord,
  ExecutionStatus,
  executionId,
  Keyspace,
  scheduledExecKey,
} from '@forest/protocol';
import { CoordinationStore, rangeAll, TxnOp } from '@forest/store';
import { newExecution, pendingEntry, transition } from '../../src/execution/execution-record';
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

async function seed(store: CoordinationStore, records: ExecutionRecord[]): Promise<void> {
  for (let i = 0; i < records.length; i += 50) {
    const success: TxnOp[] = records.slice(i, i + 50).flatMap((record) => {
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

async function idsOf(store: CoordinationStore, jobId: string): Promise<string[]> {
  return (await rangeAll(store, Keyspace.jobExecutions(jobId))).map(
    (kv) => (JSON.parse(kv.value) as ExecutionRecord).id,
  );
}

describe('execution retention on the leader', () => {
  let subject: TestApp;
  let store: CoordinationStore;

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
    await seed(store, [...a, ...ab, ...a0]);

    const expectedA = [a[0], a[2], a[4], a[8], a[9], a[10], a[11]].map((r) => r.id);
    const expectedAb = [ab[1], ab[2]].map((r) => r.id);
    const expectedA0 = a0.slice(-3).map((r) => r.id);
    const settled = await waitFor(
      async () => ({
        a: await idsOf(store, 'a'),
        ab: await idsOf(store, 'a.b'),
        a0: await idsOf(store, 'a0'),
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
    await seed(store, newer);
    const after = await waitFor(
      () => idsOf(store, 'a'),
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
