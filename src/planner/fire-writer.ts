import {
  encodeJobState,
  ExecutionRecord,
  executionId,
  fenceBelow,
  isFencedJobState,
  JobStateRecord,
  Keyspace,
  scheduledExecKey,
} from '@forest/protocol';
import { Compare, KeyValue, TxnOp, TxnRequest, TxnResult } from '@forest/store';
import {
  admitOps,
  ExecutionState,
  holderActive,
  joinParts,
  ReadKeys,
  readStates,
  skipOps,
  TxnPart,
} from '../execution/execution-ops';
import { newExecution, policyFields } from '../execution/execution-record';
import { FirePlacement, FiringJob } from '../dispatch/fire-placement';
import { DueFire } from './due-fires';

export interface FireOutcome {
  /** Fires whose execution this write created (to run). */
  created: DueFire[];
  /** Fires recorded `skipped` by the job's concurrency policy (the job was busy). */
  skipped: DueFire[];
  /** Fires whose execution already existed (another leader wrote it): not duplicated. */
  existing: DueFire[];
  /** Executions of the job these fires cancelled (concurrency replace). */
  replaced?: number;
  /** Epoch ms when the last txn of this job's fires committed. */
  committedAt: number;
}

export interface FireWriterOptions {
  /** Runs a txn only while this node leads (LeadershipService.fencedTxn). */
  commit: (request: TxnRequest) => Promise<TxnResult>;
  /**
   * Reads keys in one round trip: the concurrency markers of `forbid` / `replace` jobs and
   * the executions holding them, which their fires are decided against.
   */
  read: ReadKeys;
  /** The token of the leadership the fires are written under (recorded in executions). */
  fencingToken: () => number | undefined;
  nodeId: string;
  now: () => number;
  /** Txns in flight at once; more fires wait and join the next txns (group commit). */
  maxInFlight?: number;
  placement?: FirePlacement;
  /**
   * Whether the job is known to have fired (the plan saw its `jobstate`): its first txn
   * then compares the fence value; otherwise it expects no jobstate. A wrong guess costs
   * one refused txn, whose failure branch reads the jobstate and corrects it.
   */
  hasFired?: (jobId: string) => boolean;
  /**
   * Executions a committed txn made final (fires recorded `skipped`, executions cancelled
   * by `replace`), at the txn's revision: handed to the HistoryMover.
   */
  onFinal?: (records: ExecutionRecord[], revision: number) => void;
}

/**
 * What the writer knows of a job's `jobstate`, which each fire txn compares: absent, a
 * fenced value (compare `value < fenceBelow(first fire)`), or a value written before the
 * fence existed (compare its mod revision; the txn rewrites it fenced).
 */
type FenceState = { kind: 'absent' } | { kind: 'fenced' } | { kind: 'legacy'; modRevision: number };

/**
 * etcd refuses a txn with more than 128 compares or 128 ops per branch (its default
 * --max-txn-ops), and so does the embedded store. One fire costs a compare, two puts (the
 * execution, and its assignment or pending entry) and a failure-branch get; each job in a
 * txn adds a `jobstate` put, its fence compare and a failure-branch get; the leader's
 * fence adds a compare and a get.
 */
const MAX_TXN_OPS = 128;
const DEFAULT_IN_FLIGHT = 8;

/**
 * What one fire costs in a txn. A plain fire: a create-if-absent compare, the execution and
 * its assignment or pending entry. A `forbid` / `replace` fire may also compare the job's
 * marker, move it, and cancel the execution it replaces (its record and inbox entry).
 */
const PLAIN_FIRE = { ops: 2, compares: 1 };
const POLICY_FIRE = { ops: 6, compares: 4 };

/** Rounds of read-decide-commit one txn may take when markers keep changing under it. */
const MAX_POLICY_ROUNDS = 8;

