import {
  Assignment,
  CancelSource,
  decodeAssignment,
  decodeExecution,
  ExecutionRecord,
  ExecutionStatus,
  executionKeyOf,
  JobRetry,
  Keyspace,
  parseExecutionId,
  retryExecutionId,
} from '@forest/protocol';
import { Compare, KeyValue, TxnOp } from '@forest/store';
import { assignmentOf, isFinal, newExecution, pendingEntry, transition } from './execution-record';

/**
 * The one owner of execution writes. Every module that changes an execution (the planner's
 * fire writer, the dispatcher's drain and worker recovery, the leader's deadlines, the
 * report path, cancel and manual trigger) builds its writes here and only composes them
 * into its own txn (fenced or not). Each builder returns the compares that make the write
 * safe (the execution is still as it was read) and the ops that move the execution record
 * together with the keys that follow it: the assignment or pending entry, the job's
 * concurrency marker, and the next attempt of a retry.
 */
export interface TxnPart {
  compare: Compare[];
  success: TxnOp[];
}

/** A stored execution as read: its record and the key's revision. */
export interface ExecutionRead {
  record: ExecutionRecord;
  key: string;
  modRevision: number;
}

/** The keys `readKeysFor` asks for, decoded: what finishing an execution must see. */
export interface ExecutionState {
  execution?: ExecutionRead;
  /** The execution's assignment under its worker, when it has one. */
  assignment?: { assignment: Assignment; key: string; modRevision: number };
  /** The job's concurrency marker (`active/{jobId}`), whoever holds it. */
  marker?: KeyValue;
}

export const OP_BUDGET = 128;

/** Statuses after which an attempt with attempts left is retried. */
const RETRIED_STATUSES: readonly ExecutionStatus[] = ['failed', 'timed_out', 'lost'];
/** A retry's delay is the backoff minus up to this share of it, so retries do not stampede. */
const RETRY_JITTER = 0.2;

export function decodeExecutionKv(kv: KeyValue | undefined): ExecutionRead | undefined {
  return (
    kv && { record: decodeExecution(kv.key, kv.value), key: kv.key, modRevision: kv.modRevision }
  );
}

/** Reads keys in one round trip (getMany over the store), in order. */
export type ReadKeys = (keys: readonly (string | undefined)[]) => Promise<(KeyValue | undefined)[]>;

/** Which execution to read, and the worker whose inbox to look in when the caller knows it. */
export interface StateRequest {
  id: string;
  group?: string;
  workerId?: string;
}

/**
 * Reads what a status change of each execution must see: the record, its assignment and
 * the job's marker. With the worker known it is one round trip; otherwise the assignment
 * is looked up under the worker the record names, after the record.
 */
export async function readStates(
  read: ReadKeys,
  requests: readonly StateRequest[],
): Promise<ExecutionState[]> {
  const keys = requests.flatMap((request) => {
    const parts = parseExecutionId(request.id);
    if (!parts) return [undefined, undefined, undefined];
    return [
      Keyspace.execution(parts.jobId, parts.execKey),
      request.group !== undefined && request.workerId !== undefined
        ? Keyspace.assignment(request.group, request.workerId, request.id)
        : undefined,
      Keyspace.activeExecution(parts.jobId),
    ];
  });
  const kvs = await read(keys);
  const states = requests.map((_, i) => ({
    execution: decodeExecutionKv(kvs[3 * i]),
    assignmentKv: kvs[3 * i + 1],
    markerKv: kvs[3 * i + 2],
  }));
  const missing = states.map((state, i) =>
    keys[3 * i + 1] === undefined && state.execution
      ? assignmentKeyOf(state.execution.record)
      : undefined,
  );
  if (missing.some((key) => key !== undefined)) {
    const found = await read(missing);
    found.forEach((kv, i) => {
      if (missing[i] !== undefined) states[i].assignmentKv = kv;
    });
  }
  return states.map((state) => stateOf(state.execution, state.assignmentKv, state.markerKv));
}

/** The assignment key of `record` under its worker, or undefined when it has none. */
export function assignmentKeyOf(record: ExecutionRecord): string | undefined {
  return record.worker !== undefined &&
    (record.status === 'assigned' || record.status === 'running')
    ? Keyspace.assignment(record.group, record.worker, record.id)
    : undefined;
}

