import {
  ExecutionRecord,
  executionId,
  JobDispatch,
  JobStateRecord,
  Keyspace,
  scheduledExecKey,
} from '@forest/protocol';
import { Compare, TxnOp, TxnRequest, TxnResult } from '@forest/store';
import {
  assignmentOf,
  newExecution,
  pendingEntry,
  transition,
} from '../execution/execution-record';
import { FirePlacement, FiringJob } from '../dispatch/fire-placement';
import { DueFire } from './due-fires';

export interface FireOutcome {
  /** Fires whose execution this write created. */
  created: DueFire[];
  /** Fires whose execution already existed (another leader wrote it): not duplicated. */
  existing: DueFire[];
  /** Epoch ms when the last txn of this job's fires committed. */
  committedAt: number;
}

export interface FireWriterOptions {
  /** Runs a txn only while this node leads (LeadershipService.fencedTxn). */
  commit: (request: TxnRequest) => Promise<TxnResult>;
  /** The token of the leadership the fires are written under (recorded in executions). */
  fencingToken: () => number | undefined;
  nodeId: string;
  now: () => number;
  /** Txns in flight at once; more fires wait and join the next txns (group commit). */
  maxInFlight?: number;
  placement?: FirePlacement;
}

/**
 * etcd refuses a txn with more than 128 compares or 128 ops per branch (its default
 * --max-txn-ops), and so does the embedded store. One fire costs a compare, two puts (the
 * execution, and its assignment or pending entry) and a failure-branch get; each job in a
 * txn adds a `jobstate` put; the fence adds a compare and a get.
 */
const MAX_TXN_OPS = 128;
const DEFAULT_IN_FLIGHT = 8;

interface Pending {
  job: FiringJob;
  /** Fires not yet written, ascending. */
  fires: DueFire[];
  created: DueFire[];
  existing: DueFire[];
  resolve: (outcome: FireOutcome) => void;
  reject: (error: unknown) => void;
}

interface Chunk {
  job: Pending;
  /** How many of the job's fires this chunk took from the front of `job.fires`. */
  taken: number;
  /** Those fires minus any found already written. */
  fires: DueFire[];
}

/**
 * Writes fires as batched, fenced txns. Each fire creates `executions/{jobId}/{scheduled}`
 * only if that key does not exist, and the txn moves `jobstate/{jobId}` to the latest
 * scheduled time it writes for the job — so a fire is recorded exactly once whichever
 * leader writes it, and a new leader resumes where the last write left off.
 *
 * Group commit: up to `maxInFlight` txns run at once; fires that arrive meanwhile queue and
 * fill the next txns, up to the per-txn op limit. At low rates a fire is written alone and
 * at once; at high rates txns carry many fires, which etcd commits ~10x faster per fire.
 * A job is out of the queue while a txn holds its fires, so its `jobstate` writes stay in
 * order even when a long catch-up spans several txns.
 */
export class FireWriter {
  /** Jobs waiting for a txn, in arrival order. */
  private readonly queue: Pending[] = [];
  private inFlight = 0;
  private pumpQueued = false;
  private readonly maxInFlight: number;

  constructor(private readonly options: FireWriterOptions) {
    this.maxInFlight = options.maxInFlight ?? DEFAULT_IN_FLIGHT;
  }

  /** Jobs waiting for a txn. */
  get backlog(): number {
    return this.queue.length;
  }

