import { Keyspace } from '@forest/protocol';
import { CoordinationStore } from '@forest/store';
import { readNewestFirst } from '../common/newest-first';
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
const CURSOR_VERSION = 'a1';

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
 * Reads the audit log newest first, at most AUDIT_SCAN_BUDGET entries per request (then the
 * page carries `next`, maybe with fewer than `limit` items): readNewestFirst reads the
 * time-sorted keys backwards in windows. `next` is the key every entry of the next page
 * sorts before, so pages neither repeat nor skip entries, even while new entries arrive.
 */
export async function readAuditPage(
  store: CoordinationStore,
  filters: AuditFilters,
  limit: number,
  cursorKey?: string,
  nowMs = Date.now(),
): Promise<AuditPage> {
  const page = await readNewestFirst<AuditEntry>(store, {
    prefix: Keyspace.audit,
    limit,
    budget: AUDIT_SCAN_BUDGET,
    bound: cursorKey,
    fromMs: filters.fromMs,
    toMs: filters.toMs,
    decode: (kv) => decodeAuditEntry(kv.value),
    accept: (entry) => matchesAuditFilters(entry, filters),
    nowMs,
  });
  return { items: page.items, ...(page.next ? { next: encodeAuditCursor(page.next) } : {}) };
}
