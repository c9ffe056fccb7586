import { Link } from 'react-router';
import { api, call } from '../api/client';
import type { NodeInfo, Worker } from '../api/client';
import { useEvents, useThrottled } from '../api/events';
import { ErrorBanner } from '../components/Banner';
import { ScreenHeader } from '../components/Layout';
import { LiveIndicator } from '../components/LiveIndicator';
import { Table } from '../components/Table';
import type { Column } from '../components/Table';
import { formatDuration, formatRelative, formatTime } from '../components/time';
import { useAsync } from '../components/useAsync';
import { useNow } from '../components/useNow';
import { usePoll } from '../components/usePoll';
import '../observe.css';

const POLL_MS = 5000;
/** Workers (their load and last heartbeat) are re-read this often while the screen is open. */
const WORKERS_MS = 5000;

/** Every live worker the caller may see (all pages). */
async function allWorkers(): Promise<Worker[]> {
  const workers: Worker[] = [];
  let cursor: string | undefined;
  do {
    const page = await call(api.GET('/api/workers', { params: { query: { limit: 500, cursor } } }));
    workers.push(...page.items);
    cursor = page.next;
  } while (cursor);
  return workers;
}

/**
 * The cluster: scheduler nodes (the leader marked) and the live workers of each group with
 * their load and last heartbeat (both from GET /api/workers). Node and worker events
 * (GET /api/events) update it as they happen; execution events re-read the load.
 */
