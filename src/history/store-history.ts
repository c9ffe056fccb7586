import {
  decodeExecution,
  ExecutionRecord,
  FINAL_EXECUTION_STATUSES,
  Keyspace,
  parseExecutionId,
  scheduledExecKey,
} from '@forest/protocol';
import { Compare, CoordinationStore, getMany, KeyValue, rangeAll, TxnOp } from '@forest/store';
import { readNewestFirst } from '../common/newest-first';
import { matchesHistoryFilters, matchesNothing } from './history-filters';
import { StatsAccumulator } from './history-stats';
import {
  ExecutionHistory,
  HistoryPage,
  HistoryQuery,
  HistoryRetention,
  historySortKey,
  HistoryStatsBucket,
  HistoryStatsQuery,
  PruneReport,
} from './history.port';
import { StoreHistoryIndex } from './store-history-index';

/** Keys one list call reads at most: no request reads the whole history. */
export const HISTORY_SCAN_BUDGET = 2_000;
/** Records per append txn: a compare and a put each, under etcd's 128 ops per branch. */
const APPENDS_PER_TXN = 100;
/** Deletes per retention txn (a compare and a delete each). */
const DELETES_PER_TXN = 100;
/** An append txn refused this often in a row (records deleted while it retried) gives up. */
const APPEND_ATTEMPTS = 5;
const RANGE_PAGE = 256;
/** Sorts after every character of an execution id (`[A-Za-z0-9._~-]`). */
const AFTER_ID = '\x7f';

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Execution history in the coordination store: each final record under
 * `history/{sortKey}` (Keyspace.historyEntry), written once (create-if-absent).
 * For the embedded single node and small clusters; with etcd, retention also holds it
 * under a size budget (FOREST_HISTORY_STORE_MAX_MB) so history can never fill etcd's quota.
 *
 * Paging reads at most HISTORY_SCAN_BUDGET keys per call: a filter that matches few records
 * (one job, a status, a text) can answer a short page, even an empty one, that still
 * carries `next`; the caller goes on from there. `next` is then either the sort key of the
 * page's last item or a bare time boundary (15 digits) every unread record sorts beyond.
 * The fire's attempts (attemptsOf) are one narrow key range and are always read whole.
 *
 * Retention (leader only) works from an in-memory index of the stored records (see
 * StoreHistoryIndex), so a pass reads no records once the index is warm.
 */
export class StoreHistory implements ExecutionHistory {
  readonly kind = 'store';
  private readonly index: StoreHistoryIndex;
  private pruning?: Promise<PruneReport>;

  constructor(private readonly store: CoordinationStore) {
    this.index = new StoreHistoryIndex(store);
  }

  appendOps(record: ExecutionRecord): { compare: Compare[]; success: TxnOp[] } {
    assertFinal(record);
    const key = historyKey(record.id);
    return {
      compare: [{ key, target: 'createRevision', op: '==', value: 0 }],
      success: [{ type: 'put', key, value: JSON.stringify(record) }],
    };
  }

  async append(records: readonly ExecutionRecord[]): Promise<void> {
    const firstCopies = new Map<string, ExecutionRecord>();
    for (const record of records) {
      assertFinal(record);
      if (!firstCopies.has(record.id)) firstCopies.set(record.id, record);
    }
    const unique = [...firstCopies.values()];
    for (let start = 0; start < unique.length; start += APPENDS_PER_TXN) {
      await this.appendChunk(unique.slice(start, start + APPENDS_PER_TXN));
    }
  }

  async get(id: string): Promise<ExecutionRecord | undefined> {
    if (!parseExecutionId(id)) return undefined;
    const kv = await this.store.get(historyKey(id));
    return kv && decodeRecord(kv);
  }

  async getMany(ids: readonly string[]): Promise<ExecutionRecord[]> {
    const keys = ids.map((id) => (parseExecutionId(id) ? historyKey(id) : undefined));
    const found = await getMany(this.store, keys);
    return found.flatMap((kv) => {
      const record = kv && decodeRecord(kv);
      return record ? [record] : [];
    });
  }

