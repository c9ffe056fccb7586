import { Keyspace, scheduledExecKey } from '@forest/protocol';
import { CoordinationStore } from '@forest/store';
import { auditKeyTimeMs } from './audit-retention';
import { AuditEntry, decodeAuditEntry } from './audit.types';

export interface AuditFilters {
  actor?: string;
  /** Exact, or a prefix ending in `*` (`job.*`). */
  action?: string;
  /** Exact, or a prefix ending in `*` (`job:*`). */
  object?: string;
  /** Inclusive bounds on the entry time, epoch ms. */
  fromMs?: number;
  toMs?: number;
}

export interface AuditPage {
  items: AuditEntry[];
  next?: string;
}

/** Entries examined per request at most; a page can then hold fewer than `limit` and carry `next`. */
export const AUDIT_SCAN_BUDGET = 5000;
const RANGE_PAGE = 256;
const FIRST_WINDOW_MS = 60_000;
const CURSOR_VERSION = 'a1';
/** Sorts after every key of one millisecond (`-` and hex digits). */
const AFTER_MS = '~';

export function matchesAuditFilters(entry: AuditEntry, filters: AuditFilters): boolean {
  return (
    (filters.actor === undefined || entry.actor === filters.actor) &&
    matchesPattern(entry.action, filters.action) &&
    matchesPattern(entry.object, filters.object)
  );
}

function matchesPattern(value: string, pattern: string | undefined): boolean {
  if (pattern === undefined) return true;
  return pattern.endsWith('*') ? value.startsWith(pattern.slice(0, -1)) : value === pattern;
}

/** An opaque continuation: every entry of the next page sorts before `boundKey`. */
export function encodeAuditCursor(boundKey: string): string {
  return Buffer.from(`${CURSOR_VERSION}:${boundKey}`, 'utf8').toString('base64url');
}

/** The bound key of a cursor this API made, or undefined. */
export function decodeAuditCursor(cursor: string): string | undefined {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(cursor)) return undefined;
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const head = `${CURSOR_VERSION}:`;
  if (!text.startsWith(head)) return undefined;
  const key = text.slice(head.length);
  return auditKeyTimeMs(key) !== undefined && /^audit\/\d{15}(-[0-9a-f]{1,32})?$/.test(key)
    ? key
    : undefined;
}

/**
 * Reads the audit log newest first. The store ranges in key order (oldest first), so the
 * log is read backwards in time windows: each window [lo, bound) is read in key order and
 * reversed, and the next window ends where this one began. Before a window is read its
 * size is learnt from count-only ranges (no values travel): a window holding more than
 * the request's scan budget is halved until it fits, an empty one is skipped, and windows
 * grow fourfold while they hold fewer entries than the page needs. At most
 * AUDIT_SCAN_BUDGET entries are read per request (a one-millisecond window is read whole,
 * so every page makes progress); then the page carries `next`, maybe with fewer than
 * `limit` items. `next` is the key every entry of the next page sorts before, so pages
 * neither repeat nor skip entries, even while new entries arrive.
 */
export async function readAuditPage(
  store: CoordinationStore,
  filters: AuditFilters,
  limit: number,
  cursorKey?: string,
  nowMs = Date.now(),
): Promise<AuditPage> {
  const oldest = (await store.range(Keyspace.audit, { limit: 1 })).kvs[0];
  const oldestMs = oldest ? auditKeyTimeMs(oldest.key) : undefined;
  if (oldestMs === undefined) return { items: [] };
  const lowerMs = Math.max(filters.fromMs ?? 0, oldestMs);
  const toBound =
    filters.toMs === undefined
      ? `${Keyspace.audit}${AFTER_MS}`
      : `${Keyspace.audit}${scheduledExecKey(filters.toMs)}${AFTER_MS}`;
  let bound = cursorKey !== undefined && cursorKey < toBound ? cursorKey : toBound;
  let hiMs = bound === cursorKey ? auditKeyTimeMs(bound)! : (filters.toMs ?? nowMs);
  /** How many keys sort at or after `bound`. */
  let atOrAfterBound = await countAtOrAfter(store, bound);
  const items: AuditEntry[] = [];
  let scanned = 0;
  let spanMs = FIRST_WINDOW_MS;
  for (;;) {
    if (hiMs < lowerMs) return { items };
    const budget = AUDIT_SCAN_BUDGET - scanned;
    let loMs = Math.max(lowerMs, hiMs - spanMs);
    let fromLo = await countFrom(store, loMs);
    while (fromLo - atOrAfterBound > budget && loMs < hiMs) {
      spanMs = Math.max(1, Math.floor((hiMs - loMs) / 2));
      loMs = Math.max(lowerMs, hiMs - spanMs);
      fromLo = await countFrom(store, loMs);
    }
    const size = fromLo - atOrAfterBound;
    if (size > budget && items.length > 0) return { items, next: encodeAuditCursor(bound) };
    const window = size > 0 ? await readWindow(store, loMs, bound) : [];
    scanned += window.length;
    for (let index = window.length - 1; index >= 0; index--) {
      const { key, entry } = window[index];
      if (!entry || !matchesAuditFilters(entry, filters)) continue;
      items.push(entry);
      if (items.length >= limit) return { items, next: encodeAuditCursor(key) };
    }
    if (loMs <= lowerMs) return { items };
    bound = `${Keyspace.audit}${scheduledExecKey(loMs)}`;
    atOrAfterBound = fromLo;
    hiMs = loMs - 1;
    if (scanned >= AUDIT_SCAN_BUDGET) return { items, next: encodeAuditCursor(bound) };
    if (window.length < limit) spanMs *= 4;
  }
}

/** Keys at `atMs` or later. */
async function countFrom(store: CoordinationStore, atMs: number): Promise<number> {
  const after = atMs > 0 ? `${Keyspace.audit}${scheduledExecKey(atMs - 1)}${AFTER_MS}` : undefined;
  return (await store.range(Keyspace.audit, { after, countOnly: true })).count;
}

/** Keys that sort at or after `key` (the key itself counts when it exists). */
async function countAtOrAfter(store: CoordinationStore, key: string): Promise<number> {
  const after = (await store.range(Keyspace.audit, { after: key, countOnly: true })).count;
  return after + ((await store.get(key)) ? 1 : 0);
}

interface WindowEntry {
  key: string;
  entry?: AuditEntry;
}

/** Every key at `loMs` or later that sorts before `bound`, oldest first. */
async function readWindow(
  store: CoordinationStore,
  loMs: number,
  bound: string,
): Promise<WindowEntry[]> {
  const entries: WindowEntry[] = [];
  let after = loMs > 0 ? `${Keyspace.audit}${scheduledExecKey(loMs - 1)}${AFTER_MS}` : undefined;
  for (;;) {
    const page = await store.range(Keyspace.audit, { after, limit: RANGE_PAGE });
    for (const kv of page.kvs) {
      if (kv.key >= bound) return entries;
      entries.push({ key: kv.key, entry: decodeAuditEntry(kv.value) });
    }
    if (!page.more || page.next === undefined) return entries;
    after = page.next;
  }
}