interface Pending {
  job: FiringJob;
  /** Fires not yet written, ascending. */
  fires: DueFire[];
  created: DueFire[];
  skipped: DueFire[];
  existing: DueFire[];
  replaced: number;
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
 * Writes fires as batched, fenced txns. Each job's fires are written only if its
 * `jobstate/{jobId}` fence says every earlier fire is older than the first of them, and
 * the txn moves the fence to the latest scheduled time it writes for the job — so a fire
 * is recorded exactly once whichever leader writes it, even after its execution finished
 * and left the store for the history, and a new leader resumes where the last write left
 * off. Each execution key is still created only if absent (a live execution of the fire).
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
  /** The jobstate of each job this writer wrote or read; others are guessed (hasFired). */
  private readonly fences = new Map<string, FenceState>();

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
      const pending = {
        job,
        fires,
        created: [],
        skipped: [],
        existing: [],
        replaced: 0,
        resolve,
        reject,
      };
      // A forbid/replace fire is written when due, not ahead like the others: it goes first.
      if (job.concurrency === 'allow') this.queue.push(pending);
      else this.queue.unshift(pending);
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
    let ops = 0;
    let compares = 1; // the fence
    while (chunks.length < this.queue.length) {
      const pending = this.queue[chunks.length];
      const cost = pending.job.concurrency === 'allow' ? PLAIN_FIRE : POLICY_FIRE;
      // The job's jobstate put and its fence compare take one more op and compare.
      const room = Math.min(
        Math.floor((MAX_TXN_OPS - ops - 1) / cost.ops),
        Math.floor((MAX_TXN_OPS - compares - 1) / cost.compares),
      );
      if (room <= 0) break;
      const taken = Math.min(room, pending.fires.length);
      chunks.push({ job: pending, taken, fires: pending.fires.slice(0, taken) });
      ops += taken * cost.ops + 1;
      compares += taken * cost.compares + 1;
    }
    this.queue.splice(0, chunks.length);
    return chunks;
  }

  private async run(chunks: Chunk[]): Promise<void> {
    let remaining = chunks;
    let fruitless = 0;
    try {
      while (remaining.length > 0) {
        const guards = await this.readGuards(remaining);
        const { request, reserved, decided } = this.buildTxn(remaining, guards);
        let result: TxnResult;
        try {
          result = await this.options.commit(request);
        } catch (error) {
          this.releaseAll(reserved);
          throw error;
        }
        const committedAt = this.options.now();
        if (result.succeeded) {
          for (const chunk of remaining) this.fences.set(chunk.job.job.jobId, { kind: 'fenced' });
          const finals = decided.flatMap((d) => d.finals);
          if (finals.length > 0) this.options.onFinal?.(finals, result.revision);
          remaining.forEach((chunk, i) => this.advance(chunk, decided[i], committedAt));
          return;
        }
        this.releaseAll(reserved);
        // Some fires were written already (by an earlier leader, or by our own txn whose
        // reply was lost: the job's fence is at or past them, or their execution is still
        // live): count them as existing and write the rest again, against the fence as now
        // read. A refusal with nothing written and no fence learnt means a concurrency
        // marker changed: read it again and decide.
        const exists = new Set<string>();
        const firedUpTo = new Map<string, number>();
        let learnt = false;
        for (const op of result.results) {
          if (op.type === 'get' && op.kv?.key.startsWith(Keyspace.executions)) {
            exists.add(op.kv.key);
          }
        }
        for (const chunk of remaining) {
          const jobId = chunk.job.job.jobId;
          const kv = result.results.find(
            (op): op is { type: 'get'; kv?: KeyValue } =>
              op.type === 'get' && op.kv?.key === Keyspace.jobState(jobId),
          )?.kv;
          const known = this.fenceOf(jobId);
          const read = fenceStateOf(kv);
          if (read.kind !== known.kind) learnt = true;
          this.fences.set(jobId, read);
          const last = kv ? lastScheduledOf(kv) : undefined;
          if (last !== undefined) firedUpTo.set(jobId, last);
        }
        const fenced = remaining.some(
          (chunk) => chunk.fires[0].scheduledMs <= (firedUpTo.get(chunk.job.job.jobId) ?? -1),
        );
        if (exists.size === 0 && !learnt && !fenced && ++fruitless >= MAX_POLICY_ROUNDS) {
          throw new Error('concurrency markers kept changing under the fire txn; retrying later');
        }
        const retry: Chunk[] = [];
        for (const chunk of remaining) {
          const upTo = firedUpTo.get(chunk.job.job.jobId) ?? Number.NEGATIVE_INFINITY;
          const written = (fire: DueFire) =>
            fire.scheduledMs <= upTo || exists.has(execKeyOf(chunk.job.job, fire));
          chunk.job.existing.push(...chunk.fires.filter(written));
          const fresh = chunk.fires.filter((fire) => !written(fire));
          if (fresh.length === 0) this.advance(chunk, NOTHING_DECIDED, committedAt);
          else retry.push({ ...chunk, fires: fresh });
        }
        remaining = retry;
      }
    } catch (error) {
      for (const chunk of remaining) chunk.job.reject(error);
    }
  }

  private advance(chunk: Chunk, decided: Decided, committedAt: number): void {
    const pending = chunk.job;
    pending.created.push(...decided.created);
    pending.skipped.push(...decided.skipped);
    pending.replaced += decided.replaced;
    pending.fires = pending.fires.slice(chunk.taken);
    if (pending.fires.length > 0) {
      // A long catch-up: its next fires go first, after this txn (jobstate order).
      this.queue.unshift(pending);
      return;
    }
    pending.resolve({
      created: pending.created,
      skipped: pending.skipped,
      existing: pending.existing,
      replaced: pending.replaced,
      committedAt,
    });
  }

  /**
   * For the `forbid` / `replace` jobs among the chunks: their concurrency markers and the
   * executions holding them, read just before the txn that is decided against them (and
   * compares them). Plain jobs read nothing.
   */
  private async readGuards(chunks: Chunk[]): Promise<Map<string, PolicyGuard>> {
    const guards = new Map<string, PolicyGuard>();
    const jobIds = [
      ...new Set(
        chunks.filter((c) => c.job.job.concurrency !== 'allow').map((c) => c.job.job.jobId),
      ),
    ];
    if (jobIds.length === 0) return guards;
    const markers = await this.options.read(jobIds.map((id) => Keyspace.activeExecution(id)));
    const held = jobIds.flatMap((jobId, i) => {
      const marker = markers[i];
      guards.set(jobId, { marker });
      return marker ? [{ jobId, id: marker.value }] : [];
    });
    const states = await readStates(this.options.read, held);
    held.forEach(({ jobId }, i) => (guards.get(jobId)!.holder = states[i]));
    return guards;
  }

  private buildTxn(
    chunks: Chunk[],
    guards: Map<string, PolicyGuard>,
  ): { request: TxnRequest; reserved: Reservation[]; decided: Decided[] } {
    const parts: TxnPart[] = [];
    const failure: TxnOp[] = [];
    const reserved: Reservation[] = [];
    const decided: Decided[] = [];
    const nowMs = this.options.now();
    const node = this.options.nodeId;
    const firedAt = new Date(nowMs).toISOString();
    const token = this.options.fencingToken() ?? 0;
    for (const chunk of chunks) {
      const { job } = chunk.job;
      const outcome: Decided = { created: [], skipped: [], replaced: 0, finals: [] };
      decided.push(outcome);
      const guard = guards.get(job.jobId);
      /** Under forbid: the execution that keeps the job busy, once one is known. */
      let busyWith: string | undefined;
      let latest = Number.NEGATIVE_INFINITY;
      chunk.fires.forEach((fire, i) => {
        const id = executionId(job.jobId, scheduledExecKey(fire.scheduledMs));
        const record = this.newRecord(job, id, fire, nowMs, token);
        failure.push({ type: 'get', key: execKeyOf(job, fire) });
        latest = Math.max(latest, fire.scheduledMs);
        const skip = (reason: string, markerModRevision?: number) => {
          const part = skipOps(record, reason, nowMs, node, markerModRevision);
          parts.push(part);
          outcome.skipped.push(fire);
          outcome.finals.push(part.skipped);
        };
        if (job.concurrency === 'replace' && i < chunk.fires.length - 1) {
          // Of several fires written together (a catch-up), only the latest runs.
          return skip(`superseded by the later fire of the same catch-up (concurrency replace)`);
        }
        if (busyWith !== undefined) {
          return skip(`execution ${busyWith} of the job is still active (concurrency forbid)`);
        }
        const marker = guard?.marker;
        if (job.concurrency === 'forbid' && marker && holderActive(marker, guard.holder)) {
          busyWith = marker.value;
          return skip(
            `execution ${busyWith} of the job is still active (concurrency forbid)`,
            marker.modRevision,
          );
        }
        const workerId = this.options.placement?.place(job, id, fire.scheduledMs);
        if (workerId !== undefined) reserved.push({ group: job.group, workerId, executionId: id });
        const admission = admitOps(record, marker, guard?.holder, { workerId, nowMs, node });
        if (admission.kind !== 'create') throw new Error(`fire ${id}: admission not decided`);
        parts.push(admission);
        outcome.created.push(fire);
        if (admission.replaced) {
          outcome.replaced++;
          outcome.finals.push(admission.replaced);
        }
        if (job.concurrency === 'forbid') busyWith = id;
      });
      const state: Omit<JobStateRecord, 'fence'> = {
        jobId: job.jobId,
        lastScheduledMs: latest,
        lastFiredAt: firedAt,
        node,
      };
      failure.push({ type: 'get', key: Keyspace.jobState(job.jobId) });
      parts.push({
        compare: [this.fenceCompare(job.jobId, chunk.fires[0].scheduledMs)],
        success: [{ type: 'put', key: Keyspace.jobState(job.jobId), value: encodeJobState(state) }],
      });
    }
    const { compare, success } = joinParts(parts);
    return { request: { compare, success, failure }, reserved, decided };
  }

  private fenceOf(jobId: string): FenceState {
    return (
      this.fences.get(jobId) ??
      (this.options.hasFired?.(jobId) ? { kind: 'fenced' } : { kind: 'absent' })
    );
  }

  /** The compare that admits fires from `firstMs` on only if the job never fired then or later. */
  private fenceCompare(jobId: string, firstMs: number): Compare {
    const key = Keyspace.jobState(jobId);
    const fence = this.fenceOf(jobId);
    switch (fence.kind) {
      case 'absent':
        return { key, target: 'createRevision', op: '==', value: 0 };
      case 'fenced':
        return { key, target: 'value', op: '<', value: fenceBelow(firstMs) };
      case 'legacy':
        return { key, target: 'modRevision', op: '==', value: fence.modRevision };
    }
  }

  private releaseAll(reserved: Reservation[]): void {
    for (const { group, workerId, executionId: id } of reserved) {
      this.options.placement?.release(group, workerId, id);
    }
  }

  /** The fire's execution as created: pending, at `nowMs`, under this leader's token. */
  private newRecord(
    job: FiringJob,
    id: string,
    fire: DueFire,
    nowMs: number,
    token: number,
  ): ExecutionRecord {
    const record = newExecution(
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
    return { ...record, ...policyFields(job) };
  }
}