  async list(query: HistoryQuery): Promise<HistoryPage> {
    if (matchesNothing(query)) return { items: [] };
    if (query.attemptsOf !== undefined) return this.listAttempts(query);
    return query.order === 'asc' ? this.listOldestFirst(query) : this.listNewestFirst(query);
  }

  prune(policy: HistoryRetention): Promise<PruneReport> {
    // One pass at a time; a second caller shares the running one.
    this.pruning ??= this.prunePass(policy).finally(() => (this.pruning = undefined));
    return this.pruning;
  }

  /**
   * Reads the records whose key time is in the window (keys are time-ordered, so this is
   * one range from the window's start) and buckets them by finish time. A record whose key
   * time is before the window (a run that started earlier and finished inside it) is not
   * counted.
   */
  async stats(query: HistoryStatsQuery): Promise<HistoryStatsBucket[]> {
    const stats = new StatsAccumulator(query);
    const end = `${Keyspace.history}${scheduledExecKey(query.toMs)}`;
    let after: string | undefined = timeBoundary(query.fromMs - 1);
    for (;;) {
      const page = await this.store.range(Keyspace.history, { after, limit: RANGE_PAGE });
      for (const kv of page.kvs) {
        if (kv.key >= end) return stats.result();
        const record = decodeRecord(kv);
        if (record) stats.add(record);
      }
      if (!page.more || page.next === undefined) return stats.result();
      after = page.next;
      await yieldToEventLoop();
    }
  }

  async close(): Promise<void> {
    await this.pruning?.catch(() => undefined);
    await this.index.close();
  }

  private async appendChunk(chunk: ExecutionRecord[]): Promise<void> {
    let left = chunk;
    for (let attempt = 1; left.length > 0; attempt++) {
      const ops = left.map((record) => this.appendOps(record));
      const result = await this.store.txn({
        compare: ops.flatMap((op) => op.compare),
        success: ops.flatMap((op) => op.success),
      });
      if (result.succeeded) return;
      // Some ids are stored already (the first copy wins): append the others.
      const stored = await getMany(
        this.store,
        left.map((record) => historyKey(record.id)),
      );
      left = left.filter((_, index) => stored[index] === undefined);
      if (left.length > 0 && attempt >= APPEND_ATTEMPTS) {
        throw new Error(`history append refused ${attempt} times in a row`);
      }
    }
  }

  private async listNewestFirst(query: HistoryQuery): Promise<HistoryPage> {
    const page = await readNewestFirst(this.store, {
      prefix: Keyspace.history,
      limit: query.limit,
      budget: HISTORY_SCAN_BUDGET,
      bound: query.before === undefined ? undefined : Keyspace.historyEntry(query.before),
      fromMs: query.fromMs,
      toMs: query.toMs,
      decode: decodeRecord,
      accept: (record) => matchesHistoryFilters(record, query),
    });
    return {
      items: page.items,
      ...(page.next !== undefined ? { next: page.next.slice(Keyspace.history.length) } : {}),
    };
  }

  private async listOldestFirst(query: HistoryQuery): Promise<HistoryPage> {
    const items: ExecutionRecord[] = [];
    const end = query.toMs === undefined ? undefined : timeBoundary(query.toMs);
    let after =
      query.before !== undefined
        ? Keyspace.historyEntry(query.before)
        : query.fromMs !== undefined
          ? timeBoundary(query.fromMs - 1)
          : undefined;
    let scanned = 0;
    for (;;) {
      const limit = Math.min(RANGE_PAGE, HISTORY_SCAN_BUDGET - scanned);
      const page = await this.store.range(Keyspace.history, { after, limit });
      for (const kv of page.kvs) {
        if (end !== undefined && kv.key > end) return { items };
        scanned++;
        const record = decodeRecord(kv);
        if (record && matchesHistoryFilters(record, query)) {
          items.push(record);
          if (items.length >= query.limit) return { items, next: sortKeyOf(kv) };
        }
      }
      if (!page.more || page.next === undefined) return { items };
      after = page.next;
      if (scanned >= HISTORY_SCAN_BUDGET) return { items, next: sortKeyOf(page.kvs.at(-1)!) };
    }
  }