  /** Resolves when every fire is written or found existing; rejects with the txn's error. */
  write(job: FiringJob, fires: DueFire[]): Promise<FireOutcome> {
    return new Promise<FireOutcome>((resolve, reject) => {
      this.queue.push({ job, fires, created: [], existing: [], resolve, reject });
      // Start txns once the caller has queued every fire of this tick, so a burst of
      // simultaneous fires fills txns instead of the first few going out one by one.
      if (!this.pumpQueued) {
        this.pumpQueued = true;
        queueMicrotask(() => {
          this.pumpQueued = false;
          this.pump();
        });
      }
    });
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
      const chunks = this.nextTxn();
      this.inFlight++;
      void this.run(chunks).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  /** Takes jobs from the queue's front until the next fire would break the op limit. */
  private nextTxn(): Chunk[] {
    const chunks: Chunk[] = [];
    let fires = 0;
    while (chunks.length < this.queue.length) {
      // success ops = 2 per fire + 1 jobstate put per job <= 128; compares = fires + fence.
      const used = 2 * fires + chunks.length;
      const room = Math.min(Math.floor((MAX_TXN_OPS - used - 1) / 2), MAX_TXN_OPS - 1 - fires);
      if (room <= 0) break;
      const pending = this.queue[chunks.length];
      const taken = Math.min(room, pending.fires.length);
      chunks.push({ job: pending, taken, fires: pending.fires.slice(0, taken) });
      fires += taken;
    }
    this.queue.splice(0, chunks.length);
    return chunks;
  }

  private async run(chunks: Chunk[]): Promise<void> {
    let remaining = chunks;
    try {
      while (remaining.length > 0) {
        const { request, reserved } = this.buildTxn(remaining);
        let result: TxnResult;
        try {
          result = await this.options.commit(request);
        } catch (error) {
          this.releaseAll(reserved);
          throw error;
        }
        const committedAt = this.options.now();
        if (result.succeeded) {
          for (const chunk of remaining) this.advance(chunk, chunk.fires, committedAt);
          return;
        }
        this.releaseAll(reserved);
        // Some executions exist already (written by an earlier leader, or by our own txn
        // whose reply was lost): count them as existing and write the rest again.
        const exists = new Set<string>();
        for (const op of result.results) {
          if (op.type === 'get' && op.kv) exists.add(op.kv.key);
        }
        const retry: Chunk[] = [];
        for (const chunk of remaining) {
          const key = (fire: DueFire) => execKeyOf(chunk.job.job, fire);
          chunk.job.existing.push(...chunk.fires.filter((fire) => exists.has(key(fire))));
          const fresh = chunk.fires.filter((fire) => !exists.has(key(fire)));
          if (fresh.length === 0) this.advance(chunk, [], committedAt);
          else retry.push({ ...chunk, fires: fresh });
        }
        remaining = retry;
      }
    } catch (error) {
      for (const chunk of remaining) chunk.job.reject(error);
    }
  }

  private advance(chunk: Chunk, created: DueFire[], committedAt: number): void {
    const pending = chunk.job;
    pending.created.push(...created);
    pending.fires = pending.fires.slice(chunk.taken);
    if (pending.fires.length > 0) {
      // A long catch-up: its next fires go first, after this txn (jobstate order).
      this.queue.unshift(pending);
      return;
    }
    pending.resolve({ created: pending.created, existing: pending.existing, committedAt });
  }

  private buildTxn(chunks: Chunk[]): { request: TxnRequest; reserved: Reservation[] } {
    const compare: Compare[] = [];
    const success: TxnOp[] = [];
    const failure: TxnOp[] = [];
    const reserved: Reservation[] = [];
    const nowMs = this.options.now();
    const firedAt = new Date(nowMs).toISOString();
    const token = this.options.fencingToken() ?? 0;
    for (const chunk of chunks) {
      const { job } = chunk.job;
      let latest = Number.NEGATIVE_INFINITY;
      for (const fire of chunk.fires) {
        const key = execKeyOf(job, fire);
        const id = executionId(job.jobId, scheduledExecKey(fire.scheduledMs));
        const pending = this.pendingExecution(job, id, fire, nowMs, token);
        const workerId = this.options.placement?.place(job, id, fire.scheduledMs);
        compare.push({ key, target: 'createRevision', op: '==', value: 0 });
        failure.push({ type: 'get', key });
        if (workerId === undefined) {
          success.push(
            { type: 'put', key, value: JSON.stringify(pending) },
            {
              type: 'put',
              key: Keyspace.pendingExecution(job.group, id),
              value: JSON.stringify(pendingEntry(pending, firedAt)),
            },
          );
        } else {
          reserved.push({ group: job.group, workerId, executionId: id });
          const assigned = transition(pending, 'assigned', nowMs, this.options.nodeId, {
            worker: workerId,
          });
          success.push(
            { type: 'put', key, value: JSON.stringify(assigned) },
            {
              type: 'put',
              key: Keyspace.assignment(job.group, workerId, id),
              value: JSON.stringify(assignmentOf(assigned, workerId, firedAt)),
            },
          );
        }
        latest = Math.max(latest, fire.scheduledMs);
      }
      const state: JobStateRecord = {
        jobId: job.jobId,
        lastScheduledMs: latest,
        lastFiredAt: firedAt,
        node: this.options.nodeId,
      };
      success.push({
        type: 'put',
        key: Keyspace.jobState(job.jobId),
        value: JSON.stringify(state),
      });
    }
    return { request: { compare, success, failure }, reserved };
  }

  private releaseAll(reserved: Reservation[]): void {
    for (const { group, workerId, executionId: id } of reserved) {
      this.options.placement?.release(group, workerId, id);
    }
  }

  /** The fire's execution as created: pending, at `nowMs`, under this leader's token. */
  private pendingExecution(
    job: FiringJob,
    id: string,
    fire: DueFire,
    nowMs: number,
    token: number,
  ): ExecutionRecord {
    return newExecution(
      {
        id,
        jobId: job.jobId,
        jobName: job.name,
        group: job.group,
        target: job.target,
        params: job.params,
        trigger: 'schedule',
        attempt: 1,
        scheduledMs: fire.scheduledMs,
        catchUp: fire.catchUp,
        firedBy: { node: this.options.nodeId, token },
        timeoutMs: job.timeoutMs,
        dispatch: job.dispatch,
      },
      nowMs,
      this.options.nodeId,
    );
  }
}

interface Reservation {
  group: string;
  workerId: string;
  executionId: string;
}

function execKeyOf(job: FiringJob, fire: DueFire): string {
  return Keyspace.execution(job.jobId, scheduledExecKey(fire.scheduledMs));
}
