import { ExecutionRecord } from '@forest/protocol';
import { Compare, TxnOp } from '@forest/store';
import {
  ExecutionState,
  finishOps,
  fitsOneTxn,
  joinParts,
  requeueOps,
  TxnPart,
} from '../execution/execution-ops';
import { isFinal } from '../execution/execution-record';

/** One execution a gone worker held, as read: its record, its assignment, its job's marker. */
export interface HeldExecution {
  id: string;
  state: ExecutionState;
}

/** The writes of one recovery txn, and what they do. */
export interface RecoveryTxn {
  compare: Compare[];
  success: TxnOp[];
  /** Unstarted executions moved back to `pending/`. */
  moved: number;
  /** Running executions marked `lost`, as written, each with the retry it created. */
  lost: { execution: ExecutionRecord; retry?: ExecutionRecord }[];
  /** Held executions that did not fit this txn: recover them in another. */
  left: string[];
}

/**
 * The compares and ops that take a gone worker's executions back (the fence is added by
 * fencedTxn), built by execution-ops: an unstarted execution goes back to `pending/`
 * (`requeueOps`); a running one ends `lost` (`finishOps`: retried when its policy has
 * attempts left, its job's marker released or handed to the retry); an inbox entry whose
 * execution is gone or final is deleted. Every key is compared to what was read, so a
 * report racing the recovery makes the txn fail and be read again.
 */
export function recoveryOps(
  workerId: string,
  held: HeldExecution[],
  now: number,
  node: string,
  token: number,
): RecoveryTxn {
  const parts: TxnPart[] = [];
  const lost: RecoveryTxn['lost'] = [];
  const left: string[] = [];
  let moved = 0;
  for (const { id, state } of held) {
    const assignment = state.assignment;
    if (!assignment) continue; // finished, or never committed (a reservation)
    const execution = state.execution;
    let part: TxnPart;
    let lostOne: RecoveryTxn['lost'][number] | undefined;
    if (!execution || isFinal(execution.record.status)) {
      part = {
        compare: [
          { key: assignment.key, target: 'modRevision', op: '==', value: assignment.modRevision },
        ],
        success: [{ type: 'delete', key: assignment.key }],
      };
    } else if (assignment.assignment.state === 'running' || execution.record.status === 'running') {
      const finish = finishOps(state, 'lost', now, node, {
        worker: workerId,
        error: `worker ${workerId} was lost (its lease expired) while running this execution`,
        token,
      });
      part = finish;
      lostOne = { execution: finish.finished, ...(finish.retry ? { retry: finish.retry } : {}) };
    } else {
      part = requeueOps(execution, assignment, now, node);
    }
    if (!fitsOneTxn([...parts, part])) {
      left.push(id);
      continue;
    }
    parts.push(part);
    if (lostOne) lost.push(lostOne);
    else if (execution && !isFinal(execution.record.status)) moved++;
  }
  const { compare, success } = joinParts(parts);
  return { compare, success, moved, lost, left };
}