  /** A fire's attempts (and its shards'): one narrow range, read whole and filtered. */
  private async listAttempts(query: HistoryQuery): Promise<HistoryPage> {
    const prefix = Keyspace.historyEntry(historySortKey(query.attemptsOf!));
    const before = query.before === undefined ? undefined : Keyspace.historyEntry(query.before);
    const descending = query.order !== 'asc';
    const kvs = (await rangeAll(this.store, prefix)).filter(
      (kv) => before === undefined || (descending ? kv.key < before : kv.key > before),
    );
    if (descending) kvs.reverse();
    const items: ExecutionRecord[] = [];
    for (const kv of kvs) {
      const record = decodeRecord(kv);
      if (!record || !matchesHistoryFilters(record, query)) continue;
      if (items.length === query.limit) return { items, next: historySortKey(items.at(-1)!.id) };
      items.push(record);
    }
    return { items };
  }

  private async prunePass(policy: HistoryRetention): Promise<PruneReport> {
    const index = await this.index.current();
    const plan = await index.planPrune(policy);
    const deleted = {
      age: await this.deleteIndexed(plan.age),
      count: await this.deleteIndexed(plan.count),
      size: await this.deleteIndexed(plan.size),
    };
    return { deleted, records: index.size, bytes: index.bytes };
  }

  /** Deletes records the index holds, each only if unchanged since indexed. */
  private async deleteIndexed(sortKeys: readonly string[]): Promise<number> {
    const index = await this.index.current();
    let deleted = 0;
    for (let start = 0; start < sortKeys.length; start += DELETES_PER_TXN) {
      const parts = sortKeys.slice(start, start + DELETES_PER_TXN).flatMap((sortKey) => {
        const entry = index.get(sortKey);
        if (!entry) return [];
        const key = Keyspace.historyEntry(sortKey);
        const compare: Compare = {
          key,
          target: 'modRevision',
          op: '==',
          value: entry.modRevision,
        };
        const op: TxnOp = { type: 'delete', key };
        return [{ sortKey, compare, op }];
      });
      if (parts.length === 0) continue;
      const result = await this.store.txn({
        compare: parts.map((part) => part.compare),
        success: parts.map((part) => part.op),
      });
      const done = result.succeeded ? parts : await this.deleteOneByOne(parts);
      for (const part of done) index.delete(part.sortKey);
      deleted += done.length;
    }
    return deleted;
  }

  private async deleteOneByOne<T extends { compare: Compare; op: TxnOp }>(
    parts: T[],
  ): Promise<T[]> {
    const done: T[] = [];
    for (const part of parts) {
      const result = await this.store.txn({ compare: [part.compare], success: [part.op] });
      if (result.succeeded) done.push(part);
    }
    return done;
  }
}

function historyKey(id: string): string {
  return Keyspace.historyEntry(historySortKey(id));
}

function sortKeyOf(kv: KeyValue): string {
  return kv.key.slice(Keyspace.history.length);
}

/** The key after every record of `atMs` and before every later one. */
function timeBoundary(atMs: number): string | undefined {
  return atMs < 0 ? undefined : `${Keyspace.history}${scheduledExecKey(atMs)}${AFTER_ID}`;
}

function decodeRecord(kv: KeyValue): ExecutionRecord | undefined {
  try {
    return decodeExecution(kv.key, kv.value);
  } catch {
    // A malformed value is skipped: one bad record must not hide the others.
    return undefined;
  }
}

function assertFinal(record: ExecutionRecord): void {
  if (!FINAL_EXECUTION_STATUSES.includes(record.status)) {
    throw new Error(`execution ${record.id} is ${record.status}: only final records go to history`);
  }
  if (!parseExecutionId(record.id)) throw new Error(`malformed execution id ${record.id}`);
}