/** What a txn decided for one chunk's fires. */
interface Decided {
  created: DueFire[];
  skipped: DueFire[];
  /** Running executions cancelled by the created ones (concurrency replace). */
  replaced: number;
  /** Records this txn makes final (skipped fires, replaced executions). */
  finals: ExecutionRecord[];
}

const NOTHING_DECIDED: Decided = { created: [], skipped: [], replaced: 0, finals: [] };

/** A policy job's concurrency marker and the state of the execution holding it. */
interface PolicyGuard {
  marker?: KeyValue;
  holder?: ExecutionState;
}

interface Reservation {
  group: string;
  workerId: string;
  executionId: string;
}

function fenceStateOf(kv: KeyValue | undefined): FenceState {
  if (!kv) return { kind: 'absent' };
  return isFencedJobState(kv.value)
    ? { kind: 'fenced' }
    : { kind: 'legacy', modRevision: kv.modRevision };
}

/** The latest scheduled time a stored jobstate says was fired, if readable. */
function lastScheduledOf(kv: KeyValue): number | undefined {
  try {
    const state = JSON.parse(kv.value) as Partial<JobStateRecord>;
    return typeof state.lastScheduledMs === 'number' ? state.lastScheduledMs : undefined;
  } catch {
    return undefined;
  }
}

function execKeyOf(job: FiringJob, fire: DueFire): string {
  return Keyspace.execution(job.jobId, scheduledExecKey(fire.scheduledMs));
}
