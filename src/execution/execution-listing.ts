import { ExecutionRecord } from '@forest/protocol';
import { HistoryPage, historySortKey } from '../history/history.port';

/**
 * Pure pieces of the executions listing: live executions (in the coordination store) and
 * finished ones (in the history) are listed together, in one order, behind one cursor.
 * Both sides sort by `historySortKey` (key time, then id); the cursor is the sort key of
 * the last item a page returned, so a page neither repeats nor skips an item while new
 * executions arrive (they sort newer than any cursor already handed out) or move from the
 * store to the history (an execution has the same sort key on both sides).
 */

export type ListOrder = 'asc' | 'desc';

/** Cursors of this listing say so, and which order they are for. */
const CURSOR_TAG: Record<ListOrder, string> = { desc: 'x1', asc: 'x2' };

export function encodeListCursor(sortKey: string, order: ListOrder): string {
  return Buffer.from(`${CURSOR_TAG[order]}:${sortKey}`, 'utf8').toString('base64url');
}

/** The sort key a cursor continues after, or undefined if it is not one of this listing's. */
export function decodeListCursor(cursor: string, order: ListOrder): string | undefined {
  if (!/^[A-Za-z0-9_-]{1,700}$/.test(cursor)) return undefined;
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const head = `${CURSOR_TAG[order]}:`;
  if (!text.startsWith(head)) return undefined;
  const key = text.slice(head.length);
  // A sort key, or a bare 15-digit time: where a history page cut short by its scan budget
  // stopped (every record at or beyond it in this order was examined).
  return /^\d{15}(-\S+~\S+)?$/.test(key) ? key : undefined;
}

/** True when sort key `a` comes after `b` in `order` (desc: `a` is older). */
export function comesAfter(a: string, b: string, order: ListOrder): boolean {
  return order === 'desc' ? a < b : a > b;
}

/**
 * One page of live and finished executions together. `live`: every live execution that
 * passes the filters (any order); `history`: the history's page for the same query and
 * cursor. A history page that stopped early (`next` with fewer items, the store adapter's
 * scan budget) bounds the merged page: no live item beyond its `next` is included, since
 * finished ones beyond it are not known yet. An execution in both (moved while this page
 * was read) appears once, as the history has it.
 */
export function mergeListing(
  live: readonly ExecutionRecord[],
  history: HistoryPage,
  options: { limit: number; order: ListOrder; after?: string },
): { items: ExecutionRecord[]; next?: string } {
  const { limit, order, after } = options;
  const inHistory = new Set(history.items.map((record) => record.id));
  const keyed = (record: ExecutionRecord) => ({ record, key: historySortKey(record.id) });
  const candidates = [
    ...history.items.map(keyed),
    ...live
      .filter((record) => !inHistory.has(record.id))
      .map(keyed)
      .filter(({ key }) => after === undefined || comesAfter(key, after, order))
      .filter(({ key }) => history.next === undefined || !comesAfter(key, history.next, order)),
  ];
  candidates.sort((a, b) => (a.key === b.key ? 0 : comesAfter(a.key, b.key, order) ? 1 : -1));
  if (candidates.length > limit) {
    const page = candidates.slice(0, limit);
    return { items: page.map((c) => c.record), next: page[page.length - 1].key };
  }
  return {
    items: candidates.map((c) => c.record),
    ...(history.next !== undefined ? { next: history.next } : {}),
  };
}
