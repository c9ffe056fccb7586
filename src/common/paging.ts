import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { ValidationFailedError } from './domain-error';

/**
 * The one paging convention of every list: `limit` (1..PAGE_MAX, default PAGE_DEFAULT) and
 * `cursor`, the opaque `next` of the previous page (sent with the same filters). An answer
 * is `{items, next?}` (some lists add fields, such as `total`); `next` is absent on the
 * last page. A page may hold fewer than `limit` items and still carry `next` where a list
 * bounds the work of one request (executions, audit).
 */
export const PAGE_MAX = 500;
export const PAGE_DEFAULT = 50;
/** Longest cursor accepted (base64url of a key, with room to spare). */
export const CURSOR_MAX_LENGTH = 700;

export class PageQueryDto {
  @ApiPropertyOptional({
    example: PAGE_DEFAULT,
    default: PAGE_DEFAULT,
    minimum: 1,
    maximum: PAGE_MAX,
    description: 'Items per page',
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(PAGE_MAX)
  limit?: number;

  @ApiPropertyOptional({
    description: 'The `next` of the previous page (opaque); send the same filters with it',
  })
  @IsOptional()
  @IsString()
  @MaxLength(CURSOR_MAX_LENGTH)
  @Matches(/^[A-Za-z0-9_-]+$/, { message: 'cursor must be a `next` this API returned' })
  cursor?: string;
}

const CURSOR_VERSION = 'p1';

/** An opaque continuation of the list `kind`, after the item whose sort key is `key`. */
export function encodePageCursor(kind: string, key: string): string {
  return Buffer.from(`${CURSOR_VERSION}:${kind}:${key}`, 'utf8').toString('base64url');
}

/** The sort key a cursor of list `kind` continues after; 400 for anything else. */
export function decodePageCursor(kind: string, cursor: string): string {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const head = `${CURSOR_VERSION}:${kind}:`;
  if (!text.startsWith(head) || text.length === head.length) throw invalidCursor();
  return text.slice(head.length);
}

export function invalidCursor(): ValidationFailedError {
  const problem = 'not a `next` this API returned for this list';
  return new ValidationFailedError(`cursor: ${problem}`, [
    { field: 'cursor', problems: [problem] },
  ]);
}

/**
 * One page of `sorted` (ascending by `keyOf`, or descending with order `desc`; keys
 * unique): the items after the cursor's key in that order, at most `limit`, and `next`
 * when more follow. The cursor holds a key, not a position, so items added or removed
 * meanwhile neither repeat nor shift a page.
 */
export function pageOf<T>(
  sorted: readonly T[],
  keyOf: (item: T) => string,
  query: { limit?: number; cursor?: string },
  kind: string,
  order: 'asc' | 'desc' = 'asc',
): { items: T[]; next?: string } {
  const limit = query.limit ?? PAGE_DEFAULT;
  let start = 0;
  if (query.cursor !== undefined) {
    const after = decodePageCursor(kind, query.cursor);
    // Binary search: the first item that comes after the cursor's key in this order.
    const passed = order === 'asc' ? (key: string) => key <= after : (key: string) => key >= after;
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (passed(keyOf(sorted[mid]))) lo = mid + 1;
      else hi = mid;
    }
    start = lo;
  }
  const items = sorted.slice(start, start + limit);
  const more = start + limit < sorted.length;
  return {
    items,
    next:
      more && items.length > 0 ? encodePageCursor(kind, keyOf(items[items.length - 1])) : undefined,
  };
}

/** `items` sorted ascending by `keyOf` in code-unit order (the order pageOf pages in). */
export function sortedByKey<T>(items: readonly T[], keyOf: (item: T) => string): T[] {
  return items
    .map((item) => ({ item, key: keyOf(item) }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map(({ item }) => item);
}
