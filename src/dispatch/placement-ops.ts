import { ExecutionRecord, Keyspace, shardExecutionId } from '@forest/protocol';
import { Compare, KeyValue, TxnOp } from '@forest/store';
import { assignOps, createOps, fitsOneTxn, joinParts, TxnPart } from '../execution/execution-ops';
import { PendingItem } from './dispatch-state';

/** One execution the drain will assign: to one worker, or fanned out as shards. */
export interface Placement {
  item: PendingItem;
  /** The execution record as read, and its key. */
  kv: KeyValue;
  record: ExecutionRecord;
  /** One worker, or one per shard (shard i goes to workerIds[i]). */
  workerIds: string[];
}

/** The writes of one drain txn, and which placements fit in it. */
export interface PlacementTxn {
  compare: Compare[];
  success: TxnOp[];
  included: Placement[];
  /** Past the txn's op budget: not written now. */
  deferred: Placement[];
}

/**
 * The compares and ops of one drain txn (the fence is added by fencedTxn): deletes the
 * stale pending entries, and moves each placement from `pending/` to its workers' inboxes
 * (execution-ops `assignOps`), each compared to what was read. A broadcast writes one
 * record per shard, shard i > 0 at its own id, created only if absent (`createOps`).
 * Placements that would pass the op budget are deferred.
 */
export function placementOps(
  group: string,
  stale: PendingItem[],
  placements: Placement[],
  now: number,
  node: string,
): PlacementTxn {
  const parts: TxnPart[] = [];
  const pendingGuard = (item: PendingItem): Compare => ({
    key: Keyspace.pendingExecution(group, item.entry.executionId),
    target: 'modRevision',
    op: '==',
    value: item.modRevision,
  });
  for (const item of stale) {
    const guard = pendingGuard(item);
    parts.push({ compare: [guard], success: [{ type: 'delete', key: guard.key }] });
  }
  const included: Placement[] = [];
  const deferred: Placement[] = [];
  for (const placement of placements) {
    const { item, kv, record, workerIds } = placement;
    const shards = workerIds.length;
    const placed: TxnPart[] = [{ compare: [pendingGuard(item)], success: [] }];
    workerIds.forEach((workerId, index) => {
      // A fan-out numbers its shards; a shard placed again keeps its own number.
      if (shards === 1 || index === 0) {
        const base = shards === 1 ? record : { ...record, shard: { index, total: shards } };
        placed.push(
          assignOps(
            { record: base, key: kv.key, modRevision: kv.modRevision },
            workerId,
            now,
            node,
          ),
        );
      } else {
        const shard: ExecutionRecord = {
          ...record,
          id: shardExecutionId(record.id, index),
          shard: { index, total: shards },
        };
        placed.push(createOps(shard, { workerId, nowMs: now, node }));
      }
    });
    // One compare of the budget is the fence's.
    if (!fitsOneTxn([...parts, ...placed])) {
      deferred.push(placement);
      continue;
    }
    included.push(placement);
    parts.push(...placed);
  }
  const { compare, success } = joinParts(parts);
  return { compare, success, included, deferred };
}
