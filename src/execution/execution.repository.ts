import { Injectable } from '@nestjs/common';
import {
  Assignment,
  decodeAssignment,
  ExecutionRecord,
  executionKeyOf,
  Keyspace,
} from '@forest/protocol';
import { Compare, CoordinationStore, getMany, KeyValue, rangePages } from '@forest/store';
import { InjectStore } from '../store/store.tokens';
import { assignmentKeyOf, liveView, TxnPart } from './execution-ops';

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

  /**
   * Every live execution (of one job, with `jobId`): `executions/` holds only executions
   * that have not finished (and, for a few ms, finished ones on their way to the history).
   */
  async live(jobId?: string): Promise<ExecutionRecord[]> {
    return this.liveUnder(
      jobId === undefined ? Keyspace.executions : Keyspace.jobExecutions(jobId),
    );
  }

  /** Every live execution whose key starts with `prefix`. */
  async liveUnder(prefix: string): Promise<ExecutionRecord[]> {
    const records: ExecutionRecord[] = [];
    for await (const page of rangePages(this.store, prefix, { firstPageSize: EXECUTION_PAGE })) {
      for (const kv of page.kvs) {
        const stored = parseExecution(kv);
        if (stored) records.push(stored.record);
      }
    }
    return records;
  }

  /**
   * The records as their workers' inbox entries say they are (see liveView): a started
   * execution's record stays `assigned` until it finishes, so the entries are read beside.
   */
  async withInboxState(records: readonly ExecutionRecord[]): Promise<ExecutionRecord[]> {
    const keys = records.map((record) => assignmentKeyOf(record));
    if (keys.every((key) => key === undefined)) return [...records];
    const kvs = await getMany(this.store, keys);
    return records.map((record, i) => {
      const kv = kvs[i];
      if (!kv) return record;
      try {
        return liveView(record, decodeAssignment(kv.key, kv.value));
      } catch {
        return record; // an entry that does not decode: the record as stored
      }
    });
  }

  /** Commits like `commit`; the txn's revision when it succeeded, else undefined. */
  async commitAt(part: TxnPart, guards: Compare[] = []): Promise<number | undefined> {
    const result = await this.store.txn({
      compare: [...guards, ...part.compare],
      success: part.success,
    });
    return result.succeeded ? result.revision : undefined;
  }

  /** Commits `part` (from execution-ops) with `guards` in one txn; false if a compare failed. */
  async commit(part: TxnPart, guards: Compare[] = []): Promise<boolean> {
    const result = await this.store.txn({
      compare: [...guards, ...part.compare],
      success: part.success,
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
