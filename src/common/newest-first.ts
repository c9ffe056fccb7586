import { scheduledExecKey } from '@forest/protocol';
import { CoordinationStore, KeyValue } from '@forest/store';

/**
 * Reads time-keyed records newest first. Keys under `prefix` start with a 15-digit epoch
 * ms (`audit/{ms}-{random}`, `executions/{jobId}/{ms}[-{suffix}][.s{i}][.r{n}]`), so they
 * sort by time; the store ranges in key order only (oldest first), so the range is read
 * backwards in time windows: each window [lo, bound) is read in key order and reversed,
 * and the next window ends where this one began. Before a window is read its size is
 * learnt from count-only ranges (no values travel): a window holding more than what is
 * left of the scan budget is halved until it fits, an empty one is skipped, and windows
 * grow fourfold while they hold fewer keys than the page needs. At most `budget` keys are
 * read per call (a one-millisecond window is read whole, so every call makes progress);
 * then the page carries `next`, maybe with fewer than `limit` items. `next` is the key
 * every item of the next page sorts before, so pages neither repeat nor skip records,
 * even while new ones arrive.
 *
 * Used by the audit log (GET /api/audit) and the executions of one job newest first
 * (GET /api/executions?jobId=).
 */
export interface NewestFirstQuery<T> {
  /** Every key under it starts (after the prefix) with a 15-digit epoch ms. */
  prefix: string;
  limit: number;
  /** Keys read at most. */
  budget: number;
  /** Only keys that sort before this one (a previous page's `next`). */
  bound?: string;
  /** Inclusive bounds on the key time. */
  fromMs?: number;
  toMs?: number;
  /** The record of a key; undefined skips it (malformed). */
  decode: (kv: KeyValue) => T | undefined;
  /** Filters beyond the time bounds. */
  accept: (item: T) => boolean;
  nowMs?: number;
}

export interface NewestFirstPage<T> {
  items: T[];
  /** The key every item of the next page sorts before; absent: nothing older is left. */
  next?: string;
  /** Keys read. */
  scanned: number;
}

const RANGE_PAGE = 256;
const FIRST_WINDOW_MS = 60_000;
/** Sorts after every key of one millisecond (`-`, `.`, hex digits, key-segment characters). */
const AFTER_MS = '~';

/** The epoch ms a key under `prefix` starts with, or undefined. */
export function keyTimeMs(prefix: string, key: string): number | undefined {
  if (!key.startsWith(prefix)) return undefined;
  const match = /^(\d{15})/.exec(key.slice(prefix.length));
  return match ? Number(match[1]) : undefined;
}

export async function readNewestFirst<T>(
  store: CoordinationStore,
  query: NewestFirstQuery<T>,
): Promise<NewestFirstPage<T>> {
  const { prefix, limit, budget, decode, accept } = query;
  const oldest = (await store.range(prefix, { limit: 1 })).kvs[0];
  const oldestMs = oldest ? keyTimeMs(prefix, oldest.key) : undefined;
  if (oldestMs === undefined) return { items: [], scanned: 0 };
  const lowerMs = Math.max(query.fromMs ?? 0, oldestMs);
  const toBound =
    query.toMs === undefined
      ? `${prefix}${AFTER_MS}`
      : `${prefix}${scheduledExecKey(query.toMs)}${AFTER_MS}`;
  const cursorMs = query.bound === undefined ? undefined : keyTimeMs(prefix, query.bound);
  const fromCursor = query.bound !== undefined && cursorMs !== undefined && query.bound < toBound;
  let bound = fromCursor ? query.bound! : toBound;
  let hiMs = fromCursor ? cursorMs : (query.toMs ?? query.nowMs ?? Date.now());
  /** How many keys sort at or after `bound`. */
  let atOrAfterBound = await countAtOrAfter(store, prefix, bound);
  const items: T[] = [];
  let scanned = 0;
  let spanMs = FIRST_WINDOW_MS;
  for (;;) {
    if (hiMs < lowerMs) return { items, scanned };
    const left = budget - scanned;
    let loMs = Math.max(lowerMs, hiMs - spanMs);
    let fromLo = await countFrom(store, prefix, loMs);
    while (fromLo - atOrAfterBound > left && loMs < hiMs) {
      // Halve the window [loMs, hiMs]; it can shrink to the one millisecond hiMs, so the
      // loop always ends (a window of two milliseconds must not stay two milliseconds).
      loMs = Math.max(lowerMs, hiMs - Math.floor((hiMs - loMs) / 2));
      spanMs = Math.max(1, hiMs - loMs);
      fromLo = await countFrom(store, prefix, loMs);
    }
    const size = fromLo - atOrAfterBound;
    if (size > left && items.length > 0) return { items, next: bound, scanned };
    const window = size > 0 ? await readWindow(store, prefix, loMs, bound) : [];
    scanned += window.length;
    for (let index = window.length - 1; index >= 0; index--) {
      const kv = window[index];
      const item = decode(kv);
      if (item === undefined || !accept(item)) continue;
      items.push(item);
      if (items.length >= limit) return { items, next: kv.key, scanned };
    }
    if (loMs <= lowerMs) return { items, scanned };
    bound = `${prefix}${scheduledExecKey(loMs)}`;
    atOrAfterBound = fromLo;
    hiMs = loMs - 1;
    if (scanned >= budget) return { items, next: bound, scanned };
    if (window.length < limit) spanMs *= 4;
  }
}

/** Keys at `atMs` or later. */
async function countFrom(store: CoordinationStore, prefix: string, atMs: number): Promise<number> {
  const after = atMs > 0 ? `${prefix}${scheduledExecKey(atMs - 1)}${AFTER_MS}` : undefined;
  return (await store.range(prefix, { after, countOnly: true })).count;
}

/** Keys that sort at or after `key` (the key itself counts when it exists). */
async function countAtOrAfter(
  store: CoordinationStore,
  prefix: string,
  key: string,
): Promise<number> {
  const after = (await store.range(prefix, { after: key, countOnly: true })).count;
  return after + ((await store.get(key)) ? 1 : 0);
}

/** Every key at `loMs` or later that sorts before `bound`, oldest first. */
async function readWindow(
  store: CoordinationStore,
  prefix: string,
  loMs: number,
  bound: string,
): Promise<KeyValue[]> {
  const kvs: KeyValue[] = [];
  let after = loMs > 0 ? `${prefix}${scheduledExecKey(loMs - 1)}${AFTER_MS}` : undefined;
  for (;;) {
    const page = await store.range(prefix, { after, limit: RANGE_PAGE });
    for (const kv of page.kvs) {
      if (kv.key >= bound) return kvs;
      kvs.push(kv);
    }
    if (!page.more || page.next === undefined) return kvs;
    after = page.next;
  }
}
