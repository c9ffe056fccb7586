import { useEffect, useRef, useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { api, call } from '../api/client';
import type { PlanItem } from '../api/client';
import { useGroupNames } from '../api/lookups';
import { ErrorBanner, Notice } from '../components/Banner';
import { useWidth } from '../components/charts/scale';
import { Field } from '../components/Field';
import { ScreenHeader } from '../components/Layout';
import { Pager, usePaged } from '../components/Pager';
import { Table } from '../components/Table';
import type { Column } from '../components/Table';
import { formatRelative, formatTime } from '../components/time';
import { useAsync } from '../components/useAsync';

const PAGE_SIZE = 25;
const REFRESH_MS = 5000;
const WINDOWS = [5, 15, 60] as const;

/**
 * The plan: every active job with its previous and next fire, the node that fires them (the
 * leader), and a timeline of the fires due in the next minutes.
 */
export function PlanScreen() {
  const [search, setSearch] = useSearchParams();
  const group = search.get('group') ?? '';
  const minutes = Number(search.get('window')) || 15;
  const groups = useGroupNames();
  const plan = usePaged(
    (cursor) =>
      call(
        api.GET('/api/plan', {
          params: { query: { limit: PAGE_SIZE, cursor, group: group || undefined } },
        }),
      ),
    [group],
    REFRESH_MS,
  );
  const nodes = useAsync(() => call(api.GET('/api/nodes')), [], 10_000);
  const now = useNow(1000);
  const fires = useUpcomingFires(plan.data?.items ?? [], minutes * 60_000, now);

  const setParam = (key: string, value: string) => {
    const next = new URLSearchParams(search);
    if (value) next.set(key, value);
    else next.delete(key);
    setSearch(next, { replace: true });
  };

  const leaderId = plan.data?.leader ?? undefined;
  const leader = nodes.data?.find((node) => node.id === leaderId);
  const columns: Column<PlanItem>[] = [
    {
      header: 'Job',
      render: (item) => (
        <>
          <Link to={`/jobs/${encodeURIComponent(item.jobId)}`}>{item.name}</Link>
          <div className="muted mono small">{item.jobId}</div>
        </>
      ),
    },
    {
      header: 'Group',
      render: (item) => <Link to={`/groups/${encodeURIComponent(item.group)}`}>{item.group}</Link>,
    },
    {
      header: 'Schedule',
      render: (item) => (
        <>
          <code>{item.cron}</code>
          <div className="muted small">{item.timezone}</div>
        </>
      ),
    },
    { header: 'Misfire', render: (item) => item.misfirePolicy },
    {
      header: 'Previous fire',
      render: (item) => <When at={item.previousFireAt} now={now} never="never fired" />,
    },
    {
      header: 'Next fire',
      render: (item) => <When at={item.nextFireAt} now={now} never="no more fires" />,
    },
    {
      header: 'Fired by',
      render: () =>
        leaderId ? (
          <span className="mono">{leaderId}</span>
        ) : (
          <span className="muted">no leader</span>
        ),
    },
  ];

  return (
    <section>
      <ScreenHeader title="Plan">
        Active jobs, their previous and next fire, and who fires them. Refreshes every 5 s.
      </ScreenHeader>
      <div className="filters">
        <Field label="Group">
          <select
            value={group}
            onChange={(e) => setParam('group', e.target.value)}
            data-testid="plan-filter-group"
          >
            <option value="">All groups</option>
            {groups.map((g) => (
              <option key={g} value={g}>
                {g}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Timeline window">
          <select
            value={minutes}
            onChange={(e) => setParam('window', e.target.value)}
            data-testid="plan-window"
          >
            {WINDOWS.map((w) => (
              <option key={w} value={w}>
                next {w} minutes
              </option>
            ))}
          </select>
        </Field>
      </div>

      {plan.data && (
        <div className="card leader-card" data-testid="plan-leader">
          {leaderId ? (
            <p>
              Fired by the leader <strong className="mono">{leaderId}</strong>
              {leader && (
                <span className="muted">
                  {' '}
                  · {leader.address} · up{' '}
                  {formatRelative(Date.now() - leader.uptimeMs, now).replace(' ago', '')}
                </span>
              )}
              {plan.data.firing
                ? ' (the node answering you)'
                : `; this view comes from ${plan.data.node}`}
              .
            </p>
          ) : (
            <Notice kind="warning">
              No leader right now (an election is running): nothing fires until one is elected;
              missed fires then follow each job's misfire policy.
            </Notice>
          )}
        </div>
      )}

      <ErrorBanner error={plan.error} onRetry={plan.reload} />
      <Timeline
        items={plan.data?.items ?? []}
        fires={fires}
        now={now}
        windowMs={minutes * 60_000}
      />
      <Table
        caption="Planned jobs"
        columns={columns}
        rows={plan.data?.items}
        rowKey={(item) => item.jobId}
        loading={plan.loading && !plan.data}
        testId="plan-table"
        empty="No active jobs: paused jobs and jobs whose schedule has no more fires are not planned."
      />
      <Pager paged={plan} label="Plan pages" pageSize={PAGE_SIZE} />
    </section>
  );
}

function When({ at, now, never }: { at: string | null; now: number; never: string }) {
  if (!at) return <span className="muted">{never}</span>;
  return (
    <>
      {formatTime(at)}
      <div className="muted small">{formatRelative(at, now)}</div>
    </>
  );
}

/** The current time, ticking. */
function useNow(everyMs: number): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}

interface FireCache {
  fetchedAt: number;
  /** The plan's nextFireAt the list was fetched for (a changed schedule refetches). */
  nextFireAt: string | null;
  fires: number[];
}

/**
 * Upcoming fire times (epoch ms) per job id for the timeline: the next 100 of each visible
 * job (GET /api/jobs/{id}/next-fires), asked again when they run out within the window or the
 * plan's next fire moved (the job changed).
 */
function useUpcomingFires(items: PlanItem[], windowMs: number, now: number): Map<string, number[]> {
  const cache = useRef(new Map<string, FireCache>());
  const inFlight = useRef(new Set<string>());
  const [, setVersion] = useState(0);
  useEffect(() => {
    for (const item of items) {
      const cached = cache.current.get(item.jobId);
      const future = cached?.fires.filter((t) => t >= now) ?? [];
      const stale =
        !cached ||
        (item.nextFireAt !== null &&
          !cached.fires.includes(Date.parse(item.nextFireAt)) &&
          now - cached.fetchedAt > 2000) ||
        (future.length < 100 &&
          future.length > 0 &&
          future[future.length - 1] < now + windowMs &&
          cached.fires.length >= 100 &&
          now - cached.fetchedAt > 5000) ||
        (future.length === 0 && item.nextFireAt !== null && now - cached.fetchedAt > 5000);
      if (!stale || inFlight.current.has(item.jobId)) continue;
      inFlight.current.add(item.jobId);
      call(
        api.GET('/api/jobs/{id}/next-fires', {
          params: { path: { id: item.jobId }, query: { count: 100 } },
        }),
      )
        .then((answer) => {
          cache.current.set(item.jobId, {
            fetchedAt: Date.now(),
            nextFireAt: item.nextFireAt,
            fires: answer.fires.map((fire) => Date.parse(fire.utc)),
          });
          setVersion((v) => v + 1);
        })
        .catch(() => undefined)
        .finally(() => inFlight.current.delete(item.jobId));
    }
  }, [items, windowMs, now]);
  const out = new Map<string, number[]>();
  for (const item of items) {
    const fires = new Set(cache.current.get(item.jobId)?.fires ?? []);
    if (item.nextFireAt) fires.add(Date.parse(item.nextFireAt));
    out.set(
      item.jobId,
      [...fires].filter((t) => t >= now - 1000 && t <= now + windowMs).sort((a, b) => a - b),
    );
  }
  return out;
}

const ROW = 26;
const AXIS = 28;

/** An SVG timeline: one row per job, a mark per fire in the window, a line at now. */
function Timeline({
  items,
  fires,
  now,
  windowMs,
}: {
  items: PlanItem[];
  fires: Map<string, number[]>;
  now: number;
  windowMs: number;
}) {
  const [ref, width] = useWidth<HTMLDivElement>(800);
  const label = Math.min(200, Math.max(90, Math.round(width * 0.22)));
  const plot = Math.max(50, width - label - 16);
  const x = (t: number) => label + ((t - now) / windowMs) * plot;
  const height = AXIS + Math.max(1, items.length) * ROW + 6;
  const minutes = windowMs / 60_000;
  const stepMin = minutes <= 5 ? 1 : minutes <= 15 ? 3 : 10;
  const ticks: number[] = [];
  for (let m = 0; m <= minutes; m += stepMin) ticks.push(now + m * 60_000);
  const total = [...fires.values()].reduce((sum, list) => sum + list.length, 0);
  return (
    <div className="card timeline" ref={ref} data-testid="plan-timeline">
      <h2 className="timeline-title">Next {minutes} minutes</h2>
      <svg
        width={width}
        height={height}
        role="img"
        aria-label={`Timeline: ${total} fires of ${items.length} jobs in the next ${minutes} minutes`}
      >
        {ticks.map((t, i) => (
          <g key={i} className="tl-tick">
            <line x1={x(t)} x2={x(t)} y1={AXIS - 6} y2={height} />
            <text
              x={x(t)}
              y={AXIS - 10}
              textAnchor={i === 0 ? 'start' : i === ticks.length - 1 ? 'end' : 'middle'}
            >
              {i === 0 ? 'now' : `+${Math.round((t - now) / 60_000)} min`}
            </text>
          </g>
        ))}
        {items.length === 0 && (
          <text x={label} y={AXIS + 18} className="tl-empty">
            nothing planned
          </text>
        )}
        {items.map((item, row) => {
          const y = AXIS + row * ROW + ROW / 2;
          const list = fires.get(item.jobId) ?? [];
          const dense = list.length > plot / 3;
          return (
            <g key={item.jobId} className="tl-row">
              <text x={label - 8} y={y + 4} textAnchor="end" className="tl-label">
                {item.name.length > 26 ? `${item.name.slice(0, 25)}…` : item.name}
              </text>
              <line x1={label} x2={label + plot} y1={y} y2={y} className="tl-track" />
              {dense ? (
                <rect
                  x={x(list[0])}
                  y={y - 4}
                  width={Math.max(2, x(list[list.length - 1]) - x(list[0]))}
                  height={8}
                  className="tl-dense"
                >
                  <title>{`${item.name}: ${list.length} fires in the window`}</title>
                </rect>
              ) : (
                list.map((t) => (
                  <circle key={t} cx={x(t)} cy={y} r={4.5} className="tl-fire">
                    <title>{`${item.name} fires at ${formatTime(t)} (${formatRelative(t, now)})`}</title>
                  </circle>
                ))
              )}
            </g>
          );
        })}
        <line x1={x(now)} x2={x(now)} y1={AXIS - 6} y2={height} className="tl-now" />
      </svg>
    </div>
  );
}
