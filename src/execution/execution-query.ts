import {
  ExecutionRecord,
  ExecutionStatus,
  ExecutionTrigger,
  Keyspace,
  parseExecutionId,
  scheduledExecKey,
} from '@forest/protocol';
import { isValidKeySegment } from '@forest/store';

/**
 * Pure pieces of the executions query: filters, where a key range starts, the cursor.
 * Executions are listed in key order, which is oldest first within a job (keys start with
 * the scheduled time, zero-padded) and by job id across jobs.
 */

export interface ExecutionFilters {
  jobId?: string;
  group?: string;
  status?: ExecutionStatus;
  worker?: string;
  trigger?: ExecutionTrigger;
  /** Inclusive bounds on the scheduled time (epoch ms). */
  fromMs?: number;
  toMs?: number;
}

export function matchesFilters(record: ExecutionRecord, filters: ExecutionFilters): boolean {
  return (
    (filters.jobId === undefined || record.jobId === filters.jobId) &&
    (filters.group === undefined || record.group === filters.group) &&
    (filters.status === undefined || record.status === filters.status) &&
    (filters.worker === undefined || record.worker === filters.worker) &&
    (filters.trigger === undefined || record.trigger === filters.trigger) &&
    (filters.fromMs === undefined || record.scheduledMs >= filters.fromMs) &&
    (filters.toMs === undefined || record.scheduledMs <= filters.toMs)
  );
}

/** The epoch ms an execution key starts with (15 digits), or undefined for another shape. */
export function execKeyTimeMs(execKey: string): number | undefined {
  const match = /^(\d{15})(?:-|$)/.exec(execKey);
  return match ? Number(match[1]) : undefined;
}

/** `executions/{jobId}/{execKey}` split into its parts, or undefined for another shape. */
export function parseExecutionKey(key: string): { jobId: string; execKey: string } | undefined {
  if (!key.startsWith(Keyspace.executions)) return undefined;
  const rest = key.slice(Keyspace.executions.length);
  const slash = rest.indexOf('/');
  if (slash <= 0 || slash === rest.length - 1) return undefined;
  return { jobId: rest.slice(0, slash), execKey: rest.slice(slash + 1) };
}

/**
 * The `after` key that starts a range of the job's executions at the first one keyed at
 * `fromMs` or later. Keys are `{15-digit ms}` or `{15-digit ms}-{suffix}`; `~` sorts
 * after every character a suffix may hold (key-segment characters; `~` itself separates
 * execution ids, so no key contains it), so every key of an earlier millisecond is at or
 * before the returned key and every key of `fromMs` or later is after it.
 */
export function firstKeyAfter(jobId: string, fromMs: number): string | undefined {
  if (fromMs <= 0) return undefined;
  return `${Keyspace.jobExecutions(jobId)}${scheduledExecKey(fromMs - 1)}~`;
}

/**
 * The smallest string after every key under `executions/{jobId}/`: an `after` that skips
 * to the next job. (`0` is the character after `/`; no execution key is `executions/{jobId}0`.)
 */
export function afterJob(jobId: string): string {
  return `${Keyspace.executions}${jobId}0`;
}

/** The later of two optional `after` keys. */
export function laterKey(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return a > b ? a : b;
}

export type ExecutionOrder = 'asc' | 'desc';

/** Cursors of the two orders differ, so one is never read as the other. */
const CURSOR_VERSION: Record<ExecutionOrder, string> = { asc: 'e1', desc: 'e2' };

/**
 * An opaque continuation. Oldest first: the last key a page examined (the next page
 * starts after it). Newest first: the key every item of the next page sorts before; a
 * bound equal to `executions/{jobId}/` means that job is done (go on with the next one).
 */
export function encodeCursor(key: string, order: ExecutionOrder = 'asc'): string {
  return Buffer.from(`${CURSOR_VERSION[order]}:${key}`, 'utf8').toString('base64url');
}

/**
 * The key a cursor continues after, or undefined when the string is not a cursor this
 * API made for a range under `prefix` (a cursor from an all-jobs listing is not valid
 * with another jobId, and no cursor reaches outside `executions/`).
 */
export function decodeCursor(
  cursor: string,
  prefix: string,
  order: ExecutionOrder = 'asc',
): string | undefined {
  if (!/^[A-Za-z0-9_-]{1,700}$/.test(cursor)) return undefined;
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const head = `${CURSOR_VERSION[order]}:`;
  if (!text.startsWith(head)) return undefined;
  const key = text.slice(head.length);
  return key.startsWith(prefix) && key.length > prefix.length ? key : undefined;
}

/** An execution id the API accepts: `{jobId}~{execKey}`, both key segments. */
export function isValidExecutionId(id: string): boolean {
  const parts = parseExecutionId(id);
  return parts !== undefined && isValidKeySegment(parts.jobId) && isValidKeySegment(parts.execKey);
}
