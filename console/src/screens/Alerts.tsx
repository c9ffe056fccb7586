import { Link } from 'react-router';
import { api, call } from '../api/client';
import type { Schemas } from '../api/client';
import { ErrorBanner } from '../components/Banner';
import { ScreenHeader } from '../components/Layout';
import { Pager, usePaged } from '../components/Pager';
import { Table } from '../components/Table';
import type { Column } from '../components/Table';
import { formatRelative, formatTime } from '../components/time';
import { useNow } from '../components/useNow';
import '../observe.css';

type RecentAlert = Schemas['RecentAlertDto'];

const PAGE_SIZE = 25;
const REFRESH_MS = 15_000;

/**
 * Alerts this node raised (the latest 100, newest first) with the outcome per channel. Each
 * node keeps its own: execution alerts come from the node that recorded the report, cluster
 * and dispatch alerts from the leader.
 */
export function AlertsScreen() {
  const now = useNow(10_000);
  const alerts = usePaged(
    (cursor) => call(api.GET('/api/alerts', { params: { query: { limit: PAGE_SIZE, cursor } } })),
    [],
    REFRESH_MS,
  );
  const columns: Column<RecentAlert>[] = [
    {
      header: 'When',
      render: ({ alert }) => (
        <>
          {formatTime(alert.at)}
          <div className="muted small">{formatRelative(alert.at, now)}</div>
        </>
      ),
    },
    {
      header: 'Alert',
      render: ({ alert }) => (
        <>
          <span className={`badge severity-${alert.severity}`}>{alert.severity}</span>{' '}
          <strong>{alert.event.replace('_', ' ')}</strong>
          {alert.suppressed && (
            <div className="muted small">
              and {alert.suppressed.count} like it since {formatTime(alert.suppressed.since)}
            </div>
          )}
        </>
      ),
    },
    {
      header: 'Message',
      className: 'cell-wrap',
      render: ({ alert }) => <span className="small">{alert.message}</span>,
    },
    {
      header: 'About',
      render: ({ alert }) => (
        <>
          {alert.job && (
            <div>
              job <Link to={`/jobs/${encodeURIComponent(alert.job.id)}`}>{alert.job.name}</Link>{' '}
              <span className="muted small">({alert.job.group})</span>
            </div>
          )}
          {alert.execution && (
            <div>
              <Link
                to={`/executions/${encodeURIComponent(alert.execution.id)}`}
                className="small"
                aria-label={`Execution ${alert.execution.id}`}
              >
                execution, attempt {alert.execution.attempt}
              </Link>
            </div>
          )}
          {alert.worker && (
            <div className="small">
              worker <span className="mono">{alert.worker.id}</span> ({alert.worker.host})
            </div>
          )}
          <div className="muted small">raised by {alert.node}</div>
        </>
      ),
    },
    {
      header: 'Delivery',
      render: ({ deliveries }) =>
        deliveries.length === 0 ? (
          <span className="muted">no channel</span>
        ) : (
          <ul className="deliveries">
            {deliveries.map(({ channel, delivery }) => (
              <li
                key={channel}
                data-testid="alert-delivery"
                data-channel={channel}
                data-status={delivery.status}
                title={delivery.error ?? delivery.detail}
              >
                <span className={`badge delivery-${delivery.status}`}>
                  {delivery.status === 'delivered' ? '✓' : '✗'} {channel}
                </span>
                {delivery.error && <span className="small delivery-error"> {delivery.error}</span>}
              </li>
            ))}
          </ul>
        ),
    },
  ];
  return (
    <section>
      <ScreenHeader title="Alerts">
        Alerts this node raised (its latest 100), with the outcome per channel. Refreshes every 15
        s.
      </ScreenHeader>
      <ErrorBanner error={alerts.error} onRetry={alerts.reload} />
      <Table
        caption="Recent alerts"
        columns={columns}
        rows={alerts.data?.items}
        rowKey={({ alert }) => alert.id}
        rowProps={({ alert }) => ({
          'data-testid': 'alert-row',
          'data-event': alert.event,
          'data-severity': alert.severity,
        })}
        loading={alerts.loading && !alerts.data}
        testId="alerts-table"
        empty="No alerts raised by this node."
      />
      <Pager paged={alerts} label="Alerts pages" pageSize={PAGE_SIZE} />
    </section>
  );
}
