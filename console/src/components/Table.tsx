import type { ReactNode } from 'react';

export interface Column<T> {
  /** Header text; also the label shown beside each value on a narrow screen. */
  header: string;
  render: (row: T) => ReactNode;
  className?: string;
}

/**
 * A data table: a caption (for screen readers; visible when given `showCaption`), sticky
 * headers, rows keyed by `rowKey`. On a narrow window each row becomes a card, each cell
 * labelled by its column's header (CSS, data-label).
 */
export function Table<T>({
  caption,
  columns,
  rows,
  rowKey,
  empty = 'Nothing here yet.',
  loading = false,
  testId,
  rowProps,
}: {
  caption: string;
  columns: Column<T>[];
  rows: readonly T[] | undefined;
  rowKey: (row: T) => string;
  empty?: ReactNode;
  loading?: boolean;
  testId?: string;
  /** Extra attributes per row (`data-testid`, `data-status`) for tests and styling. */
  rowProps?: (row: T) => Record<`data-${string}`, string | undefined>;
}) {
  return (
    <div className="table-wrap">
      <table className="table" data-testid={testId} aria-busy={loading || undefined}>
        <caption className="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            {columns.map((column) => (
              <th key={column.header} scope="col" className={column.className}>
                {column.header}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows && rows.length > 0 ? (
            rows.map((row) => (
              <tr key={rowKey(row)} data-key={rowKey(row)} {...rowProps?.(row)}>
                {columns.map((column) => (
                  <td key={column.header} data-label={column.header} className={column.className}>
                    <div className="cell">{column.render(row)}</div>
                  </td>
                ))}
              </tr>
            ))
          ) : (
            <tr className="table-empty">
              <td colSpan={columns.length}>{loading || !rows ? 'Loading…' : empty}</td>
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}
