import { useEffect, useRef, useState } from 'react';
import type { ReactNode } from 'react';
import { Link, useParams } from 'react-router';
import { api, ApiError, call } from '../api/client';
import type { Execution, Schemas } from '../api/client';
import { readSse, StreamError, useEvents, useThrottled } from '../api/events';
import { useCan } from '../components/auth';
import { ErrorBanner, Notice } from '../components/Banner';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { isLive, StatusBadge } from '../components/ExecutionStatus';
import { Field } from '../components/Field';
import { showJson } from '../components/json';
import { ScreenHeader } from '../components/Layout';
import { LiveIndicator } from '../components/LiveIndicator';
import { Table } from '../components/Table';
import type { Column } from '../components/Table';
import { formatDuration, formatRelative, formatTime } from '../components/time';
import { useAsync } from '../components/useAsync';
import { useNow } from '../components/useNow';
import '../observe.css';

type Summary = Schemas['ExecutionSummaryDto'];
type LogLine = Schemas['LogLineDto'];

const POLL_MS = 3000;

/** The id of a fire's first attempt: `{jobId}~{key}` without `.r{n}` (retry) or `.s{n}` (shard). */
function fireOf(id: string): string {
  return id.replace(/(\.[rs]\d+)+$/, '');
}

/**
 * One execution: what it ran with, its timeline, attempts, output and error, its logs (live
 * while it runs), and Cancel while it is pending, assigned or running. Follows the job's
 * execution events, so it changes as the execution does.
 */
