import { Injectable } from '@nestjs/common';
import { Assignment, ExecutionRecord, executionKeyOf, Keyspace } from '@forest/protocol';
import {
  Compare,
  CoordinationStore,
  getMany,
  KeyValue,
  RangeResult,
  TxnRequest,
} from '@forest/store';
import { NewestFirstPage, NewestFirstQuery, readNewestFirst } from '../common/newest-first';
import { InjectStore } from '../store/store.tokens';
import { TxnPart } from './execution-ops';
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

  /** Reads keys in one round trip per 128, in order (see getMany). */
  read(keys: readonly (string | undefined)[]): Promise<(KeyValue | undefined)[]> {
    return getMany(this.store, keys);
  }

  /** The job's concurrency marker, if any execution holds it. */
  marker(jobId: string): Promise<KeyValue | undefined> {
    return this.store.get(Keyspace.activeExecution(jobId));
  }

  /** Commits `part` (from execution-ops) with `guards` in one txn; false if a compare failed. */
  async commit(part: TxnPart, guards: Compare[] = []): Promise<boolean> {
    const result = await this.store.txn({
      compare: [...guards, ...part.compare],
      success: part.success,
    });
    return result.succeeded;
  }

  /** One page of keys under `prefix` strictly after `after`, ascending. */
  page(prefix: string, after: string | undefined, limit: number): Promise<RangeResult> {
    return this.store.range(prefix, { after, limit });
  }

  /** Records under a time-keyed prefix newest first (see readNewestFirst). */
  newestFirst<T>(query: NewestFirstQuery<T>): Promise<NewestFirstPage<T>> {
    return readNewestFirst(this.store, query);
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
