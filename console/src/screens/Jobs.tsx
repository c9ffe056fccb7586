import { useState } from 'react';
import type { ReactNode } from 'react';
import { Link, useSearchParams } from 'react-router';
import { api, ApiError, call } from '../api/client';
import type { Execution, Job } from '../api/client';
import { provided, useGroupNames, usePlugins } from '../api/lookups';
import { useCan } from '../components/auth';
import { ErrorBanner, Notice } from '../components/Banner';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { Field } from '../components/Field';
import { ScreenHeader } from '../components/Layout';
import { Pager, usePaged } from '../components/Pager';
import { Table } from '../components/Table';
import type { Column } from '../components/Table';
import { ExecutionLink, TriggerDialog } from '../components/TriggerDialog';

const PAGE_SIZE = 25;
type JobState = 'active' | 'paused';

/**
 * Jobs: search by name, filter by group, state and dispatch strategy (all in the URL, so a
 * filtered list can be linked), paged; pause, resume, trigger now, delete; links to the form.
 */
export function JobsScreen() {
  const [search, setSearch] = useSearchParams();
  const name = search.get('q') ?? '';
  const group = search.get('group') ?? '';
  const state = (search.get('state') ?? '') as JobState | '';
  const strategy = search.get('strategy') ?? '';
  const [draftName, setDraftName] = useState(name);
  const canOperate = useCan('operate');
  const groups = useGroupNames();
  const strategies = provided(usePlugins(), 'dispatch-strategy');

  const jobs = usePaged(
    (cursor) =>
      call(
        api.GET('/api/jobs', {
          params: {
            query: {
              limit: PAGE_SIZE,
              cursor,
              name: name || undefined,
              group: group || undefined,
              state: state || undefined,
              strategy: strategy || undefined,
            },
          },
        }),
      ),
    [name, group, state, strategy],
  );

  const [notice, setNotice] = useState<{ kind: 'success' | 'warning'; text: ReactNode }>();
  const [actionError, setActionError] = useState<unknown>();
  const [busy, setBusy] = useState<string>();
  const [triggering, setTriggering] = useState<Job>();
  const [deleting, setDeleting] = useState<Job>();
  const [deleteError, setDeleteError] = useState<unknown>();

  const setFilter = (key: string, value: string) => {
    const next = new URLSearchParams(search);
    if (value) next.set(key, value);
    else next.delete(key);
    setSearch(next, { replace: true });
  };

  const pauseOrResume = (job: Job) => {
    const action = job.state === 'active' ? 'pause' : 'resume';
    setBusy(job.id);
    setActionError(undefined);
    const request =
      action === 'pause'
        ? api.POST('/api/jobs/{id}/pause', {
            params: { path: { id: job.id } },
            body: { version: job.version },
          })
        : api.POST('/api/jobs/{id}/resume', {
            params: { path: { id: job.id } },
            body: { version: job.version },
          });
    call(request)
      .then((updated) => {
        setNotice({
          kind: 'success',
          text: `${updated.name}: ${updated.state === 'paused' ? 'paused' : 'resumed'}.`,
        });
        jobs.reload();
      })
      .catch((error: unknown) => {
        if (error instanceof ApiError && error.status === 409) {
          setNotice({
            kind: 'warning',
            text: `${job.name} was changed meanwhile; the list is reloaded. Try again.`,
          });
          jobs.reload();
        } else setActionError(error);
      })
      .finally(() => setBusy(undefined));
  };

  const confirmDelete = () => {
    if (!deleting) return;
    setBusy(deleting.id);
    setDeleteError(undefined);
    call(api.DELETE('/api/jobs/{id}', { params: { path: { id: deleting.id } } }))
      .then(() => {
        setNotice({ kind: 'success', text: `Job ${deleting.name} deleted.` });
        setDeleting(undefined);
        jobs.reload();
      })
      .catch(setDeleteError)
      .finally(() => setBusy(undefined));
  };

  const columns: Column<Job>[] = [
    {
      header: 'Job',
      render: (job) => (
        <>
          <Link to={`/jobs/${encodeURIComponent(job.id)}`}>{job.name}</Link>
          <div className="muted mono small">{job.id}</div>
        </>
      ),
    },
    {
      header: 'Group',
      render: (job) => <Link to={`/groups/${encodeURIComponent(job.group)}`}>{job.group}</Link>,
    },
    {
      header: 'Schedule',
      render: (job) => (
        <>
          <code>{job.schedule.cron}</code>
          <div className="muted small">{job.schedule.timezone}</div>
        </>
      ),
    },
    { header: 'Target', render: (job) => <code>{job.target}</code> },
    { header: 'Strategy', render: (job) => job.dispatch.strategy },
    {
      header: 'State',
      render: (job) => <span className={`badge badge-${job.state}`}>{job.state}</span>,
    },
  ];
  if (canOperate) {
    columns.push({
      header: 'Actions',
      className: 'actions',
      render: (job) => (
        <div className="row-actions">
          <button
            type="button"
            className="button-small"
            disabled={busy === job.id}
            onClick={() => pauseOrResume(job)}
            aria-label={`${job.state === 'active' ? 'Pause' : 'Resume'} ${job.name}`}
            data-testid={`job-${job.state === 'active' ? 'pause' : 'resume'}-${job.id}`}
          >
            {job.state === 'active' ? 'Pause' : 'Resume'}
          </button>
          <button
            type="button"
            className="button-small"
            onClick={() => setTriggering(job)}
            aria-label={`Trigger ${job.name} now`}
            data-testid={`job-trigger-${job.id}`}
          >
            Trigger
          </button>
          <button
            type="button"
            className="button-small button-danger-outline"
            onClick={() => {
              setDeleteError(undefined);
              setDeleting(job);
            }}
            aria-label={`Delete ${job.name}`}
            data-testid={`job-delete-${job.id}`}
          >
            Delete
          </button>
        </div>
      ),
    });
  }

  return (
    <section>
      <ScreenHeader
        title="Jobs"
        actions={
          canOperate && (
            <Link className="button button-primary" to="/jobs/new" data-testid="job-new">
              New job
            </Link>
          )
        }
      >
        Job definitions: what runs, when, where.
      </ScreenHeader>

      <form
        className="filters"
        role="search"
        aria-label="Filter jobs"
        onSubmit={(event) => {
          event.preventDefault();
          setFilter('q', draftName.trim());
        }}
      >
        <Field label="Search by name">
          <input
            type="search"
            value={draftName}
            placeholder="name contains…"
            onChange={(event) => {
              setDraftName(event.target.value);
              if (event.target.value === '') setFilter('q', '');
            }}
            onBlur={() => draftName.trim() !== name && setFilter('q', draftName.trim())}
            data-testid="jobs-search"
          />
        </Field>
        <Field label="Group">
          <select
            value={group}
            onChange={(event) => setFilter('group', event.target.value)}
            data-testid="jobs-filter-group"
          >
            <option value="">All groups</option>
            {groups.map((g) => (
              <option key={g} value={g}>
                {g}
              </option>
            ))}
            {group && !groups.includes(group) && <option value={group}>{group}</option>}
          </select>
        </Field>
        <Field label="State">
          <select
            value={state}
            onChange={(event) => setFilter('state', event.target.value)}
            data-testid="jobs-filter-state"
          >
            <option value="">Any state</option>
            <option value="active">active</option>
            <option value="paused">paused</option>
          </select>
        </Field>
        <Field label="Strategy">
          <select
            value={strategy}
            onChange={(event) => setFilter('strategy', event.target.value)}
            data-testid="jobs-filter-strategy"
          >
            <option value="">Any strategy</option>
            {strategies.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
            {strategy && !strategies.includes(strategy) && (
              <option value={strategy}>{strategy}</option>
            )}
          </select>
        </Field>
        <button type="submit" className="filters-submit">
          Search
        </button>
      </form>

      {notice && (
        <Notice kind={notice.kind} onClose={() => setNotice(undefined)}>
          {notice.text}
        </Notice>
      )}
      <ErrorBanner error={actionError} />
      <ErrorBanner error={jobs.error} onRetry={jobs.reload} />
      <Table
        caption="Jobs"
        columns={columns}
        rows={jobs.data?.items}
        rowKey={(job) => job.id}
        loading={jobs.loading && !jobs.data}
        testId="jobs-table"
        empty={
          name || group || state || strategy
            ? 'No job matches these filters.'
            : 'No jobs yet. Create one with “New job”.'
        }
      />
      <Pager paged={jobs} label="Jobs pages" pageSize={PAGE_SIZE} />

      <TriggerDialog
        job={triggering}
        onClose={() => setTriggering(undefined)}
        onTriggered={(execution: Execution) =>
          setNotice({
            kind: 'success',
            text: (
              <>
                Triggered: execution <ExecutionLink execution={execution} /> ({execution.status}).
              </>
            ),
          })
        }
      />
      <ConfirmDialog
        open={deleting !== undefined}
        title={`Delete job ${deleting?.name ?? ''}?`}
        confirmLabel="Delete job"
        danger
        busy={busy === deleting?.id}
        error={deleteError}
        onConfirm={confirmDelete}
        onCancel={() => setDeleting(undefined)}
        testId="job-delete-dialog"
      >
        <p>
          Job <code>{deleting?.id}</code> stops firing and its definition is removed. Its past
          executions stay in the history. This cannot be undone.
        </p>
      </ConfirmDialog>
    </section>
  );
}
