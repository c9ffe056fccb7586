import { JobStateRecord } from './execution.types';
import { scheduledExecKey } from './keyspace';

/**
 * `jobstate/{jobId}` is the job's fire fence. Its value starts with the zero-padded
 * latest scheduled time fired (`{"fence":"001795485570000",...`), so a txn can ask the
 * store "has this job fired at or after T?" with one byte-wise value compare:
 * `value < fenceBelow(T)` holds exactly when every fire written so far is earlier than T.
 * Every fire txn carries that compare. That, not the existence of the execution's key, is
 * what makes a fire exactly-once: finished executions leave the store for the history,
 * so an execution key may be gone while its fire must still never be written again.
 */
export function encodeJobState(state: Omit<JobStateRecord, 'fence'>): string {
  // Key order matters: `fence` must come first for the value compare.
  const record: JobStateRecord = {
    fence: scheduledExecKey(state.lastScheduledMs),
    jobId: state.jobId,
    lastScheduledMs: state.lastScheduledMs,
    lastFiredAt: state.lastFiredAt,
    node: state.node,
  };
  return JSON.stringify(record);
}

/**
 * The value every fenced jobstate sorts below exactly when its latest fire is earlier
 * than `scheduledMs`. Equal times: the stored value continues past this string (`",...`),
 * so it sorts after it and the compare fails, as it must.
 */
export function fenceBelow(scheduledMs: number): string {
  return `{"fence":"${scheduledExecKey(scheduledMs)}"`;
}

/** True when a stored jobstate value carries the fence (written by this version or later). */
export function isFencedJobState(value: string): boolean {
  return value.startsWith('{"fence":"');
}
