import {
  AbortNotice,
  decodeExecution,
  ExecutionRecord,
  executionKeyOf,
  FINAL_EXECUTION_STATUSES,
  Keyspace,
} from '@forest/protocol';
import { CoordinationStore, getMany } from '@forest/store';

/** Longest `reason` of an abort notice (characters). */
const MAX_REASON_CHARS = 300;

/**
 * What the node's in-memory mirror of the inboxes says about one execution: true when it
 * is in the worker's inbox, false when not, undefined when the mirror is not in sync.
 * Only "true" is trusted on its own: the mirror lags the store, so an absence is confirmed
 * by a read before anything is aborted.
 */
export type InboxLookup = (executionId: string) => boolean | undefined;

/**
 * Which of the executions a worker says it holds are no longer its own, and why.
 *
 * An execution is the worker's while `assignments/{group}/{workerId}/{id}` exists: the
 * leader deletes that key in the same txn that moves the execution elsewhere, marks it
 * lost, times it out or cancels it. Ids the mirror holds cost nothing (the common case:
 * thousands of held ids and no read); the rest are confirmed with one batched read of
 * their assignment keys, and those confirmed absent get one batched read of their
 * execution records to say what became of them.
 */
export async function heldAbortNotices(
  store: CoordinationStore,
  group: string,
  workerId: string,
  held: readonly string[],
  inbox: InboxLookup,
  /** Finished executions leave the store for the history: it says what became of them. */
  fromHistory?: (ids: string[]) => Promise<ExecutionRecord[]>,
): Promise<AbortNotice[]> {
  const unsure = [...new Set(held)].filter((id) => inbox(id) !== true);
  if (unsure.length === 0) return [];
  const assignments = await getMany(
    store,
    unsure.map((id) => Keyspace.assignment(group, workerId, id)),
  );
  const gone = unsure.filter((_, i) => assignments[i] === undefined);
  if (gone.length === 0) return [];
  const keys = gone.map((id) => executionKeyOf(id));
  const records = await getMany(store, keys);
  const missing = gone.filter((_, i) => records[i] === undefined);
  const finished = new Map<string, ExecutionRecord>();
  if (missing.length > 0 && fromHistory) {
    for (const record of await fromHistory(missing)) finished.set(record.id, record);
  }
  const notices: AbortNotice[] = [];
  gone.forEach((executionId, i) => {
    const kv = records[i];
    if (!kv) {
      const record = finished.get(executionId);
      const notice = record
        ? noticeFor(record, workerId)
        : { executionId, status: 'not_found', reason: 'no such execution' };
      if (notice) notices.push(notice);
      return;
    }
    let record: ExecutionRecord;
    try {
      record = decodeExecution(kv.key, kv.value);
    } catch (error) {
      notices.push({
        executionId,
        status: 'unknown',
        reason: cut(`it is no longer assigned to worker ${workerId}; ${String(error)}`),
      });
      return;
    }
    const notice = noticeFor(record, workerId);
    if (notice) notices.push(notice);
  });
  return notices;
}

/**
 * The notice for an execution whose assignment key was gone, from its record read after
 * that. Undefined when the record says it is (again) assigned to this very worker: the two
 * reads are not one snapshot, so the key may have come back in between; the next
 * heartbeat looks again.
 */
function noticeFor(record: ExecutionRecord, workerId: string): AbortNotice | undefined {
  const executionId = record.id;
  if (FINAL_EXECUTION_STATUSES.includes(record.status)) {
    return { executionId, status: record.status, reason: finalReason(record) };
  }
  if (record.status === 'pending') {
    return {
      executionId,
      status: 'moved',
      reason: `taken back from worker ${workerId}; waiting for a worker again`,
    };
  }
  if (record.worker === workerId) return undefined;
  return {
    executionId,
    status: 'moved',
    reason: record.worker
      ? `assigned to worker ${record.worker} now`
      : `no longer assigned to worker ${workerId}`,
  };
}

function finalReason(record: ExecutionRecord): string {
  const line = firstLine(record.error) ?? firstLine(record.cancelledBy?.reason);
  if (line) return cut(line);
  if (record.status === 'cancelled' && record.cancelledBy) {
    const by = record.cancelledBy.by ? ` by ${record.cancelledBy.by}` : '';
    return `cancelled (${record.cancelledBy.kind})${by}`;
  }
  return `the execution is ${record.status}`;
}

function firstLine(text: string | undefined): string | undefined {
  const line = text?.split('\n', 1)[0].trim();
  return line ? line : undefined;
}

function cut(text: string): string {
  return text.length <= MAX_REASON_CHARS ? text : `${text.slice(0, MAX_REASON_CHARS - 1)}…`;
}
