import { ExecutionRecord, JobDispatch } from '@forest/protocol';
import { DispatchWorker } from '@forest/plugin-api';
import { DecisionInput } from '../plugins/dispatch-strategies.service';
import { FiringJob } from './fire-placement';
import { WorkerPool } from './worker-pool';

/** Strategy name of records written before strategies were plugins. */
const DEFAULT_STRATEGY = 'round-robin';

/** The group's workers for `target` as strategies see them. */
export function offeredWorkers(pool: WorkerPool, group: string, target: string): DispatchWorker[] {
  return pool.eligible(group, target).map((w) => ({
    id: w.record.id,
    group: w.record.group,
    host: w.record.host,
    labels: w.record.labels,
    capacity: w.record.capacity,
    load: w.inbox.size,
    running: w.running,
    free: Math.max(0, w.record.capacity - w.inbox.size),
    registeredAt: w.record.registeredAt,
  }));
}

/** What a strategy is asked for a fire the planner is writing (always attempt 1). */
export function fireDecisionInput(
  job: FiringJob,
  executionId: string,
  scheduledMs: number,
  workers: DispatchWorker[],
): DecisionInput {
  return {
    job: {
      id: job.jobId,
      name: job.name,
      group: job.group,
      target: job.target,
      params: job.params,
    },
    execution: {
      id: executionId,
      jobId: job.jobId,
      trigger: 'schedule',
      attempt: 1,
      scheduledMs,
      params: job.params,
    },
    workers,
    options: job.dispatch.options,
  };
}

/** The strategy of a stored execution, and what it is asked for it. */
export function pendingDecisionInput(
  record: ExecutionRecord,
  group: string,
  workers: DispatchWorker[],
): { strategy: string; input: DecisionInput } {
  const dispatch: JobDispatch = record.dispatch ?? { strategy: DEFAULT_STRATEGY, options: {} };
  return {
    strategy: dispatch.strategy,
    input: {
      job: {
        id: record.jobId,
        name: record.jobName,
        group,
        target: record.target,
        params: record.params,
      },
      execution: {
        id: record.id,
        jobId: record.jobId,
        trigger: record.trigger,
        attempt: record.attempt,
        scheduledMs: record.scheduledMs,
        params: record.params,
        ...(record.shard ? { shard: record.shard } : {}),
      },
      workers,
      options: dispatch.options ?? {},
    },
  };
}
