import { useCallback, useState } from 'react';
import { useAsync } from './useAsync';
import type { Async } from './useAsync';

/** One page of any list the API pages: `{items, next}` (next: the cursor of the page after). */
export interface Page<T> {
  items: T[];
  next?: string;
  total?: number;
}

export interface Paged<T, P extends Page<T>> extends Async<P> {
  /** 1-based number of the page shown. */
  page: number;
  hasPrevious: boolean;
  hasNext: boolean;
  previous: () => void;
  next: () => void;
  /** Back to the first page (filters changed). */
  first: () => void;
}

/**
 * Pages through a list with the API's convention: `limit` + `cursor`, answered with
 * `{items, next}`. Keeps the cursors of the pages seen so Previous works; changing `deps`
 * (the filters) starts again from the first page.
 *
 *   const jobs = usePaged((cursor) => call(api.GET('/api/jobs', { params: { query: { cursor, limit: 25, group } } })), [group]);
 */
export function usePaged<T, P extends Page<T> = Page<T>>(
  fetchPage: (cursor: string | undefined) => Promise<P>,
  deps: unknown[],
  refreshMs?: number,
): Paged<T, P> {
  const key = JSON.stringify(deps);
  // The cursors of the pages seen, for these filters; other filters start on page 1.
  const [pages, setPages] = useState<{ key: string; cursors: (string | undefined)[] }>({
    key,
    cursors: [undefined],
  });
  const cursors = pages.key === key ? pages.cursors : [undefined];
  const cursor = cursors[cursors.length - 1];
  const state = useAsync(() => fetchPage(cursor), [key, cursor], refreshMs);
  const after = state.data?.next;
  const next = useCallback(() => {
    if (after) setPages({ key, cursors: [...cursors, after] });
  }, [after, key, cursors]);
  const previous = useCallback(
    () => setPages({ key, cursors: cursors.length > 1 ? cursors.slice(0, -1) : cursors }),
    [key, cursors],
  );
  const first = useCallback(() => setPages({ key, cursors: [undefined] }), [key]);
  return {
    ...state,
    page: cursors.length,
    hasPrevious: cursors.length > 1,
    hasNext: Boolean(state.data?.next),
    previous,
    next,
    first,
  };
}

/** Previous / Next buttons with the page number (and the total when the API gives one). */
export function Pager({
  paged,
  label = 'Pages',
  pageSize,
}: {
  paged: Pick<
    Paged<unknown, Page<unknown>>,
    'page' | 'hasPrevious' | 'hasNext' | 'previous' | 'next' | 'loading'
  > & {
    data?: Page<unknown>;
  };
  label?: string;
  pageSize?: number;
}) {
  const total = paged.data?.total;
  if (!paged.hasPrevious && !paged.hasNext) {
    return total !== undefined ? <p className="pager-summary">{total} in all</p> : null;
  }
  return (
    <nav className="pager" aria-label={label}>
      <button type="button" onClick={paged.previous} disabled={!paged.hasPrevious || paged.loading}>
        ← Previous
      </button>
      <span className="pager-summary" aria-live="polite">
        Page {paged.page}
        {total !== undefined && pageSize ? ` of ${Math.max(1, Math.ceil(total / pageSize))}` : ''}
        {total !== undefined ? ` · ${total} in all` : ''}
      </span>
      <button type="button" onClick={paged.next} disabled={!paged.hasNext || paged.loading}>
        Next →
      </button>
    </nav>
  );
}
