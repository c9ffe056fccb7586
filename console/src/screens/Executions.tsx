import { useRef, useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { api, call } from '../api/client';
import type { Schemas } from '../api/client';
import { useEvents, useThrottled } from '../api/events';
import type { ExecutionEvent } from '../api/events';
import { useGroupNames } from '../api/lookups';
import { ErrorBanner } from '../components/Banner';
import { EXECUTION_STATUSES, StatusBadge } from '../components/ExecutionStatus';
import type { ExecutionStatus } from '../components/ExecutionStatus';
import { Field } from '../components/Field';
import { ScreenHeader } from '../components/Layout';
import { LiveIndicator } from '../components/LiveIndicator';
import { Pager, usePaged } from '../components/Pager';
import { Table } from '../components/Table';
import type { Column } from '../components/Table';
import { formatDuration, formatRelative, formatTime } from '../components/time';
import { useAsync } from '../components/useAsync';
import { useNow } from '../components/useNow';
import '../observe.css';

type Summary = Schemas['ExecutionSummaryDto'];
type Trigger = Summary['trigger'];

const PAGE_SIZE = 25;
const POLL_MS = 4000;
const TRIGGERS: readonly Trigger[] = ['schedule', 'manual', 'retry'];

/** `2026-12-05T02:13` (a datetime-local value, the browser's zone) as an ISO instant. */
function localToIso(value: string): string | undefined {
  if (!value) return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/**
 * Executions, live and finished, newest first: filters in the URL, paged; status changes
 * arrive through GET /api/events (rows change in place, new executions reload page 1), or
 * by polling while the stream is down.
 */
export function ExecutionsScreen() {
  const [search, setSearch] = useSearchParams();
  const filter = {
    jobId: search.get('job') ?? '',
    group: search.get('group') ?? '',
    status: (search.get('status') ?? '') as ExecutionStatus | '',
    worker: search.get('worker') ?? '',
    trigger: (search.get('trigger') ?? '') as Trigger | '',
    from: search.get('from') ?? '',
    to: search.get('to') ?? '',
    q: search.get('q') ?? '',
  };
  const [filtersShown, setFiltersShown] = useState(false);
  const [draft, setDraft] = useState({ jobId: filter.jobId, worker: filter.worker, q: filter.q });
  const groups = useGroupNames();
  const jobs = useAsync(() => call(api.GET('/api/jobs', { params: { query: { limit: 500 } } })), [])
    .data?.items;
  const now = useNow(1000);

  const setFilter = (changes: Record<string, string>) => {
    const next = new URLSearchParams(search);
    for (const [key, value] of Object.entries(changes)) {
      if (value) next.set(key, value);
      else next.delete(key);
    }
    setSearch(next, { replace: true });
  };

  const [liveStatus, setLiveStatus] = useState<'live' | 'other'>('other');
  const executions = usePaged(
    (cursor) =>
      call(
        api.GET('/api/executions', {
          params: {
            query: {
              limit: PAGE_SIZE,
              cursor,
              jobId: filter.jobId || undefined,
              group: filter.group || undefined,
              status: filter.status || undefined,
              worker: filter.worker || undefined,
              trigger: filter.trigger || undefined,
              from: localToIso(filter.from),
              to: localToIso(filter.to),
              q: filter.q || undefined,
            },
          },
        }),
      ),
    [
      filter.jobId,
      filter.group,
      filter.status,
      filter.worker,
      filter.trigger,
      filter.from,
      filter.to,
      filter.q,
    ],
    liveStatus === 'live' ? undefined : POLL_MS,
  );
  const dataRef = useRef(executions.data);
  dataRef.current = executions.data;
  const reloadSoon = useThrottled(executions.reload, 1500);

  const onExecution = (event: ExecutionEvent) => {
    const page = dataRef.current;
    const index = page?.items.findIndex((item) => item.id === event.id) ?? -1;
    if (page && index >= 0) {
      const items = page.items.slice();
      const merged = { ...items[index], ...event };
      if (merged.startedAt && merged.finishedAt) {
        merged.durationMs = Date.parse(merged.finishedAt) - Date.parse(merged.startedAt);
      }
      items[index] = merged;
      executions.setData({ ...page, items });
      // A row that no longer matches the status filter leaves on the next load.
      if (filter.status && event.status !== filter.status) reloadSoon();
    } else if (executions.page === 1) {
      reloadSoon();
    }
  };
  const stream = useEvents(
    { types: ['execution'], group: filter.group || undefined, jobId: filter.jobId || undefined },
    {
      onEvent: (event) => event.type === 'execution' && onExecution(event.data),
      onReset: reloadSoon,
    },
  );
  if ((stream === 'live') !== (liveStatus === 'live')) {
    setLiveStatus(stream === 'live' ? 'live' : 'other');
  }

  const filtered = Object.values(filter).some(Boolean);
  const columns: Column<Summary>[] = [
    {
      header: 'Execution',
      render: (e) => (
        <>
          <Link
            to={`/executions/${encodeURIComponent(e.id)}`}
            aria-label={`Execution ${e.id}`}
            data-testid="execution-link"
          >
            {e.jobName}
          </Link>
          <div className="muted mono small">{e.id}</div>
        </>
      ),
    },
    {
      header: 'Group',
      render: (e) => <Link to={`/groups/${encodeURIComponent(e.group)}`}>{e.group}</Link>,
    },
    {
      header: 'Status',
      render: (e) => (
        <>
          <StatusBadge status={e.status} />
          {e.attempt > 1 && <div className="muted small">attempt {e.attempt}</div>}
          {e.shard && (
            <div className="muted small">
              shard {e.shard.index + 1}/{e.shard.total}
            </div>
          )}
        </>
      ),
    },
    {
      header: 'Trigger',
      render: (e) => (
        <>
          {e.trigger}
          {e.catchUp && <div className="muted small">catch-up</div>}
        </>
      ),
    },
    {
      header: 'Scheduled',
      render: (e) => (
        <>
          {formatTime(e.scheduledAt)}
          <div className="muted small">{formatRelative(e.scheduledAt, now)}</div>
        </>
      ),
    },
    {
      header: 'Worker',
      render: (e) => (e.worker ? <span className="mono small nowrap">{e.worker}</span> : '—'),
    },
    {
      header: 'Duration',
      render: (e) =>
        e.durationMs !== undefined
          ? formatDuration(e.durationMs)
          : e.startedAt && e.status === 'running'
            ? `${formatDuration(Math.max(0, now - Date.parse(e.startedAt)), true)}…`
            : '—',
    },
    {
      header: 'Error / reason',
      className: 'cell-wrap',
      render: (e) => {
        const text = e.error ?? e.skipReason ?? '';
        return text ? (
          <span className="small clip" title={text}>
            {text}
          </span>
        ) : (
          ''
        );
      },
    },
  ];

  return (
    <section>
      <ScreenHeader title="Executions" actions={<LiveIndicator status={stream} />}>
        Every run, live and finished, newest first.
      </ScreenHeader>

      <button
        type="button"
        className="filters-toggle"
        aria-expanded={filtersShown}
        aria-controls="executions-filters"
        onClick={() => setFiltersShown((shown) => !shown)}
        data-testid="executions-filters-toggle"
      >
        Filters
        {filtered && ` (${Object.values(filter).filter(Boolean).length} set)`}
      </button>
      <form
        id="executions-filters"
        className={`filters filters-collapsible${filtersShown ? ' filters-shown' : ''}`}
        role="search"
        aria-label="Filter executions"
        onSubmit={(event) => {
          event.preventDefault();
          setFilter({ job: draft.jobId.trim(), worker: draft.worker.trim(), q: draft.q.trim() });
        }}
      >
        <Field label="Job">
          <input
            type="search"
            list="executions-job-ids"
            value={draft.jobId}
            placeholder="job id"
            onChange={(e) => setDraft({ ...draft, jobId: e.target.value })}
            onBlur={() =>
              draft.jobId.trim() !== filter.jobId && setFilter({ job: draft.jobId.trim() })
            }
            data-testid="executions-filter-job"
          />
        </Field>
        <datalist id="executions-job-ids">
          {jobs?.map((job) => (
            <option key={job.id} value={job.id}>
              {job.name}
            </option>
          ))}
        </datalist>
        <Field label="Group">
          <select
            value={filter.group}
            onChange={(e) => setFilter({ group: e.target.value })}
            data-testid="executions-filter-group"
          >
            <option value="">All groups</option>
            {groups.map((g) => (
              <option key={g} value={g}>
                {g}
              </option>
            ))}
            {filter.group && !groups.includes(filter.group) && (
              <option value={filter.group}>{filter.group}</option>
            )}
          </select>
        </Field>
        <Field label="Status">
          <select
            value={filter.status}
            onChange={(e) => setFilter({ status: e.target.value })}
            data-testid="executions-filter-status"
          >
            <option value="">Any status</option>
            {EXECUTION_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s.replace('_', ' ')}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Trigger">
          <select
            value={filter.trigger}
            onChange={(e) => setFilter({ trigger: e.target.value })}
            data-testid="executions-filter-trigger"
          >
            <option value="">Any trigger</option>
            {TRIGGERS.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Worker">
          <input
            type="search"
            value={draft.worker}
            placeholder="worker id"
            onChange={(e) => setDraft({ ...draft, worker: e.target.value })}
            onBlur={() =>
              draft.worker.trim() !== filter.worker && setFilter({ worker: draft.worker.trim() })
            }
            data-testid="executions-filter-worker"
          />
        </Field>
        <Field label="Scheduled from">
          <input
            type="datetime-local"
            value={filter.from}
            onChange={(e) => setFilter({ from: e.target.value })}
            data-testid="executions-filter-from"
          />
        </Field>
        <Field label="Scheduled to">
          <input
            type="datetime-local"
            value={filter.to}
            onChange={(e) => setFilter({ to: e.target.value })}
            data-testid="executions-filter-to"
          />
        </Field>
        <Field label="Output or error contains">
          <input
            type="search"
            value={draft.q}
            placeholder="text…"
            onChange={(e) => {
              setDraft({ ...draft, q: e.target.value });
              if (e.target.value === '') setFilter({ q: '' });
            }}
            data-testid="executions-search"
          />
        </Field>
        <button type="submit" className="filters-submit">
          Search
        </button>
        {filtered && (
          <button
            type="button"
            className="button-plain"
            onClick={() => {
              setDraft({ jobId: '', worker: '', q: '' });
              setSearch(new URLSearchParams(), { replace: true });
            }}
            data-testid="executions-filter-clear"
          >
            Clear filters
          </button>
        )}
      </form>

      <ErrorBanner error={executions.error} onRetry={executions.reload} />
      <Table
        caption="Executions"
        columns={columns}
        rows={executions.data?.items}
        rowKey={(e) => e.id}
        rowProps={(e) => ({ 'data-testid': 'execution-row', 'data-status': e.status })}
        loading={executions.loading && !executions.data}
        testId="executions-table"
        empty={
          executions.data?.next
            ? 'None on this page; older executions may follow (Next).'
            : filtered
              ? 'No execution matches these filters.'
              : 'No executions yet: they appear when a job fires or is triggered.'
        }
      />
      <Pager paged={executions} label="Executions pages" pageSize={PAGE_SIZE} />
    </section>
  );
}