export function ExecutionDetailScreen() {
  const { id = '' } = useParams();
  const canOperate = useCan('operate');
  const now = useNow(1000);
  const [streamLive, setStreamLive] = useState(false);
  const execution = useAsync(
    () => call(api.GET('/api/executions/{id}', { params: { path: { id } } })),
    [id],
  );
  const exec = execution.data?.id === id ? execution.data : undefined;
  const running = exec ? isLive(exec.status) : false;
  const attempts = useAsync(
    () => call(api.GET('/api/executions', { params: { query: { attemptsOf: id, limit: 100 } } })),
    [id],
  );
  const reload = useThrottled(() => {
    execution.reload();
    attempts.reload();
  }, 700);

  // Polls while the event stream is down and the execution can still change.
  useEffect(() => {
    if (streamLive || !running) return;
    const timer = setInterval(reload, POLL_MS);
    return () => clearInterval(timer);
  }, [streamLive, running, reload]);

  const fire = fireOf(id);
  const stream = useEvents(
    { types: ['execution'], jobId: exec?.jobId },
    {
      onEvent: (event) => {
        if (event.type !== 'execution') return;
        const changed = event.data.id;
        if (changed === id && execution.data?.id === id) {
          // Show the new status at once; the full record (output, timeline) follows.
          execution.setData({ ...execution.data, ...event.data });
        }
        if (changed === fire || changed.startsWith(`${fire}.`)) reload();
      },
      onReset: reload,
    },
    exec !== undefined,
  );
  if ((stream === 'live') !== streamLive) setStreamLive(stream === 'live');

  const [cancelling, setCancelling] = useState(false);
  const [reason, setReason] = useState('');
  const [cancelBusy, setCancelBusy] = useState(false);
  const [cancelError, setCancelError] = useState<unknown>();
  const [notice, setNotice] = useState<string>();
  const confirmCancel = () => {
    setCancelBusy(true);
    setCancelError(undefined);
    call(
      api.POST('/api/executions/{id}/cancel', {
        params: { path: { id } },
        body: { reason: reason.trim() || undefined },
      }),
    )
      .then((cancelled) => {
        execution.setData(cancelled);
        setCancelling(false);
        setNotice('Cancelled. A worker running it aborts its handler at its next heartbeat.');
        attempts.reload();
      })
      .catch((error: unknown) => {
        if (error instanceof ApiError && error.status === 409) {
          setCancelling(false);
          setNotice(`It could not be cancelled: ${error.message}`);
          execution.reload();
        } else setCancelError(error);
      })
      .finally(() => setCancelBusy(false));
  };

  const notFound = execution.error instanceof ApiError && execution.error.status === 404;
  return (
    <section>
      <ScreenHeader
        title={exec ? `Execution of ${exec.jobName}` : 'Execution'}
        actions={
          <>
            {exec && running && <LiveIndicator status={stream} />}
            {exec && running && canOperate && (
              <button
                type="button"
                className="button-danger-outline"
                onClick={() => {
                  setReason('');
                  setCancelError(undefined);
                  setCancelling(true);
                }}
                data-testid="execution-cancel"
              >
                Cancel execution
              </button>
            )}
          </>
        }
      >
        <span className="mono">{id}</span> ·{' '}
        <Link to={exec ? `/executions?job=${encodeURIComponent(exec.jobId)}` : '/executions'}>
          {exec ? 'all executions of this job' : 'all executions'}
        </Link>
      </ScreenHeader>

      {notice && <Notice onClose={() => setNotice(undefined)}>{notice}</Notice>}
      {notFound ? (
        <Notice kind="warning">
          No execution <code>{id}</code>: it never existed, was deleted by retention, or belongs to
          a group your token may not see.
        </Notice>
      ) : (
        <ErrorBanner error={execution.error} onRetry={execution.reload} />
      )}
      {!exec && !execution.error && (
        <p className="muted" role="status">
          Loading…
        </p>
      )}
      {exec && (
        <>
          <Summary exec={exec} now={now} />
          <div className="detail-columns">
            <TimelineCard exec={exec} now={now} />
            <AttemptsCard
              id={id}
              attempts={attempts.data?.items}
              error={attempts.error}
              retry={exec.retryPolicy}
            />
          </div>
          <Payloads exec={exec} />
          <LogsPanel key={id} id={id} live={running} onEnd={reload} />
        </>
      )}

      <ConfirmDialog
        open={cancelling}
        title="Cancel this execution?"
        confirmLabel="Cancel execution"
        danger
        busy={cancelBusy}
        error={cancelError}
        onConfirm={confirmCancel}
        onCancel={() => setCancelling(false)}
        testId="execution-cancel-dialog"
      >
        <p>
          <code>{id}</code> ({exec?.status}) leaves the queue or its worker; a running handler is
          aborted. It is not retried.
        </p>
        <Field label="Reason (optional)" hint="Kept in the execution's error.">
          <input
            value={reason}
            maxLength={500}
            onChange={(event) => setReason(event.target.value)}
            data-testid="execution-cancel-reason"
          />
        </Field>
      </ConfirmDialog>
    </section>
  );
}

