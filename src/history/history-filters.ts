import { ExecutionRecord, firstAttemptId } from '@forest/protocol';
import { HistoryFilters, historySortKey, sortKeyTimeMs } from './history.port';

/**
 * Whether a record passes every filter of a history query (the adapters that filter in
 * memory use this; PostgreSQL builds the same conditions in SQL, see history-sql.ts).
 */
export function matchesHistoryFilters(record: ExecutionRecord, filters: HistoryFilters): boolean {
  if (filters.jobId !== undefined && record.jobId !== filters.jobId) return false;
  if (filters.group !== undefined && record.group !== filters.group) return false;
  if (filters.groups !== undefined && !filters.groups.includes(record.group)) return false;
  if (filters.status !== undefined && record.status !== filters.status) return false;
  if (filters.worker !== undefined && record.worker !== filters.worker) return false;
  if (filters.trigger !== undefined && record.trigger !== filters.trigger) return false;
  if (filters.attemptsOf !== undefined && firstAttemptId(record.id) !== filters.attemptsOf) {
    return false;
  }
  const keyTimeMs = sortKeyTimeMs(historySortKey(record.id));
  if (filters.fromMs !== undefined && keyTimeMs < filters.fromMs) return false;
  if (filters.toMs !== undefined && keyTimeMs > filters.toMs) return false;
  if (filters.text !== undefined && !containsText(record, filters.text)) return false;
  return true;
}

/** Case-insensitive substring of the output or the error; the text is taken literally. */
function containsText(record: ExecutionRecord, text: string): boolean {
  const needle = text.toLowerCase();
  return [record.output, record.error].some(
    (field) => field !== undefined && field.toLowerCase().includes(needle),
  );
}

/** True when the filters can match nothing at all (a scope of no groups). */
export function matchesNothing(filters: HistoryFilters): boolean {
  return filters.groups !== undefined && filters.groups.length === 0;
}
