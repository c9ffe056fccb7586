/* Helpers for the planner's unit tests: an in-memory txn store and a leader's plan on a fake clock. */
import { JobRecord, JobStateRecord } from '@forest/protocol';
import { KeyValue, TxnOpResult, TxnRequest, TxnResult } from '@forest/store';
import { FakeClock } from './fake-clock';
import { FireLoop, FireLoopOptions } from '../../src/planner/fire-loop';
import { FirePlacement } from '../../src/dispatch/fire-placement';
import { FireWriter } from '../../src/planner/fire-writer';
import { Plan } from '../../src/planner/plan';

/**
 * The part of the store the FireWriter uses (txns with createRevision compares), in
 * memory and answering at once, so tests with a fake clock need no real I/O. `failWith`
 * makes every txn fail; `applyThenFail` commits a txn and then loses its reply.
 */
export class FakeTxnStore {
  readonly kv = new Map<string, string>();
  readonly txns: TxnRequest[] = [];
  failWith?: Error;
  applyThenFail?: Error;

  commit = (request: TxnRequest): Promise<TxnResult> => {
    this.txns.push(request);
    if (this.failWith) return Promise.reject(this.failWith);
    const succeeded = request.compare.every(
      (c) => c.target !== 'createRevision' || this.kv.has(c.key) === (c.value !== 0),
    );
    const results: TxnOpResult[] = (succeeded ? request.success : (request.failure ?? [])).map(
      (op) => {
        if (op.type === 'put') {
          this.kv.set(op.key, op.value);
          return { type: 'put' };
        }
        if (op.type === 'get') return { type: 'get', kv: this.read(op.key) };
        throw new Error(`fake store: unexpected op ${op.type}`);
      },
    );
    if (this.applyThenFail) {
      const error = this.applyThenFail;
      this.applyThenFail = undefined;
      return Promise.reject(error);
    }
    return Promise.resolve({ succeeded, revision: this.txns.length, results });
  };

  /** Reads keys as getMany does (undefined keys read as undefined). */
  readKeys = (keys: readonly (string | undefined)[]) =>
    Promise.resolve(keys.map((key) => (key === undefined ? undefined : this.read(key))));

  /** Scheduled times with an execution for the job, ascending. */
  fired(jobId: string): number[] {
    const prefix = `executions/${jobId}/`;
    return [...this.kv.keys()]
      .filter((key) => key.startsWith(prefix))
      .map((key) => Number(key.slice(prefix.length)))
      .sort((a, b) => a - b);
  }

  jobState(jobId: string): JobStateRecord | undefined {
    const value = this.kv.get(`jobstate/${jobId}`);
    return value === undefined ? undefined : (JSON.parse(value) as JobStateRecord);
  }

  private read(key: string): KeyValue | undefined {
    const value = this.kv.get(key);
    if (value === undefined) return undefined;
    return { key, value, createRevision: 1, modRevision: 1, version: 1 };
  }
}

export interface JobSpec {
  id: string;
  cron: string;
  timezone?: string;
  policy?: JobRecord['misfire']['policy'];
  catchUpWindowMs?: number;
  state?: JobRecord['state'];
  activeSince?: number;
}

export function jobRecord(spec: JobSpec, now: number): JobRecord {
  const at = new Date(spec.activeSince ?? now).toISOString();
  return {
    id: spec.id,
    name: `job ${spec.id}`,
    group: 'g',
    schedule: { cron: spec.cron, timezone: spec.timezone ?? 'UTC' },
    target: 'work',
    params: { job: spec.id },
    state: spec.state ?? 'active',
    dispatch: { strategy: 'round-robin', options: {} },
    concurrency: 'allow',
    timeoutMs: 0,
    retry: { maxAttempts: 0, backoff: 'exponential', initialDelayMs: 1000, maxDelayMs: 60_000 },
    misfire: {
      policy: spec.policy ?? 'fire_all',
      catchUpWindowMs: spec.catchUpWindowMs ?? 3_600_000,
    },
    alerts: { channels: [], events: ['failed'] },
    remark: '',
    createdAt: at,
    updatedAt: at,
    activeSince: at,
  };
}

/** A leader's planner on a fake clock and an in-memory store. */
export function plannerRig(
  startMs: number,
  options: Partial<FireLoopOptions> = {},
  placement?: FirePlacement,
) {
  const clock = new FakeClock(startMs);
  const plan = new Plan();
  const store = new FakeTxnStore();
  const writer = new FireWriter({
    commit: store.commit,
    read: store.readKeys,
    fencingToken: () => 7,
    nodeId: 'n1',
    now: () => clock.now(),
    placement,
  });
  const misfires: { jobId: string; dueMs: number; at: number }[] = [];
  const errors: unknown[] = [];
  const loop = new FireLoop(
    plan,
    clock,
    writer,
    {
      misfireThresholdMs: 1000,
      maxCatchUpFires: 1000,
      lookaheadMs: 0,
      maxSleepMs: 1000,
      minRetryDelayMs: 100,
      maxRetryDelayMs: 1000,
      ...options,
    },
    {
      onMisfire: (entry, dueMs, _decision, at) => misfires.push({ jobId: entry.jobId, dueMs, at }),
      onWriteError: (_entry, error) => errors.push(error),
    },
  );
  let revision = 0;
  return {
    clock,
    plan,
    store,
    loop,
    misfires,
    errors,
    /** A job write arriving through the watch. */
    put(spec: JobSpec): void {
      plan.applyJob(jobRecord(spec, clock.now()), ++revision, clock.now());
      loop.planChanged();
    },
    remove(jobId: string): void {
      plan.removeJob(jobId, ++revision);
      loop.planChanged();
    },
  };
}