function Item({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="dl-item">
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}

function Summary({ exec, now }: { exec: Execution; now: number }) {
  const duration =
    exec.durationMs ??
    (exec.startedAt && isLive(exec.status)
      ? Math.max(0, now - Date.parse(exec.startedAt))
      : undefined);
  return (
    <div className="card" data-testid="execution-summary">
      <dl className="dl-grid">
        <Item label="Status">
          <StatusBadge status={exec.status} />
        </Item>
        <Item label="Job">
          <Link to={`/jobs/${encodeURIComponent(exec.jobId)}`}>{exec.jobName}</Link>{' '}
          <span className="muted mono small">{exec.jobId}</span>
        </Item>
        <Item label="Group">
          <Link to={`/groups/${encodeURIComponent(exec.group)}`}>{exec.group}</Link>
        </Item>
        <Item label="Target">
          <code>{exec.target}</code>
        </Item>
        <Item label="Trigger">
          {exec.trigger}
          {exec.catchUp && ' (misfire catch-up)'}
          {exec.forced && ' (forced)'}
        </Item>
        <Item label="Attempt">
          {exec.attempt}
          {exec.retryPolicy && ` of ${exec.retryPolicy.maxAttempts + 1}`}
        </Item>
        <Item label="Scheduled">
          {formatTime(exec.scheduledAt)}{' '}
          <span className="muted small">{formatRelative(exec.scheduledAt, now)}</span>
        </Item>
        <Item label="Fired">
          {formatTime(exec.firedAt)}{' '}
          <span className="muted small">
            by {exec.firedBy.node}
            {exec.firedBy.token > 0 && ` (fencing token ${exec.firedBy.token})`}
          </span>
        </Item>
        <Item label="Started">{formatTime(exec.startedAt)}</Item>
        <Item label="Finished">{formatTime(exec.finishedAt)}</Item>
        <Item label="Duration">
          {duration !== undefined ? formatDuration(duration) : '—'}
          {isLive(exec.status) && duration !== undefined && ' so far'}
        </Item>
        <Item label="Worker">
          {exec.worker ? <span className="mono">{exec.worker}</span> : '—'}
          {exec.shard && ` (shard ${exec.shard.index + 1} of ${exec.shard.total})`}
        </Item>
        <Item label="Time limit">{exec.timeoutMs ? formatDuration(exec.timeoutMs) : 'none'}</Item>
        <Item label="Concurrency">{exec.concurrency ?? 'allow'}</Item>
        {exec.dispatch && <Item label="Dispatch">{exec.dispatch.strategy}</Item>}
        {exec.retryOf && (
          <Item label="Retry of">
            <Link to={`/executions/${encodeURIComponent(exec.retryOf)}`} className="mono small">
              {exec.retryOf}
            </Link>
          </Item>
        )}
        {exec.retryAt && (
          <Item label="Not before">
            {formatTime(exec.retryAt)}{' '}
            <span className="muted small">{formatRelative(exec.retryAt, now)} (backoff)</span>
          </Item>
        )}
        <Item label="Retries">
          {exec.retryPolicy
            ? `${exec.retryPolicy.maxAttempts} more, ${exec.retryPolicy.backoff} from ${formatDuration(exec.retryPolicy.initialDelayMs)} (at most ${formatDuration(exec.retryPolicy.maxDelayMs)})`
            : 'not retried'}
        </Item>
      </dl>
      {exec.skipReason && (
        <p className="detail-note" data-testid="execution-skip-reason">
          <strong>Skipped:</strong> {exec.skipReason}
        </p>
      )}
      {exec.cancelledBy && (
        <p className="detail-note" data-testid="execution-cancelled-by">
          <strong>Cancelled</strong>{' '}
          {exec.cancelledBy.kind === 'replace' ? (
            <>
              by a newer execution
              {exec.cancelledBy.by && (
                <>
                  {' '}
                  <Link
                    to={`/executions/${encodeURIComponent(exec.cancelledBy.by)}`}
                    className="mono"
                  >
                    {exec.cancelledBy.by}
                  </Link>
                </>
              )}{' '}
              (concurrency replace)
            </>
          ) : (
            <>through the API{exec.cancelledBy.by && ` by ${exec.cancelledBy.by}`}</>
          )}{' '}
          on {exec.cancelledBy.node}
          {exec.cancelledBy.reason && `: ${exec.cancelledBy.reason}`}
        </p>
      )}
    </div>
  );
}

function TimelineCard({ exec, now }: { exec: Execution; now: number }) {
  const first = exec.timeline.length > 0 ? Date.parse(exec.timeline[0].at) : 0;
  return (
    <div className="card">
      <h2 className="card-title">Timeline</h2>
      <ol className="exec-timeline" data-testid="execution-timeline">
        {exec.timeline.map((entry, i) => (
          <li key={`${entry.status}-${entry.at}-${i}`} data-status={entry.status}>
            <StatusBadge status={entry.status} /> <span>{formatTime(entry.at)}</span>{' '}
            <span className="muted small">
              {i > 0
                ? `+${formatDuration(Date.parse(entry.at) - first)}`
                : formatRelative(entry.at, now)}
              {' · '}
              {entry.node}
              {entry.worker && (
                <>
                  {' · '}
                  <span className="mono">{entry.worker}</span>
                </>
              )}
            </span>
          </li>
        ))}
      </ol>
    </div>
  );
}

function AttemptsCard({
  id,
  attempts,
  error,
  retry,
}: {
  id: string;
  attempts: Summary[] | undefined;
  error: unknown;
  retry: Execution['retryPolicy'];
}) {
  const columns: Column<Summary>[] = [
    {
      header: 'Attempt',
      render: (a) =>
        a.id === id ? (
          <strong aria-current="page">#{a.attempt} (this one)</strong>
        ) : (
          <Link to={`/executions/${encodeURIComponent(a.id)}`} aria-label={`Attempt ${a.attempt}`}>
            #{a.attempt}
          </Link>
        ),
    },
    { header: 'Status', render: (a) => <StatusBadge status={a.status} /> },
    {
      header: 'When',
      render: (a) => formatTime(a.startedAt ?? a.retryAt ?? a.scheduledAt),
    },
    { header: 'Error', render: (a) => <span className="small clip">{a.error ?? ''}</span> },
  ];
  return (
    <div className="card">
      <h2 className="card-title">Attempts</h2>
      {!retry && (attempts?.length ?? 0) <= 1 ? (
        <p className="muted">One attempt: the job is not retried.</p>
      ) : (
        <>
          <ErrorBanner error={error} />
          <Table
            caption="Attempts of this fire"
            columns={columns}
            rows={attempts}
            rowKey={(a) => a.id}
            testId="execution-attempts"
          />
        </>
      )}
    </div>
  );
}

function Payloads({ exec }: { exec: Execution }) {
  return (
    <div className="detail-columns">
      <div className="card">
        <h2 className="card-title">Params</h2>
        <pre className="pre" data-testid="execution-params">
          {exec.params === null ? 'none' : showJson(exec.params)}
        </pre>
      </div>
      <div className="card">
        <h2 className="card-title">Output</h2>
        <pre className="pre" data-testid="execution-output">
          {exec.output ?? (isLive(exec.status) ? '(not finished yet)' : '(none)')}
        </pre>
        {exec.error && (
          <>
            <h2 className="card-title">Error</h2>
            <pre className="pre pre-error" data-testid="execution-error">
              {exec.error}
            </pre>
          </>
        )}
      </div>
    </div>
  );
}

type LogState =
  | { mode: 'loading' }
  | { mode: 'following' }
  | { mode: 'reconnecting' }
  | { mode: 'done' }
  | { mode: 'not-kept' }
  | { mode: 'error'; error: unknown };

const LOG_PAGE = 500;

/**
 * The execution's log lines: followed live (GET …/logs/follow, SSE `line` and `end`) while it
 * runs, else read page by page (GET …/logs). A node that keeps no logs (409 LOGS_NOT_KEPT)
 * is said quietly.
 */
function LogsPanel({ id, live, onEnd }: { id: string; live: boolean; onEnd: () => void }) {
  const [lines, setLines] = useState<LogLine[]>([]);
  const [state, setState] = useState<LogState>({ mode: 'loading' });
  const [next, setNext] = useState<number>();
  const [follow] = useState(live); // how the panel started: following or paging
  const box = useRef<HTMLPreElement>(null);
  const onEndRef = useRef(onEnd);
  onEndRef.current = onEnd;

  useEffect(() => {
    const controller = new AbortController();
    let lastSeq: number | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const append = (more: LogLine[]) => setLines((seen) => [...seen, ...more]);

    if (!follow) {
      call(
        api.GET('/api/executions/{id}/logs', {
          params: { path: { id }, query: { limit: LOG_PAGE } },
        }),
      ).then(
        (page) => {
          if (controller.signal.aborted) return;
          append(page.items);
          setNext(page.items.length >= LOG_PAGE ? page.next : undefined);
          setState({ mode: 'done' });
        },
        (error: unknown) => {
          if (controller.signal.aborted) return;
          setState(
            error instanceof ApiError && error.code === 'LOGS_NOT_KEPT'
              ? { mode: 'not-kept' }
              : { mode: 'error', error },
          );
        },
      );
      return () => controller.abort();
    }

    let ended = false;
    const open = () => {
      readSse(`/api/executions/${encodeURIComponent(id)}/logs/follow`, {
        signal: controller.signal,
        lastEventId: lastSeq !== undefined ? String(lastSeq) : undefined,
        onOpen: () => setState({ mode: 'following' }),
        onEvent: (event) => {
          if (event.type === 'line') {
            const line = JSON.parse(event.data) as LogLine;
            if (lastSeq !== undefined && line.seq <= lastSeq) return;
            lastSeq = line.seq;
            append([line]);
          } else if (event.type === 'end') {
            ended = true;
            setState({ mode: 'done' });
            onEndRef.current();
          }
        },
      }).then(
        () => {
          if (!ended && !controller.signal.aborted) retry();
        },
        (error: unknown) => {
          if (controller.signal.aborted) return;
          if (error instanceof StreamError && error.code === 'LOGS_NOT_KEPT') {
            setState({ mode: 'not-kept' });
          } else if (error instanceof StreamError && error.status === 404) {
            setState({ mode: 'error', error });
          } else retry(error instanceof StreamError ? error.retryAfterS : undefined);
        },
      );
    };
    const retry = (afterS?: number) => {
      setState({ mode: 'reconnecting' });
      timer = setTimeout(open, (afterS ?? 3) * 1000);
    };
    open();
    return () => {
      controller.abort();
      clearTimeout(timer);
    };
  }, [id, follow]);

  // Keeps the newest line in view while following, unless the reader scrolled up.
  useEffect(() => {
    const element = box.current;
    if (!element || !follow) return;
    const nearBottom = element.scrollHeight - element.scrollTop - element.clientHeight < 80;
    if (nearBottom) element.scrollTop = element.scrollHeight;
  }, [lines, follow]);

  const loadMore = () => {
    if (next === undefined) return;
    call(
      api.GET('/api/executions/{id}/logs', {
        params: { path: { id }, query: { after: next, limit: LOG_PAGE } },
      }),
    ).then(
      (page) => {
        setLines((seen) => [...seen, ...page.items]);
        setNext(page.items.length >= LOG_PAGE ? page.next : undefined);
      },
      (error: unknown) => setState({ mode: 'error', error }),
    );
  };

  const status =
    state.mode === 'following'
      ? live
        ? 'following live'
        : 'following'
      : state.mode === 'reconnecting'
        ? 'reconnecting…'
        : state.mode === 'loading'
          ? 'loading…'
          : '';
  return (
    <div className="card" data-testid="execution-logs" data-state={state.mode}>
      <h2 className="card-title">
        Logs{' '}
        {status && (
          <span className="muted small" role="status">
            ({status})
          </span>
        )}
      </h2>
      {state.mode === 'not-kept' ? (
        <p className="muted" data-testid="logs-not-kept">
          This node keeps no execution logs (etcd without a history database): the handler's lines
          are in the output.
        </p>
      ) : (
        <>
          {state.mode === 'error' && <ErrorBanner error={state.error} />}
          <pre className="pre logs" ref={box} tabIndex={0} aria-label="Log lines">
            {lines.length === 0 ? (
              <span className="muted">
                {state.mode === 'done' ? 'No log lines.' : live ? 'Waiting for lines…' : ''}
              </span>
            ) : (
              lines.map((line) => (
                <span key={line.seq} className={`log-line log-${line.level}`}>
                  <span className="muted">{formatTime(line.atMs).slice(11)}</span>{' '}
                  <span className="log-level">{line.level.toUpperCase().padEnd(5)}</span>{' '}
                  {line.text}
                  {'\n'}
                </span>
              ))
            )}
          </pre>
          {next !== undefined && (
            <button type="button" className="button-small" onClick={loadMore}>
              Load more lines
            </button>
          )}
        </>
      )}
    </div>
  );
}
