import {
  Assignment,
  ConcurrencyPolicy,
  JobRetry,
  ExecutionRecord,
  PendingEntry,
  ExecutionStatus,
  FINAL_EXECUTION_STATUSES,
  MAX_REPORT_TEXT_BYTES,
} from '@forest/protocol';

/**
 * Status changes of an execution record, in one place: every writer (planner, dispatcher,
 * report handler, cancel, manual trigger) moves records only through `transition`, so the
 * timeline, the timestamps and the final-status rule are the same everywhere.
 */

export function isFinal(status: ExecutionStatus): boolean {
  return FINAL_EXECUTION_STATUSES.includes(status);
}

export interface TransitionDetails {
  worker?: string;
  output?: string;
  error?: string;
}

/**
 * The record after a move to `status` at `atMs` by `node`. Sets startedAt on `running`,
 * finishedAt and durationMs on a final status, the worker on assignment; cuts output and
 * error to MAX_REPORT_TEXT_BYTES. Throws if the record is already final.
 */
export function transition(
  record: ExecutionRecord,
  status: ExecutionStatus,
  atMs: number,
  node: string,
  details: TransitionDetails = {},
): ExecutionRecord {
  if (isFinal(record.status)) {
    throw new Error(`execution ${record.id} is already ${record.status}`);
  }
  const at = new Date(atMs).toISOString();
  const next: ExecutionRecord = { ...record, status };
  if (status === 'assigned') next.worker = details.worker;
  if (status === 'pending') delete next.worker;
  if (status === 'running') next.startedAt = at;
  if (isFinal(status)) {
    next.finishedAt = at;
    if (next.startedAt) next.durationMs = Math.max(0, atMs - Date.parse(next.startedAt));
  }
  if (details.output !== undefined) next.output = capText(details.output);
  if (details.error !== undefined) next.error = capText(details.error);
  const worker = details.worker ?? (status === 'pending' ? undefined : record.worker);
  next.timeline = [
    ...record.timeline,
    { status, at, node, ...(worker !== undefined ? { worker } : {}) },
  ];
  return next;
}

const TRUNCATION_MARK = '\n…[truncated]';

/** Cuts text to MAX_REPORT_TEXT_BYTES of UTF-8, marking the cut. */
export function capText(text: string, maxBytes = MAX_REPORT_TEXT_BYTES): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  const room = maxBytes - Buffer.byteLength(TRUNCATION_MARK);
  let cut = Buffer.from(text).subarray(0, room).toString('utf8');
  // A multi-byte character split by the cut decodes as U+FFFD: drop it.
  if (cut.endsWith('\uFFFD')) cut = cut.slice(0, -1);
  return cut + TRUNCATION_MARK;
}

/** What a worker's inbox holds for an execution assigned to it. */
export function assignmentOf(record: ExecutionRecord, workerId: string, at: string): Assignment {
  return {
    executionId: record.id,
    jobId: record.jobId,
    jobName: record.jobName,
    group: record.group,
    target: record.target,
    params: record.params,
    trigger: record.trigger,
    attempt: record.attempt,
    scheduledMs: record.scheduledMs,
    scheduledAt: record.scheduledAt,
    timeoutMs: record.timeoutMs,
    workerId,
    assignedAt: at,
    state: 'assigned',
    ...(record.shard ? { shard: { ...record.shard } } : {}),
  };
}

export function pendingEntry(record: ExecutionRecord, since: string): PendingEntry {
  return { executionId: record.id, jobId: record.jobId, target: record.target, since };
}

/** What a new execution copies from its job and its cause (fire, manual trigger, retry). */
export type NewExecutionFields = Pick<
  ExecutionRecord,
  | 'id'
  | 'jobId'
  | 'jobName'
  | 'group'
  | 'target'
  | 'params'
  | 'trigger'
  | 'attempt'
  | 'scheduledMs'
  | 'catchUp'
  | 'firedBy'
  | 'timeoutMs'
  | 'dispatch'
>;

/**
 * A new execution waiting for a worker: status `pending`, created at `atMs` by `node`,
 * with that creation as the first timeline entry. Its pending entry is `pendingEntry`.
 */
export function newExecution(
  fields: NewExecutionFields,
  atMs: number,
  node: string,
): ExecutionRecord {
  const at = new Date(atMs).toISOString();
  return {
    id: fields.id,
    jobId: fields.jobId,
    jobName: fields.jobName,
    group: fields.group,
    target: fields.target,
    params: fields.params,
    trigger: fields.trigger,
    status: 'pending',
    attempt: fields.attempt,
    scheduledMs: fields.scheduledMs,
    scheduledAt: new Date(fields.scheduledMs).toISOString(),
    firedAt: at,
    catchUp: fields.catchUp,
    firedBy: { node: fields.firedBy.node, token: fields.firedBy.token },
    timeoutMs: fields.timeoutMs,
    dispatch: fields.dispatch,
    timeline: [{ status: 'pending', at, node }],
  };
}

/**
 * The job policies an execution keeps (see ExecutionRecord.retry / concurrency), stored
 * only when they do something, so a plain job's records stay as small as before.
 */
export function policyFields(job: {
  retry: JobRetry;
  concurrency: ConcurrencyPolicy;
}): Pick<ExecutionRecord, 'retry' | 'concurrency'> {
  return {
    ...(job.retry.maxAttempts > 0 ? { retry: job.retry } : {}),
    ...(job.concurrency !== 'allow' ? { concurrency: job.concurrency } : {}),
  };
}
