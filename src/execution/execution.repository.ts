import { Injectable } from '@nestjs/common';
import {
  Assignment,
  ExecutionRecord,
  executionKeyOf,
  Keyspace,
  parseExecutionId,
} from '@forest/protocol';
import { Compare, CoordinationStore, KeyValue, RangeResult, TxnRequest } from '@forest/store';
import { InjectStore } from '../store/store.tokens';
import { pendingEntry } from './execution-record';
import { RetentionDecision } from './retention';

export interface StoredExecution {
  record: ExecutionRecord;
  key: string;
  modRevision: number;
}

export interface StoredAssignment {
  assignment: Assignment;
  key: string;
  modRevision: number;
}

export type CreateOutcome = 'ok' | 'key-taken' | 'job-changed';

/**
 * Keys per range page when reading execution records. Records carry params, output and
 * error of up to 64 KiB each, and the etcd client refuses a response over 4 MiB (gRPC's
 * default), so pages stay small; a page of typical (1-2 KiB) records is still one cheap call.
 */
export const EXECUTION_PAGE = 16;

/** Most deletes per retention txn: under etcd's 128 ops, with the compares beside them. */
export const MAX_DELETES_PER_TXN = 100;

/** Store I/O for execution records and the pending/assignment keys that go with them. */
@Injectable()
export class ExecutionRepository {
  constructor(@InjectStore() private readonly store: CoordinationStore) {}

  /** The execution with this id (the id must be well formed). */
  async get(id: string): Promise<StoredExecution | undefined> {
    const key = executionKeyOf(id);
    return key === undefined ? undefined : parseExecution(await this.store.get(key));
  }

  async getAssignment(
    group: string,
    workerId: string,
    executionId: string,
  ): Promise<StoredAssignment | undefined> {
    const kv = await this.store.get(Keyspace.assignment(group, workerId, executionId));
    if (!kv) return undefined;
    return {
      assignment: JSON.parse(kv.value) as Assignment,
      key: kv.key,
      modRevision: kv.modRevision,
    };
  }

  /**
   * Creates a pending execution and its `pending/` entry in one txn, if its key is free
   * and its job is still at `jobVersion` (so it was made from the job as it is).
   */
  async createPending(record: ExecutionRecord, jobVersion: number): Promise<CreateOutcome> {
    const key = keyOf(record);
    const jobKey = Keyspace.job(record.jobId);
    const result = await this.store.txn({
      compare: [
        { key, target: 'createRevision', op: '==', value: 0 },
        { key: jobKey, target: 'version', op: '==', value: jobVersion },
      ],
      success: [
        { type: 'put', key, value: JSON.stringify(record) },
        {
          type: 'put',
          key: Keyspace.pendingExecution(record.group, record.id),
          value: JSON.stringify(pendingEntry(record, record.firedAt)),
        },
      ],
      failure: [{ type: 'get', key }],
    });
    if (result.succeeded) return 'ok';
    const existing = result.results[0];
    return existing.type === 'get' && existing.kv ? 'key-taken' : 'job-changed';
  }

  /**
   * Replaces a pending execution by `next` and removes its `pending/` entry, if the record
   * is unchanged since it was read (a dispatch in between changes it).
   */
  async finishPending(current: StoredExecution, next: ExecutionRecord): Promise<boolean> {
    const { record } = current;
    return this.replace(current, next, [], [Keyspace.pendingExecution(record.group, record.id)]);
  }

  /**
   * Replaces an assigned execution by `next` and removes its assignment, if neither changed
   * since they were read (a worker's `running` report changes both; a reassignment, the
   * record). `assignment` undefined: there was none, and there still must be none.
   */
  async finishAssigned(
    current: StoredExecution,
    next: ExecutionRecord,
    workerId: string,
    assignment: StoredAssignment | undefined,
  ): Promise<boolean> {
    const key = Keyspace.assignment(current.record.group, workerId, current.record.id);
    const guard: Compare = assignment
      ? { key, target: 'modRevision', op: '==', value: assignment.modRevision }
      : { key, target: 'createRevision', op: '==', value: 0 };
    return this.replace(current, next, [guard], [key]);
  }

  /** One page of keys under `prefix` strictly after `after`, ascending. */
  page(prefix: string, after: string | undefined, limit: number): Promise<RangeResult> {
    return this.store.range(prefix, { after, limit });
  }

  /**
   * The txn that deletes decided executions, each only if it is still as it was read
   * (finished records never change, so a refusal means something unexpected rewrote it).
   */
  deletionTxn(decisions: readonly RetentionDecision[]): TxnRequest {
    if (decisions.length > MAX_DELETES_PER_TXN) {
      throw new Error(`at most ${MAX_DELETES_PER_TXN} deletes per txn, got ${decisions.length}`);
    }
    return {
      compare: decisions.map(({ key, modRevision }) => ({
        key,
        target: 'modRevision',
        op: '==',
        value: modRevision,
      })),
      success: decisions.map(({ key }) => ({ type: 'delete', key })),
    };
  }

  private async replace(
    current: StoredExecution,
    next: ExecutionRecord,
    guards: Compare[],
    deletes: string[],
  ): Promise<boolean> {
    const result = await this.store.txn({
      compare: [
        { key: current.key, target: 'modRevision', op: '==', value: current.modRevision },
        ...guards,
      ],
      success: [
        { type: 'put', key: current.key, value: JSON.stringify(next) },
        ...deletes.map((key) => ({ type: 'delete' as const, key })),
      ],
    });
    return result.succeeded;
  }
}

/** A stored execution, or undefined for an absent key or a value that is not one. */
export function parseExecution(kv: KeyValue | undefined): StoredExecution | undefined {
  if (!kv) return undefined;
  try {
    const record = JSON.parse(kv.value) as ExecutionRecord;
    if (typeof record !== 'object' || record === null || typeof record.status !== 'string') {
      return undefined;
    }
    return { record, key: kv.key, modRevision: kv.modRevision };
  } catch {
    return undefined;
  }
}

function keyOf(record: ExecutionRecord): string {
  const parts = parseExecutionId(record.id);
  if (!parts) throw new Error(`malformed execution id ${record.id}`);
  return Keyspace.execution(parts.jobId, parts.execKey);
}