/** Decodes what was read for `assignmentKeyOf(record)` and the job's marker. */
export function stateOf(
  execution: ExecutionRead | undefined,
  assignmentKv: KeyValue | undefined,
  markerKv: KeyValue | undefined,
): ExecutionState {
  return {
    execution,
    assignment: assignmentKv && {
      assignment: decodeAssignment(assignmentKv.key, assignmentKv.value),
      key: assignmentKv.key,
      modRevision: assignmentKv.modRevision,
    },
    marker: markerKv,
  };
}

/** True when the execution keeps its job busy under `forbid` / `replace`. */
export function holdsMarker(record: ExecutionRecord): boolean {
  return (record.concurrency === 'forbid' || record.concurrency === 'replace') && !record.forced;
}

// ---- create ----

/**
 * Creates `record` if its key is free: assigned to `workerId` (its assignment in the
 * worker's inbox) or pending (its `pending/` entry). `marker`: how the job's concurrency
 * marker is taken — `free` (it must be absent), `{modRevision}` (taking it over from the
 * execution it replaces, which must be finished in the same txn), or undefined (the record
 * does not hold it).
 */
export function createOps(
  record: ExecutionRecord,
  options: {
    workerId?: string;
    nowMs: number;
    node: string;
    marker?: 'free' | { modRevision: number };
  },
): TxnPart & { created: ExecutionRecord } {
  const key = keyOf(record.id);
  const compare: Compare[] = [{ key, target: 'createRevision', op: '==', value: 0 }];
  const success: TxnOp[] = [];
  const at = new Date(options.nowMs).toISOString();
  let created = record;
  if (options.workerId === undefined) {
    success.push(
      { type: 'put', key, value: JSON.stringify(record) },
      {
        type: 'put',
        key: Keyspace.pendingExecution(record.group, record.id),
        value: JSON.stringify(pendingEntry(record, at)),
      },
    );
  } else {
    created = transition(record, 'assigned', options.nowMs, options.node, {
      worker: options.workerId,
    });
    success.push(
      { type: 'put', key, value: JSON.stringify(created) },
      {
        type: 'put',
        key: Keyspace.assignment(record.group, options.workerId, record.id),
        value: JSON.stringify(assignmentOf(created, options.workerId, at)),
      },
    );
  }
  if (options.marker !== undefined) {
    const markerKey = Keyspace.activeExecution(record.jobId);
    compare.push(
      options.marker === 'free'
        ? { key: markerKey, target: 'createRevision', op: '==', value: 0 }
        : { key: markerKey, target: 'modRevision', op: '==', value: options.marker.modRevision },
    );
    success.push({ type: 'put', key: markerKey, value: record.id });
  }
  return { compare, success, created };
}

/** True when the execution the marker names exists and has not finished. */
export function holderActive(marker: KeyValue, holder: ExecutionState | undefined): boolean {
  const held = holder?.execution;
  return held !== undefined && held.record.id === marker.value && !isFinal(held.record.status);
}

/** What a job's concurrency policy makes of a new execution. */
export type Admission =
  | (TxnPart & { kind: 'create'; created: ExecutionRecord; replaced?: ExecutionRecord })
  | { kind: 'busy'; holderId: string; markerModRevision: number };

/**
 * Admits a new execution under its job's concurrency policy, decided on the job's marker
 * as read (`marker`) and, under `replace`, the state of the execution holding it
 * (`holder`, read by `readStates`). `allow` (or a forced trigger): created beside whatever
 * runs. Marker free: created, and it takes the marker. `forbid` with the marker held:
 * `busy` (the caller records a skip or refuses). `replace` with the marker held: the
 * holder is cancelled and the new execution takes the marker, in the same txn. Every
 * case compares the marker as read, so two leaders (or a leader and a manual trigger)
 * cannot both admit one.
 */
