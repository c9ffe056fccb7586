import { Link, useSearchParams } from 'react-router';
import { api, call } from '../api/client';
import type { Schemas } from '../api/client';
import { ErrorBanner } from '../components/Banner';
import { LineChart } from '../components/charts/LineChart';
import { StackedBarChart } from '../components/charts/StackedBarChart';
import { Field } from '../components/Field';
import { ScreenHeader } from '../components/Layout';
import { formatDuration, formatTime } from '../components/time';
import { useAsync } from '../components/useAsync';
import '../observe.css';

type Counts = Schemas['StatusCountsDto'];

const REFRESH_MS = 15_000;
const WINDOWS = [
  [15, 'last 15 minutes'],
  [60, 'last hour'],
  [360, 'last 6 hours'],
  [1440, 'last 24 hours'],
] as const;

const STATUSES: { key: keyof Counts; label: string }[] = [
  { key: 'succeeded', label: 'succeeded' },
  { key: 'failed', label: 'failed' },
  { key: 'timed_out', label: 'timed out' },
  { key: 'lost', label: 'lost' },
  { key: 'cancelled', label: 'cancelled' },
  { key: 'skipped', label: 'skipped' },
];
const LAGS = [
  { key: 'p50', label: 'p50' },
  { key: 'p99', label: 'p99' },
];

/**
 * The landing screen: what waits and runs now, failures in the window, executions per minute
 * by final status and the fire lag (GET /api/stats/overview), refreshed every 15 s.
 */
export function OverviewScreen() {
  const [search, setSearch] = useSearchParams();
  const minutes = Number(search.get('minutes')) || 60;
  const overview = useAsync(
    () => call(api.GET('/api/stats/overview', { params: { query: { minutes } } })),
    [minutes],
    REFRESH_MS,
  );
  const data = overview.data;
  const from = data ? Date.parse(data.from) : 0;
  const to = data ? Date.parse(data.to) : 0;
  const bucket = data ? formatDuration(data.bucketMs) : '';
  const windowLabel = WINDOWS.find(([m]) => m === minutes)?.[1] ?? `last ${minutes} minutes`;
  const finished = data ? STATUSES.reduce((sum, s) => sum + data.totals[s.key], 0) : 0;

  return (
    <section>
      <ScreenHeader
        title="Overview"
        actions={
          <Field label="Window">
            <select
              value={minutes}
              onChange={(event) => {
                const next = new URLSearchParams(search);
                next.set('minutes', event.target.value);
                setSearch(next, { replace: true });
              }}
              data-testid="overview-window"
            >
              {WINDOWS.map(([m, label]) => (
                <option key={m} value={m}>
                  {label}
                </option>
              ))}
              {!WINDOWS.some(([m]) => m === minutes) && (
                <option value={minutes}>last {minutes} minutes</option>
              )}
            </select>
          </Field>
        }
      >
        Executions of the {windowLabel}, by finish time. Refreshes every 15 s
        {data && `; as of ${formatTime(data.to).slice(11)}`}.
      </ScreenHeader>
      <ErrorBanner error={overview.error} onRetry={overview.reload} />

      <div className="stat-cards">
        <Stat
          label="Pending"
          value={data?.pending}
          hint="waiting for a worker now"
          to="/executions?status=pending"
          testId="overview-pending"
        />
        <Stat
          label="Assigned or running"
          value={data?.assignedOrRunning}
          hint="in workers' inboxes now"
          to="/executions?status=running"
          testId="overview-active"
        />
        <Stat
          label="Failed"
          value={data?.failed}
          hint={`failed, timed out or lost, ${windowLabel}`}
          to="/executions?status=failed"
          testId="overview-failed"
          alarm={(data?.failed ?? 0) > 0}
        />
        <Stat
          label="Finished"
          value={data ? finished : undefined}
          hint={windowLabel}
          to="/executions"
          testId="overview-finished"
        />
      </div>

      {data ? (
        <div className="charts">
          <StackedBarChart
            title={`Executions per ${bucket} by final status`}
            yLabel="executions"
            bars={data.buckets.map((b) => ({
              start: Date.parse(b.start),
              values: b.counts as unknown as Record<string, number>,
            }))}
            series={STATUSES}
            bucketMs={data.bucketMs}
            from={from}
            to={Math.max(to, from + data.buckets.length * data.bucketMs)}
            testId="overview-executions-chart"
          />
          <LineChart
            title={`Fire lag per ${bucket} (started minus scheduled)`}
            yLabel="lag"
            points={data.buckets.map((b) => ({
              at: Date.parse(b.start) + data.bucketMs / 2,
              values: { p50: b.lagMs?.p50, p99: b.lagMs?.p99 },
            }))}
            series={LAGS}
            from={from}
            to={Math.max(to, from + data.buckets.length * data.bucketMs)}
            format={(v) => formatDuration(v)}
            testId="overview-lag-chart"
          />
        </div>
      ) : (
        !overview.error && (
          <p className="muted" role="status">
            Loading…
          </p>
        )
      )}
    </section>
  );
}

function Stat({
  label,
  value,
  hint,
  to,
  testId,
  alarm = false,
}: {
  label: string;
  value: number | undefined;
  hint: string;
  to: string;
  testId: string;
  alarm?: boolean;
}) {
  return (
    <Link
      to={to}
      className={`card stat${alarm ? ' stat-alarm' : ''}`}
      data-testid={testId}
      aria-label={`${label}: ${value ?? '…'} (${hint}); show these executions`}
    >
      <span className="stat-label">{label}</span>
      <span className="stat-value">{value ?? '…'}</span>
      <span className="muted small">{hint}</span>
    </Link>
  );
}
