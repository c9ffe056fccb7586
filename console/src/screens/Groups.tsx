import { useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { api, ApiError, call } from '../api/client';
import type { Group, Job, Worker } from '../api/client';
import { useCan } from '../components/auth';
import { ErrorBanner, Notice } from '../components/Banner';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { Checkbox, Field } from '../components/Field';
import { ScreenHeader } from '../components/Layout';
import { Pager, usePaged } from '../components/Pager';
import { Table } from '../components/Table';
import type { Column } from '../components/Table';
import { formatRelative, formatTime } from '../components/time';
import { useAsync } from '../components/useAsync';

const PAGE_SIZE = 25;

/** Groups (/groups) and one group with its workers and jobs (/groups/:name). */
export function GroupsScreen() {
  const { name } = useParams();
  return name === undefined ? <GroupList /> : <GroupDetail name={name} />;
}

function GroupList() {
  const canOperate = useCan('operate');
  const groups = usePaged(
    (cursor) => call(api.GET('/api/groups', { params: { query: { limit: PAGE_SIZE, cursor } } })),
    [],
  );
  const [notice, setNotice] = useState<string>();
  const [editing, setEditing] = useState<Group>();
  const [deleting, setDeleting] = useState<Group>();

  const columns: Column<Group>[] = [
    {
      header: 'Group',
      render: (g) => <Link to={`/groups/${encodeURIComponent(g.name)}`}>{g.name}</Link>,
    },
    { header: 'Remark', render: (g) => g.remark || <span className="muted">—</span> },
    { header: 'Created', render: (g) => formatTime(g.createdAt) },
  ];
  if (canOperate) {
    columns.push({
      header: 'Actions',
      className: 'actions',
      render: (g) => (
        <div className="row-actions">
          <button
            type="button"
            className="button-small"
            onClick={() => setEditing(g)}
            aria-label={`Edit remark of ${g.name}`}
            data-testid={`group-edit-${g.name}`}
          >
            Edit remark
          </button>
          <button
            type="button"
            className="button-small button-danger-outline"
            onClick={() => setDeleting(g)}
            aria-label={`Delete group ${g.name}`}
            data-testid={`group-delete-${g.name}`}
          >
            Delete
          </button>
        </div>
      ),
    });
  }

  return (
    <section>
      <ScreenHeader title="Groups">
        Named pools of workers; every job runs on workers of its group.
      </ScreenHeader>
      {canOperate && (
        <CreateGroup
          onCreated={(g) => {
            setNotice(`Group ${g.name} created.`);
            groups.reload();
          }}
        />
      )}
      {notice && (
        <Notice kind="success" onClose={() => setNotice(undefined)}>
          {notice}
        </Notice>
      )}
      <ErrorBanner error={groups.error} onRetry={groups.reload} />
      <Table
        caption="Groups"
        columns={columns}
        rows={groups.data?.items}
        rowKey={(g) => g.name}
        loading={groups.loading && !groups.data}
        testId="groups-table"
        empty="No groups yet."
      />
      <Pager paged={groups} label="Groups pages" />
      <EditRemark
        group={editing}
        onClose={() => setEditing(undefined)}
        onSaved={(g) => {
          setNotice(`Remark of ${g.name} saved.`);
          groups.reload();
        }}
      />
      <DeleteGroup
        group={deleting}
        onClose={() => setDeleting(undefined)}
        onDeleted={(g) => {
          setNotice(`Group ${g.name} deleted.`);
          groups.reload();
        }}
      />
    </section>
  );
}

function CreateGroup({ onCreated }: { onCreated: (group: Group) => void }) {
  const [name, setName] = useState('');
  const [remark, setRemark] = useState('');
  const [error, setError] = useState<ApiError | unknown>();
  const [busy, setBusy] = useState(false);
  const fields = error instanceof ApiError ? error.fields : {};
  const nameError =
    fields.name ?? (error instanceof ApiError && error.status === 409 ? error.message : undefined);
  return (
    <form
      className="card inline-form"
      aria-label="Create a group"
      onSubmit={(event) => {
        event.preventDefault();
        setBusy(true);
        setError(undefined);
        call(api.POST('/api/groups', { body: { name: name.trim(), remark } }))
          .then((group) => {
            setName('');
            setRemark('');
            onCreated(group);
          })
          .catch(setError)
          .finally(() => setBusy(false));
      }}
    >
      <Field label="New group name" error={nameError} hint="[A-Za-z0-9._-]{1,64}">
        <input
          value={name}
          onChange={(e) => setName(e.target.value)}
          required
          data-testid="group-new-name"
        />
      </Field>
      <Field label="Remark" error={fields.remark}>
        <input
          value={remark}
          onChange={(e) => setRemark(e.target.value)}
          data-testid="group-new-remark"
        />
      </Field>
      <button
        type="submit"
        className="button-primary"
        disabled={busy || !name.trim()}
        data-testid="group-create"
      >
        {busy ? 'Creating…' : 'Create group'}
      </button>
      {!nameError && !fields.remark && <ErrorBanner error={error} />}
    </form>
  );
}

function EditRemark({
  group,
  onClose,
  onSaved,
}: {
  group?: Group;
  onClose: () => void;
  onSaved: (group: Group) => void;
}) {
  const [remark, setRemark] = useState('');
  const [forGroup, setForGroup] = useState<string>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  if (group && forGroup !== group.name) {
    setForGroup(group.name);
    setRemark(group.remark);
    setError(undefined);
  }
  const fields = error instanceof ApiError ? error.fields : {};
  return (
    <ConfirmDialog
      open={group !== undefined}
      title={`Remark of ${group?.name ?? ''}`}
      confirmLabel="Save remark"
      busy={busy}
      error={fields.remark ? undefined : error}
      onCancel={() => {
        setForGroup(undefined);
        onClose();
      }}
      onConfirm={() => {
        if (!group) return;
        setBusy(true);
        call(
          api.PUT('/api/groups/{name}', {
            params: { path: { name: group.name } },
            body: { remark },
          }),
        )
          .then((saved) => {
            setForGroup(undefined);
            onSaved(saved);
            onClose();
          })
          .catch(setError)
          .finally(() => setBusy(false));
      }}
      testId="group-remark-dialog"
    >
      <Field label="Remark" error={fields.remark}>
        <textarea
          rows={3}
          value={remark}
          onChange={(e) => setRemark(e.target.value)}
          data-testid="group-remark"
        />
      </Field>
    </ConfirmDialog>
  );
}

function DeleteGroup({
  group,
  onClose,
  onDeleted,
}: {
  group?: Group;
  onClose: () => void;
  onDeleted: (group: Group) => void;
}) {
  const canAdmin = useCan('admin');
  const [force, setForce] = useState(false);
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const close = () => {
    setForce(false);
    setError(undefined);
    onClose();
  };
  return (
    <ConfirmDialog
      open={group !== undefined}
      title={`Delete group ${group?.name ?? ''}?`}
      confirmLabel={force ? 'Delete group and its jobs' : 'Delete group'}
      danger
      busy={busy}
      error={error}
      onCancel={close}
      onConfirm={() => {
        if (!group) return;
        setBusy(true);
        call(
          api.DELETE('/api/groups/{name}', {
            params: { path: { name: group.name }, query: force ? { force: 'true' } : {} },
          }),
        )
          .then(() => {
            onDeleted(group);
            close();
          })
          .catch(setError)
          .finally(() => setBusy(false));
      }}
      testId="group-delete-dialog"
    >
      <p>
        A group that still has jobs is not deleted
        {canAdmin
          ? ' unless you also delete its jobs (admin only).'
          : '; delete or move its jobs first.'}
      </p>
      {canAdmin && (
        <Checkbox
          label="Also delete every job of this group"
          checked={force}
          onChange={setForce}
          testId="group-delete-force"
        />
      )}
    </ConfirmDialog>
  );
}

function GroupDetail({ name }: { name: string }) {
  const navigate = useNavigate();
  const canOperate = useCan('operate');
  const group = useAsync(
    () => call(api.GET('/api/groups/{name}', { params: { path: { name } } })),
    [name],
  );
  const workers = usePaged(
    (cursor) =>
      call(
        api.GET('/api/workers', { params: { query: { group: name, limit: PAGE_SIZE, cursor } } }),
      ),
    [name],
    10_000,
  );
  const jobs = usePaged(
    (cursor) =>
      call(api.GET('/api/jobs', { params: { query: { group: name, limit: PAGE_SIZE, cursor } } })),
    [name],
  );
  const [editing, setEditing] = useState(false);
  const [deleting, setDeleting] = useState(false);

  if (group.error) {
    return (
      <section>
        <ScreenHeader title={`Group ${name}`} />
        <ErrorBanner error={group.error} onRetry={group.reload} />
        <Link to="/groups">Back to groups</Link>
      </section>
    );
  }

  const workerColumns: Column<Worker>[] = [
    { header: 'Worker', render: (w) => <span className="mono">{w.id}</span> },
    { header: 'Host', render: (w) => `${w.host} (pid ${w.pid})` },
    { header: 'Targets', render: (w) => w.targets.join(', ') },
    { header: 'Capacity', render: (w) => w.capacity },
    {
      header: 'Labels',
      render: (w) =>
        Object.entries(w.labels ?? {})
          .map(([k, v]) => `${k}=${String(v)}`)
          .join(', ') || '—',
    },
    { header: 'Node', render: (w) => w.node },
    {
      header: 'Registered',
      render: (w) => (
        <>
          <span title={formatTime(w.registeredAt)}>{formatRelative(w.registeredAt)}</span>
          {w.leavingAt && <span className="badge badge-paused">leaving</span>}
        </>
      ),
    },
  ];
  const jobColumns: Column<Job>[] = [
    {
      header: 'Job',
      render: (j) => <Link to={`/jobs/${encodeURIComponent(j.id)}`}>{j.name}</Link>,
    },
    { header: 'Schedule', render: (j) => <code>{j.schedule.cron}</code> },
    { header: 'Target', render: (j) => <code>{j.target}</code> },
    { header: 'State', render: (j) => <span className={`badge badge-${j.state}`}>{j.state}</span> },
  ];

  return (
    <section>
      <ScreenHeader
        title={`Group ${name}`}
        actions={
          canOperate &&
          group.data && (
            <>
              <button
                type="button"
                onClick={() => setEditing(true)}
                data-testid="group-detail-edit"
              >
                Edit remark
              </button>
              <button
                type="button"
                className="button-danger-outline"
                onClick={() => setDeleting(true)}
                data-testid="group-detail-delete"
              >
                Delete
              </button>
            </>
          )
        }
      >
        {group.data ? group.data.remark || 'No remark.' : 'Loading…'}
      </ScreenHeader>
      <p>
        <Link to="/groups">← All groups</Link>
      </p>
      <h2>Workers</h2>
      <ErrorBanner error={workers.error} onRetry={workers.reload} />
      <Table
        caption={`Live workers of ${name}`}
        columns={workerColumns}
        rows={workers.data?.items}
        rowKey={(w) => w.id}
        loading={workers.loading && !workers.data}
        testId="group-workers-table"
        empty="No live worker in this group: its executions wait (pending) until one registers."
      />
      <Pager paged={workers} label="Workers pages" />
      <h2>Jobs</h2>
      <ErrorBanner error={jobs.error} onRetry={jobs.reload} />
      <Table
        caption={`Jobs of ${name}`}
        columns={jobColumns}
        rows={jobs.data?.items}
        rowKey={(j) => j.id}
        loading={jobs.loading && !jobs.data}
        testId="group-jobs-table"
        empty="No jobs in this group."
      />
      <Pager paged={jobs} label="Jobs pages" pageSize={PAGE_SIZE} />
      <p>
        <Link to={`/jobs?group=${encodeURIComponent(name)}`}>
          Open these jobs on the Jobs screen
        </Link>
        {canOperate && (
          <>
            {' · '}
            <Link to="/jobs/new">New job</Link>
          </>
        )}
      </p>
      <EditRemark
        group={editing ? group.data : undefined}
        onClose={() => setEditing(false)}
        onSaved={(g) => group.setData(g)}
      />
      <DeleteGroup
        group={deleting ? group.data : undefined}
        onClose={() => setDeleting(false)}
        onDeleted={() => navigate('/groups')}
      />
    </section>
  );
}
