/* Helpers for the dispatch unit specs: a real embedded store in a temp dir, a leader over it. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Assignment,
  ExecutionRecord,
  executionId,
  executionKeyOf,
  Keyspace,
  PendingEntry,
  scheduledExecKey,
  WorkerRecord,
} from '@forest/protocol';
import { DispatchContext, DispatchDecision, ForestDispatchStrategy } from '@forest/plugin-api';
import { EmbeddedStore, TxnRequest, TxnResult } from '@forest/store';
import { Subject } from 'rxjs';
import { ForestConfig } from '../../src/config/forest.config';
import { NotLeaderError } from '../../src/election/election.errors';
import { LeadershipEvent } from '../../src/election/leadership.events';
import { LeadershipService } from '../../src/election/leadership.service';
import { assignmentOf, newExecution, pendingEntry } from '../../src/execution/execution-record';
import { DispatchStrategies } from '../../src/plugins/dispatch-strategies.service';
import { PluginRegistry } from '../../src/plugins/plugin-registry';
import { AssignmentMirror } from '../../src/assignments/assignment-mirror';

export const NODE = 'n1';
export const GROUP = 'g';

export const testConfig = (overrides: Partial<ForestConfig> = {}): ForestConfig =>
  ({ nodeId: NODE, pluginTimeoutMs: 1000, alertNoWorkerMs: 60_000, ...overrides }) as ForestConfig;

/** An embedded store in a fresh temp dir; `close()` closes it and removes the dir. */
/**
 * An embedded store in a temp dir, with the node's mirror of `assignments/` on it (which
 * DispatchState follows), loaded and watching.
 */
export async function openStore(): Promise<{
  store: EmbeddedStore;
  mirror: AssignmentMirror;
  close: () => Promise<void>;
}> {
  const dataDir = mkdtempSync(join(tmpdir(), 'forest-dispatch-'));
  const store = await EmbeddedStore.open({ dataDir });
  const mirror = new AssignmentMirror(store);
  await mirror.onApplicationBootstrap();
  return {
    store,
    mirror,
    close: async () => {
      await mirror.onModuleDestroy();
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * LeadershipService as the dispatch units use it: `fencedTxn` is `store.txn` (each request
 * recorded); `demote()` makes it refuse with NotLeaderError, as a deposed leader's would.
 */
export class FakeLeadership {
  readonly events = new Subject<LeadershipEvent>();
  readonly txns: TxnRequest[] = [];
  isLeader = true;
  /** Runs before each txn is committed (to race it). */
  beforeTxn?: () => Promise<void>;

  constructor(private readonly store: EmbeddedStore) {}

  get events$() {
    return this.events.asObservable();
  }

  fencedTxn = async (request: TxnRequest): Promise<TxnResult> => {
    this.txns.push(request);
    if (!this.isLeader) throw new NotLeaderError(NODE);
    const before = this.beforeTxn;
    this.beforeTxn = undefined;
    await before?.();
    return this.store.txn(request);
  };

  demote(): void {
    this.isLeader = false;
  }

  asService(): LeadershipService {
    return this as unknown as LeadershipService;
  }
}

/** The real DispatchStrategies over one strategy, `round-robin` (the default name). */
export function strategiesOf(
  select: (context: DispatchContext) => DispatchDecision | Promise<DispatchDecision>,
): DispatchStrategies {
  const strategy: ForestDispatchStrategy = { select };
  const registry = {
    strategy: (name: string) =>
      name === 'round-robin'
        ? { name, kind: 'dispatch-strategy', instance: strategy, plugin: undefined }
        : undefined,
    strategyNames: () => ['round-robin'],
  } as unknown as PluginRegistry;
  return new DispatchStrategies(registry, testConfig());
}

export function workerRecord(
  id: string,
  overrides: Partial<WorkerRecord> = {},
  group = GROUP,
): WorkerRecord {
  return {
    id,
    group,
    targets: ['t'],
    capacity: 2,
    host: 'h',
    pid: 1,
    labels: {},
    registeredAt: '2026-01-01T00:00:00.000Z',
    node: NODE,
    lease: '1',
    ...overrides,
  };
}

export async function putWorker(store: EmbeddedStore, record: WorkerRecord): Promise<void> {
  await store.put(Keyspace.worker(record.group, record.id), JSON.stringify(record));
}

/** A pending execution n of job `job` (record + pending entry); returns the record. */
export async function putPending(
  store: EmbeddedStore,
  n: number,
  entry: Partial<PendingEntry> = {},
  group = GROUP,
): Promise<ExecutionRecord> {
  const record = newExecution(
    {
      id: executionId('job', scheduledExecKey(n)),
      jobId: 'job',
      jobName: 'job',
      group,
      target: 't',
      params: null,
      trigger: 'schedule',
      attempt: 1,
      scheduledMs: n,
      catchUp: false,
      firedBy: { node: NODE, token: 1 },
      timeoutMs: 0,
      dispatch: { strategy: 'round-robin', options: {} },
    },
    Date.now(),
    NODE,
  );
  await store.put(executionKeyOf(record.id)!, JSON.stringify(record));
  await store.put(
    Keyspace.pendingExecution(group, record.id),
    JSON.stringify({ ...pendingEntry(record, new Date().toISOString()), ...entry }),
  );
  return record;
}

/** Writes `record` as assigned to `workerId`, with its assignment in `state`. */
export async function putAssigned(
  store: EmbeddedStore,
  record: ExecutionRecord,
  workerId: string,
  state: Assignment['state'] = 'assigned',
): Promise<void> {
  const assignment = { ...assignmentOf(record, workerId, new Date().toISOString()), state };
  await store.put(executionKeyOf(record.id)!, JSON.stringify(record));
  await store.put(
    Keyspace.assignment(record.group, workerId, record.id),
    JSON.stringify(assignment),
  );
}

export async function readRecord(
  store: EmbeddedStore,
  id: string,
): Promise<ExecutionRecord | undefined> {
  const kv = await store.get(executionKeyOf(id)!);
  return kv && (JSON.parse(kv.value) as ExecutionRecord);
}

export async function keysUnder(store: EmbeddedStore, prefix: string): Promise<string[]> {
  return (await store.range(prefix)).kvs.map((kv) => kv.key);
}

/** Polls until `check` holds (or throws with `what` after `timeoutMs`). */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 3000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
