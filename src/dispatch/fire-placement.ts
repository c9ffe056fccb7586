import { ConcurrencyPolicy, JobDispatch, JobRetry } from '@forest/protocol';

/*
 * The contract between the planner (which writes fires) and dispatch (which places them on
 * workers). It lives on the dispatch side so that the planner depends on dispatch and never
 * the other way round.
 */

/** The job fields an execution record copies at fire time. */
export interface FiringJob {
  jobId: string;
  name: string;
  group: string;
  target: string;
  params: unknown;
  timeoutMs: number;
  dispatch: JobDispatch;
  retry: JobRetry;
  concurrency: ConcurrencyPolicy;
}

/** Nest token under which the dispatch module provides the FirePlacement. */
export const FIRE_PLACEMENT = Symbol('FIRE_PLACEMENT');

/**
 * Where a new execution goes: the dispatcher picks a live worker with a free slot and
 * reserves it, so the fire txn writes the assignment directly (one txn from fire to a
 * worker's inbox). Without one, the execution waits in `pending/` for the dispatcher.
 */
export interface FirePlacement {
  /** A worker id with a slot now reserved for `executionId`, or undefined. */
  place(job: FiringJob, executionId: string, scheduledMs: number): string | undefined;
  /** Gives back a slot place() reserved whose execution was not created. */
  release(group: string, workerId: string, executionId: string): void;
}