export function admitOps(
  record: ExecutionRecord,
  marker: KeyValue | undefined,
  holder: ExecutionState | undefined,
  options: { workerId?: string; nowMs: number; node: string },
): Admission {
  if (!holdsMarker(record)) return { kind: 'create', ...createOps(record, options) };
  if (!marker) return { kind: 'create', ...createOps(record, { ...options, marker: 'free' }) };
  const holderRunning = holderActive(marker, holder);
  if (record.concurrency === 'forbid' && holderRunning) {
    return { kind: 'busy', holderId: marker.value, markerModRevision: marker.modRevision };
  }
  const create = createOps(record, { ...options, marker: { modRevision: marker.modRevision } });
  if (!holderRunning) {
    // A marker whose holder is gone or final (never left behind by Forest's own writes):
    // taken over as it is.
    return { kind: 'create', ...create };
  }
  // The marker passes to the new execution in `create`: the cancel must not touch it too.
  const cancel = finishOps(
    { ...holder, marker: undefined },
    'cancelled',
    options.nowMs,
    options.node,
    {
      error: `replaced by execution ${record.id} (concurrency replace)`,
      cancelledBy: { kind: 'replace', node: options.node, by: record.id },
      noRetry: true,
    },
  );
  return {
    kind: 'create',
    compare: [...cancel.compare, ...create.compare],
    success: [...cancel.success, ...create.success],
    created: create.created,
    replaced: cancel.finished,
  };
}

/**
 * Records a fire that does not run: a `skipped` execution at the fire's key (create-if-
 * absent, so a fire is still recorded exactly once), with the reason. `markerModRevision`:
 * the job's marker as read when deciding to skip, which must still be there.
 */
export function skipOps(
  record: ExecutionRecord,
  reason: string,
  nowMs: number,
  node: string,
  markerModRevision?: number,
): TxnPart & { skipped: ExecutionRecord } {
  const key = keyOf(record.id);
  const skipped = { ...transition(record, 'skipped', nowMs, node), skipReason: reason };
  const compare: Compare[] = [{ key, target: 'createRevision', op: '==', value: 0 }];
  if (markerModRevision !== undefined) {
    compare.push({
      key: Keyspace.activeExecution(record.jobId),
      target: 'modRevision',
      op: '==',
      value: markerModRevision,
    });
  }
  return { compare, success: [{ type: 'put', key, value: JSON.stringify(skipped) }], skipped };
}

// ---- dispatch ----

/** pending -> assigned: the record, the worker's inbox entry, and the pending entry goes. */
export function assignOps(
  execution: ExecutionRead,
  workerId: string,
  nowMs: number,
  node: string,
): TxnPart & { assigned: ExecutionRecord } {
  const { record } = execution;
  const assigned = transition(record, 'assigned', nowMs, node, { worker: workerId });
  return {
    compare: [guard(execution)],
    success: [
      { type: 'put', key: execution.key, value: JSON.stringify(assigned) },
      {
        type: 'put',
        key: Keyspace.assignment(record.group, workerId, record.id),
        value: JSON.stringify(assignmentOf(assigned, workerId, new Date(nowMs).toISOString())),
      },
      { type: 'delete', key: Keyspace.pendingExecution(record.group, record.id) },
    ],
    assigned,
  };
}

/** assigned -> pending (its worker is gone before it started): back to `pending/`. */
export function requeueOps(
  execution: ExecutionRead,
  assignment: { key: string; modRevision: number },
  nowMs: number,
  node: string,
): TxnPart & { requeued: ExecutionRecord } {
  const requeued = transition(execution.record, 'pending', nowMs, node);
  return {
    compare: [guard(execution), guard(assignment)],
    success: [
      { type: 'put', key: execution.key, value: JSON.stringify(requeued) },
      { type: 'delete', key: assignment.key },
      {
        type: 'put',
        key: Keyspace.pendingExecution(requeued.group, requeued.id),
        value: JSON.stringify(pendingEntry(requeued, new Date(nowMs).toISOString())),
      },
    ],
    requeued,
  };
}

/**
 * assigned -> running, on the worker's claim. Only the worker's inbox entry is written
 * (`state: running`, when and on which node the start was recorded): the execution record
 * keeps `assigned` until it finishes, when `finishOps` writes the `running` step into its
 * timeline from the inbox entry. So a start costs one small put, not a rewrite of the
 * whole record, and the entry drops its copy of the params (see below); readers of a
 * live execution see it through `liveView`.
 */
