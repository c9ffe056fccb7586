import { ExecutionRecord, WorkerRecord } from '@forest/protocol';

/**
 * What the dispatcher announces (on the leader) for others to act on — alerting turns
 * them into alerts. Typed events keep the dispatcher unaware of who listens.
 */
export type DispatchEvent =
  /** A worker vanished without saying goodbye (its lease expired). */
  | { type: 'worker_lost'; worker: WorkerRecord; held: number }
  /** An execution was running on a worker that was lost. */
  | { type: 'execution_lost'; execution: ExecutionRecord }
  /** An execution has waited for a worker longer than FOREST_ALERT_NO_WORKER_MS. */
  | {
      type: 'no_worker';
      executionId: string;
      jobId: string;
      group: string;
      target: string;
      since: string;
      reason: string;
    };
