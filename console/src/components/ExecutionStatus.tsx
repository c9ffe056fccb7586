import type { Execution } from '../api/client';

export type ExecutionStatus = Execution['status'];

export const EXECUTION_STATUSES: readonly ExecutionStatus[] = [
  'pending',
  'assigned',
  'running',
  'succeeded',
  'failed',
  'timed_out',
  'cancelled',
  'lost',
  'skipped',
];

/** Not final yet: may still change, may be cancelled. */
export function isLive(status: ExecutionStatus): boolean {
  return status === 'pending' || status === 'assigned' || status === 'running';
}

/** An execution's status as a coloured badge (the colour repeats the word, never replaces it). */
export function StatusBadge({ status }: { status: ExecutionStatus }) {
  return (
    <span className={`badge status status-${status}`} data-testid="execution-status">
      {status.replace('_', ' ')}
    </span>
  );
}