export function startOps(
  execution: ExecutionRead,
  assignment: { assignment: Assignment; key: string; modRevision: number },
  workerId: string,
  nowMs: number,
  node: string,
): TxnPart & { running: ExecutionRecord } {
  const inbox: Assignment = {
    ...assignment.assignment,
    // The worker has the params since its poll, and a running entry is never delivered
    // again: the rewrite leaves them out rather than copying them into etcd once more.
    params: undefined,
    state: 'running',
    startedAtMs: nowMs,
    startedBy: node,
  };
  return {
    compare: [guard(execution), guard(assignment)],
    success: [{ type: 'put', key: assignment.key, value: JSON.stringify(inbox) }],
    running: liveView(execution.record, inbox),
  };
}

/**
 * A live execution as its worker's inbox entry says it is: an `assigned` record whose
 * entry is `running` has started (see startOps). Records in any other state are as stored.
 */
export function liveView(
  record: ExecutionRecord,
  assignment: Assignment | undefined,
): ExecutionRecord {
  if (record.status !== 'assigned' || assignment?.state !== 'running') return record;
  return transition(
    record,
    'running',
    assignment.startedAtMs ?? Date.parse(assignment.assignedAt),
    assignment.startedBy ?? record.timeline[record.timeline.length - 1]?.node ?? '',
    { worker: assignment.workerId },
  );
}

// ---- finish ----

export interface FinishDetails {
  worker?: string;
  output?: string;
  error?: string;
  cancelledBy?: CancelSource;
  /** No next attempt whatever the retry policy says (a cancel never retries). */
  noRetry?: boolean;
  /** Fencing token to record on a retry this leader creates (0: not a leader write). */
  token?: number;
  /** Jitter source in [0, 1): Math.random unless a test pins it. */
  random?: () => number;
}

export interface FinishResult extends TxnPart {
  finished: ExecutionRecord;
  /** The next attempt this finish creates, if the retry policy asks for one. */
  retry?: ExecutionRecord;
}

/**
 * Moves a non-final execution to a final status, and with it everything that follows:
 * its assignment (or pending entry) goes, a retry is created when the policy has attempts
 * left (create-if-absent on its deterministic id, waiting in `pending/` for its backoff),
 * and the job's concurrency marker, if this execution holds it, passes to that retry or
 * is released. Every key it depends on is compared as read, so it commits only if nothing
 * changed since; the caller re-reads and decides again on a refusal.
 */
export function finishOps(
  state: ExecutionState,
  status: ExecutionStatus,
  nowMs: number,
  node: string,
  details: FinishDetails = {},
): FinishResult {
  const execution = state.execution;
  if (!execution) throw new Error('finishOps: no execution to finish');
  const { record } = execution;
  if (!isFinal(status)) throw new Error(`finishOps: ${status} is not a final status`);
  // A start recorded in the inbox entry only (startOps) goes into the timeline now; a final
  // report without a `running` one before it also records that the handler ran.
  const inboxSaysRunning = state.assignment?.assignment.state === 'running';
  const started = inboxSaysRunning
    ? liveView(record, state.assignment!.assignment)
    : status !== 'cancelled' && status !== 'lost' && record.status === 'assigned' && details.worker
      ? transition(record, 'running', nowMs, node, { worker: details.worker })
      : record;
  let finished = transition(started, status, nowMs, node, {
    worker: details.worker,
    output: details.output,
    error: details.error,
  });
  if (details.cancelledBy) finished = { ...finished, cancelledBy: details.cancelledBy };
  const compare: Compare[] = [guard(execution)];
  const success: TxnOp[] = [{ type: 'put', key: execution.key, value: JSON.stringify(finished) }];
  if (state.assignment) {
    compare.push(guard(state.assignment));
    success.push({ type: 'delete', key: state.assignment.key });
  }
  if (record.status === 'pending') {
    success.push({ type: 'delete', key: Keyspace.pendingExecution(record.group, record.id) });
  }
  const retry = details.noRetry ? undefined : nextAttempt(record, status, nowMs, node, details);
  if (retry) {
    const key = keyOf(retry.id);
    compare.push({ key, target: 'createRevision', op: '==', value: 0 });
    success.push(
      { type: 'put', key, value: JSON.stringify(retry) },
      {
        type: 'put',
        key: Keyspace.pendingExecution(retry.group, retry.id),
        value: JSON.stringify({
          ...pendingEntry(retry, new Date(nowMs).toISOString()),
          notBeforeMs: retry.retryAtMs,
        }),
      },
    );
  }
  const marker = state.marker;
  if (marker && marker.value === record.id) {
    compare.push(guard(marker));
    success.push(
      retry && holdsMarker(retry)
        ? { type: 'put', key: marker.key, value: retry.id }
        : { type: 'delete', key: marker.key },
    );
  }
  return { compare, success, finished, ...(retry ? { retry } : {}) };
}