export function ClusterScreen() {
  const now = useNow(1000);
  const nodes = useAsync(() => call(api.GET('/api/nodes')), [], 30_000);
  const self = useAsync(() => call(api.GET('/api/nodes/self')), [], 60_000);
  const workers = useAsync(allWorkers, [], WORKERS_MS);
  const reloadNodes = useThrottled(nodes.reload, 500);
  const reloadWorkers = useThrottled(workers.reload, 500);
  const reloadLoad = useThrottled(workers.reload, 2000);
  const stream = useEvents(
    { types: ['node', 'worker', 'execution'] },
    {
      onEvent: (event) => {
        if (event.type === 'node') reloadNodes();
        else if (event.type === 'worker') {
          if (event.data.change === 'left' && workers.data) {
            workers.setData(workers.data.filter((w) => w.id !== event.data.workerId));
          }
          reloadWorkers();
        } else reloadLoad();
      },
      onReset: () => {
        reloadNodes();
        reloadWorkers();
      },
    },
  );
  // While the stream is down: poll.
  const polling = stream !== 'live';
  usePoll(
    polling,
    () => {
      nodes.reload();
      workers.reload();
    },
    POLL_MS,
  );

  const selfId = self.data?.id;
  const nodeColumns: Column<NodeInfo>[] = [
    {
      header: 'Node',
      render: (node) => (
        <>
          <span className="mono">{node.id}</span>{' '}
          {node.leader && (
            <span className="badge badge-leader" data-testid="node-leader">
              leader
            </span>
          )}
          {node.id === selfId && <span className="muted small"> (answering you)</span>}
        </>
      ),
    },
    { header: 'Address', render: (node) => <span className="mono small">{node.address}</span> },
    { header: 'Version', render: (node) => node.version },
    {
      header: 'Up',
      render: (node) => (
        <>
          {formatDuration(now - Date.parse(node.startedAt), false)}
          <div className="muted small">since {formatTime(node.startedAt)}</div>
        </>
      ),
    },
  ];

  const workerColumns: Column<Worker>[] = [
    {
      header: 'Worker',
      render: (w) => (
        <>
          <Link
            to={`/executions?worker=${encodeURIComponent(w.id)}`}
            className="mono"
            aria-label={`Executions of worker ${w.id}`}
          >
            {w.id}
          </Link>
          {w.leavingAt && (
            <div>
              <span className="badge status-pending">leaving</span>{' '}
              <span className="muted small">since {formatRelative(w.leavingAt, now)}</span>
            </div>
          )}
        </>
      ),
    },
    {
      header: 'Load',
      render: (w) => <LoadBar load={w.load} capacity={w.capacity} />,
    },
    {
      header: 'Host',
      render: (w) => (
        <>
          {w.host} <span className="muted small">pid {w.pid}</span>
        </>
      ),
    },
    {
      header: 'Labels',
      render: (w) => {
        const entries = Object.entries(w.labels as Record<string, unknown>);
        return entries.length === 0 ? (
          <span className="muted">none</span>
        ) : (
          <span className="chips">
            {entries.map(([key, value]) => (
              <span key={key} className="chip">
                {key}={String(value)}
              </span>
            ))}
          </span>
        );
      },
    },
    {
      header: 'Targets',
      render: (w) => (
        <span className="chips">
          {w.targets.map((t) => (
            <code key={t} className="chip">
              {t}
            </code>
          ))}
        </span>
      ),
    },
    {
      header: 'Last heartbeat',
      render: (w) =>
        w.lastHeartbeatAt ? (
          <span data-testid="worker-heartbeat" title={formatTime(w.lastHeartbeatAt)}>
            {formatRelative(w.lastHeartbeatAt, now)}
          </span>
        ) : (
          <span className="muted">lease expiring</span>
        ),
    },
    {
      header: 'Registered',
      render: (w) => (
        <>
          {formatRelative(w.registeredAt, now)}
          <div className="muted small">via {w.node}</div>
        </>
      ),
    },
  ];

  const byGroup = new Map<string, Worker[]>();
  for (const worker of workers.data ?? []) {
    const list = byGroup.get(worker.group) ?? [];
    list.push(worker);
    byGroup.set(worker.group, list);
  }
  const groups = [...byGroup.keys()].sort();

  return (
    <section>
      <ScreenHeader title="Cluster" actions={<LiveIndicator status={stream} />}>
        Scheduler nodes and the workers of each group. A worker is listed while its lease is alive
        (it heartbeats); one that stops disappears within its lease TTL.
      </ScreenHeader>

      <h2>Nodes</h2>
      <ErrorBanner error={nodes.error} onRetry={nodes.reload} />
      {nodes.data && !nodes.data.some((node) => node.leader) && (
        <p className="banner banner-warning" role="status">
          No leader right now (an election is running): nothing fires until one is elected.
        </p>
      )}
      <Table
        caption="Scheduler nodes"
        columns={nodeColumns}
        rows={nodes.data}
        rowKey={(node) => node.id}
        rowProps={(node) => ({
          'data-testid': 'node-row',
          'data-leader': node.leader ? 'true' : 'false',
        })}
        loading={nodes.loading && !nodes.data}
        testId="cluster-nodes-table"
        empty="No live nodes."
      />

      <h2>Workers</h2>
      <ErrorBanner error={workers.error} onRetry={workers.reload} />
      {workers.data && groups.length === 0 && (
        <p className="card muted" data-testid="cluster-no-workers">
          No live workers. Start one with the worker SDK (see the README: Workers and executions).
        </p>
      )}
      {!workers.data && !workers.error && (
        <p className="muted" role="status">
          Loading…
        </p>
      )}
      {groups.map((group) => {
        const list = byGroup.get(group) ?? [];
        const capacity = list.reduce((sum, w) => sum + w.capacity, 0);
        const busy = list.reduce((sum, w) => sum + w.load.assigned + w.load.running, 0);
        return (
          <div key={group} className="worker-group" data-testid="cluster-group" data-group={group}>
            <h3>
              <Link to={`/groups/${encodeURIComponent(group)}`}>{group}</Link>{' '}
              <span className="muted small">
                {list.length} worker{list.length === 1 ? '' : 's'} · {busy} of {capacity} slots in
                use
              </span>
            </h3>
            <Table
              caption={`Workers of group ${group}`}
              columns={workerColumns}
              rows={list}
              rowKey={(w) => w.id}
              rowProps={(w) => ({ 'data-testid': 'worker-row', 'data-group': w.group })}
              testId={`cluster-workers-${group}`}
            />
          </div>
        );
      })}
    </section>
  );
}

function LoadBar({ load, capacity }: { load: Worker['load']; capacity: number }) {
  const { running, assigned } = load;
  const used = running + assigned;
  const pct = (n: number) => `${Math.min(100, (n / Math.max(1, capacity)) * 100)}%`;
  const text = `${running} running, ${assigned} assigned of ${capacity}`;
  return (
    <div className="load" data-testid="worker-load" data-used={used} data-capacity={capacity}>
      <div className="load-bar" role="img" aria-label={text} title={text}>
        <span className="load-running" style={{ width: pct(running) }} />
        <span className="load-assigned" style={{ width: pct(assigned) }} />
      </div>
      <span className="small">
        {used}/{capacity}
        {assigned > 0 && <span className="muted"> ({assigned} assigned)</span>}
      </span>
    </div>
  );
}
