import type { StreamStatus } from '../api/events';

const TEXT: Record<StreamStatus, { label: string; title: string }> = {
  live: { label: 'live', title: 'Changes arrive as they happen (GET /api/events).' },
  polling: {
    label: 'polling',
    title: 'The live stream dropped: reloading every few seconds while it reconnects.',
  },
  connecting: { label: 'connecting…', title: 'Opening the live stream.' },
};

/** A small "live" / "polling" badge for a screen that follows the node's events. */
export function LiveIndicator({ status }: { status: StreamStatus }) {
  const { label, title } = TEXT[status];
  return (
    <span
      className={`live-indicator live-${status}`}
      role="status"
      title={title}
      data-testid="live-indicator"
      data-state={status}
    >
      <span className="live-dot" aria-hidden="true" />
      {label}
    </span>
  );
}
