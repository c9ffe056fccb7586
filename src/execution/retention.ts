import { ExecutionStatus } from '@forest/protocol';
import { isFinal } from './execution-record';

/**
 * Which finished executions retention deletes: the pure decision, apart from the store.
 *
 * Per job: every finished execution that finished before the age cutoff, and finished
 * executions beyond the newest `keepPerJob` (newest = latest key: keys start with the
 * scheduled time). Executions that are not finished (pending, assigned, running) are
 * never deleted and do not count against the cap.
 */

export interface RetentionPolicy {
  /** Finished executions kept per job, newest first. */
  keepPerJob: number;
  /** Finished executions that finished before this (epoch ms) are deleted. */
  cutoffMs: number;
}

/** What retention needs to know of one stored execution. */
export interface RetentionEntry {
  key: string;
  modRevision: number;
  status: ExecutionStatus;
  /** ISO time it finished (set on every final status by `transition`). */
  finishedAt?: string;
}

export type DeleteReason = 'count' | 'age';

export interface RetentionDecision {
  key: string;
  /** The revision it was read at: the delete is guarded by it. */
  modRevision: number;
  reason: DeleteReason;
}

/**
 * One job's executions streamed oldest key first, in any number of pages: each `add`
 * returns what that entry makes deletable. It holds only the newest `keepPerJob`
 * finished keys seen so far (the window), never the records, so a job of any size is
 * decided in O(keepPerJob) memory: when a finished entry pushes the window past the cap,
 * the oldest one in it can never again be among the newest `keepPerJob`.
 */
export class JobRetentionWindow {
  private readonly window: RetentionEntry[] = [];
  private head = 0;

  constructor(private readonly policy: RetentionPolicy) {}

  add(entry: RetentionEntry): RetentionDecision[] {
    if (!isFinal(entry.status)) return [];
    const finishedMs = entry.finishedAt === undefined ? NaN : Date.parse(entry.finishedAt);
    // An unreadable finishedAt is never old enough; such an entry still counts for the cap.
    if (finishedMs < this.policy.cutoffMs) return [decision(entry, 'age')];
    this.window.push(entry);
    if (this.window.length - this.head <= this.policy.keepPerJob) return [];
    const oldest = this.window[this.head++];
    if (this.head >= 1024 && this.head * 2 >= this.window.length) {
      this.window.splice(0, this.head);
      this.head = 0;
    }
    return [decision(oldest, 'count')];
  }

  /** Finished entries currently kept (at most keepPerJob). */
  get kept(): number {
    return this.window.length - this.head;
  }
}

function decision(entry: RetentionEntry, reason: DeleteReason): RetentionDecision {
  return { key: entry.key, modRevision: entry.modRevision, reason };
}

/** The whole decision for one job's entries (in key order): what to delete, and why. */
export function decideRetention(
  entries: readonly RetentionEntry[],
  policy: RetentionPolicy,
): RetentionDecision[] {
  const window = new JobRetentionWindow(policy);
  return entries.flatMap((entry) => window.add(entry));
}

/**
 * Whether the rest of a job's executions can be skipped: with no more keys than the cap
 * nothing is over it, and once keys reach the age cutoff none after them can be too old,
 * because an execution finishes after the time its key starts with (its scheduled time,
 * or its creation time for manual triggers and retries).
 */
export function canStopScanning(
  totalKeys: number,
  keyTimeMs: number | undefined,
  policy: RetentionPolicy,
): boolean {
  return totalKeys <= policy.keepPerJob && keyTimeMs !== undefined && keyTimeMs >= policy.cutoffMs;
}