/**
 * The attempt after `record` ends with `status`, or undefined when there is none: only
 * failed, timed-out and lost attempts are retried, up to `retry.maxAttempts` extra ones.
 */
export function nextAttempt(
  record: ExecutionRecord,
  status: ExecutionStatus,
  nowMs: number,
  node: string,
  details: Pick<FinishDetails, 'token' | 'random'> = {},
): ExecutionRecord | undefined {
  const policy = record.retry;
  if (!policy || !RETRIED_STATUSES.includes(status) || record.attempt > policy.maxAttempts) {
    return undefined;
  }
  const delay = retryDelayMs(policy, record.attempt, details.random ?? Math.random);
  const attempt = record.attempt + 1;
  const retry = newExecution(
    {
      id: retryExecutionId(record.id, attempt),
      jobId: record.jobId,
      jobName: record.jobName,
      group: record.group,
      target: record.target,
      params: record.params,
      trigger: 'retry',
      attempt,
      scheduledMs: record.scheduledMs,
      catchUp: record.catchUp,
      firedBy: { node, token: details.token ?? 0 },
      timeoutMs: record.timeoutMs,
      dispatch: record.dispatch,
    },
    nowMs,
    node,
  );
  return {
    ...retry,
    retry: policy,
    ...(record.concurrency ? { concurrency: record.concurrency } : {}),
    ...(record.forced ? { forced: true } : {}),
    ...(record.shard ? { shard: { ...record.shard } } : {}),
    retryOf: record.id,
    retryAtMs: nowMs + delay,
  };
}

/**
 * The wait before attempt `attempt + 1`: `initialDelayMs` (fixed) or `initialDelayMs ·
 * 2^(attempt-1)` (exponential), capped by `maxDelayMs`, less up to 20 % jitter.
 */
export function retryDelayMs(policy: JobRetry, attempt: number, random: () => number): number {
  const base =
    policy.backoff === 'fixed'
      ? policy.initialDelayMs
      : policy.initialDelayMs * 2 ** Math.min(attempt - 1, 30);
  const capped = Math.min(base, Math.max(policy.maxDelayMs, 0));
  return Math.max(0, Math.round(capped * (1 - RETRY_JITTER * random())));
}

/** True when `record` ended failing and its retry policy has no attempt left. */
export function retriesExhausted(record: ExecutionRecord): boolean {
  return (
    RETRIED_STATUSES.includes(record.status) &&
    record.retry !== undefined &&
    record.retry.maxAttempts > 0 &&
    record.attempt > record.retry.maxAttempts
  );
}

// ---- helpers ----

function guard(read: { key: string; modRevision: number }): Compare {
  return { key: read.key, target: 'modRevision', op: '==', value: read.modRevision };
}

function keyOf(id: string): string {
  const key = executionKeyOf(id);
  if (key === undefined) throw new Error(`malformed execution id ${id}`);
  return key;
}

/** Joins parts into one txn's compares and ops. */
export function joinParts(parts: readonly TxnPart[]): TxnPart {
  return {
    compare: parts.flatMap((part) => part.compare),
    success: parts.flatMap((part) => part.success),
  };
}

/** Whether `parts` fit one txn under etcd's limit of 128 compares and 128 ops per branch. */
export function fitsOneTxn(parts: readonly TxnPart[], reserve = 1): boolean {
  let compares = 0;
  let ops = 0;
  for (const part of parts) {
    compares += part.compare.length;
    ops += part.success.length;
  }
  return compares <= OP_BUDGET - reserve && ops <= OP_BUDGET - reserve;
}
