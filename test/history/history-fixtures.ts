import {
  ExecutionRecord,
  ExecutionStatus,
  ExecutionTrigger,
  executionId,
  retryExecutionId,
  scheduledExecKey,
  shardExecutionId,
} from '@forest/protocol';

/** A minute boundary an hour ago: fixtures are recent (the store pages back from now). */
export const BASE_MS = Math.floor((Date.now() - 3_600_000) / 60_000) * 60_000;

export interface RecordSpec {
  jobId?: string;
  /** Scheduled time as an offset from BASE_MS. */
  atMs?: number;
  status?: ExecutionStatus;
  group?: string;
  worker?: string;
  trigger?: ExecutionTrigger;
  output?: string;
  error?: string;
  /** Fire lag (startedAt - scheduled); absent: the execution never ran. */
  lagMs?: number;
  /** Finish time as an offset from BASE_MS (default: scheduled + 1 s). */
  finishedAtMs?: number;
  /** 2, 3, ...: a retry of the fire. */
  attempt?: number;
  /** i >= 1: shard i of a broadcast. */
  shard?: number;
}

/** A final execution record as the history stores it. */
export function finishedRecord(spec: RecordSpec = {}): ExecutionRecord {
  const jobId = spec.jobId ?? 'job-a';
  const scheduledMs = BASE_MS + (spec.atMs ?? 0);
  let id = executionId(jobId, scheduledExecKey(scheduledMs));
  if (spec.shard !== undefined) id = shardExecutionId(id, spec.shard);
  if (spec.attempt !== undefined && spec.attempt > 1) id = retryExecutionId(id, spec.attempt);
  const finishedMs = BASE_MS + (spec.finishedAtMs ?? (spec.atMs ?? 0) + 1000);
  const startedMs = spec.lagMs === undefined ? undefined : scheduledMs + spec.lagMs;
  const status = spec.status ?? 'succeeded';
  return {
    id,
    jobId,
    jobName: `name of ${jobId}`,
    group: spec.group ?? 'default',
    target: 'demo.echo',
    params: { n: 1 },
    trigger: spec.trigger ?? (spec.attempt && spec.attempt > 1 ? 'retry' : 'schedule'),
    status,
    attempt: spec.attempt ?? 1,
    scheduledMs,
    scheduledAt: new Date(scheduledMs).toISOString(),
    firedAt: new Date(scheduledMs - 500).toISOString(),
    catchUp: false,
    firedBy: { node: 'node-1', token: 7 },
    timeoutMs: 0,
    ...(spec.worker !== undefined ? { worker: spec.worker } : {}),
    ...(startedMs !== undefined ? { startedAt: new Date(startedMs).toISOString() } : {}),
    finishedAt: new Date(finishedMs).toISOString(),
    ...(startedMs !== undefined ? { durationMs: finishedMs - startedMs } : {}),
    ...(spec.output !== undefined ? { output: spec.output } : {}),
    ...(spec.error !== undefined ? { error: spec.error } : {}),
    timeline: [{ status, at: new Date(finishedMs).toISOString(), node: 'node-1' }],
  };
}
