import { useEffect, useMemo, useState } from 'react';
import type { ReactElement } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { api, ApiError, call } from '../api/client';
import type { Execution, FireTime, Job, Schemas } from '../api/client';
import { provided, useGroupNames, usePlugins } from '../api/lookups';
import { useAuth } from '../components/auth';
import { ErrorBanner, Notice } from '../components/Banner';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { Checkbox, Field } from '../components/Field';
import type { ControlProps } from '../components/Field';
import { parseJson } from '../components/json';
import { ScreenHeader } from '../components/Layout';
import { browserTimeZone, formatRelative, formatTime, timeZones } from '../components/time';
import { ExecutionLink, TriggerDialog } from '../components/TriggerDialog';
import { useAsync } from '../components/useAsync';

type Concurrency = Job['concurrency'];
type Backoff = Job['retry']['backoff'];
type MisfirePolicy = Job['misfire']['policy'];
type AlertEvent = NonNullable<Schemas['AlertsDto']['events']>[number];

const ALERT_EVENTS: AlertEvent[] = [
  'failed',
  'timed_out',
  'lost',
  'retries_exhausted',
  'misfire',
  'no_worker',
];

/** The form's values, as typed (numbers and JSON as text). */
interface JobForm {
  id: string;
  name: string;
  group: string;
  target: string;
  cron: string;
  timezone: string;
  state: 'active' | 'paused';
  params: string;
  strategy: string;
  strategyOptions: string;
  concurrency: Concurrency;
  timeoutMs: string;
  maxAttempts: string;
  backoff: Backoff;
  initialDelayMs: string;
  maxDelayMs: string;
  misfirePolicy: MisfirePolicy;
  catchUpWindowMs: string;
  alertChannels: string[];
  alertEvents: string[];
  remark: string;
}
type FormKey = keyof JobForm;

const EMPTY: JobForm = {
  id: '',
  name: '',
  group: '',
  target: '',
  cron: '0 * * * * *',
  timezone: 'UTC',
  state: 'active',
  params: '',
  strategy: 'round-robin',
  strategyOptions: '{}',
  concurrency: 'allow',
  timeoutMs: '0',
  maxAttempts: '0',
  backoff: 'exponential',
  initialDelayMs: '1000',
  maxDelayMs: '60000',
  misfirePolicy: 'fire_once',
  catchUpWindowMs: '3600000',
  alertChannels: [],
  alertEvents: ['failed', 'timed_out', 'lost'],
  remark: '',
};

function formOf(job: Job): JobForm {
  return {
    id: job.id,
    name: job.name,
    group: job.group,
    target: job.target,
    cron: job.schedule.cron,
    timezone: job.schedule.timezone,
    state: job.state,
    params:
      job.params === null || job.params === undefined ? '' : JSON.stringify(job.params, null, 2),
    strategy: job.dispatch.strategy,
    strategyOptions: JSON.stringify(job.dispatch.options ?? {}, null, 2),
    concurrency: job.concurrency,
    timeoutMs: String(job.timeoutMs),
    maxAttempts: String(job.retry.maxAttempts),
    backoff: job.retry.backoff,
    initialDelayMs: String(job.retry.initialDelayMs),
    maxDelayMs: String(job.retry.maxDelayMs),
    misfirePolicy: job.misfire.policy,
    catchUpWindowMs: String(job.misfire.catchUpWindowMs),
    alertChannels: [...job.alerts.channels],
    alertEvents: [...job.alerts.events],
    remark: job.remark,
  };
}

/** The API's field paths (400 details) → the form field that shows the problem. */
const FIELD_OF: Record<string, FormKey> = {
  id: 'id',
  name: 'name',
  group: 'group',
  target: 'target',
  schedule: 'cron',
  'schedule.cron': 'cron',
  'schedule.timezone': 'timezone',
  state: 'state',
  params: 'params',
  dispatch: 'strategy',
  'dispatch.strategy': 'strategy',
  'dispatch.options': 'strategyOptions',
  concurrency: 'concurrency',
  timeoutMs: 'timeoutMs',
  retry: 'maxAttempts',
  'retry.maxAttempts': 'maxAttempts',
  'retry.backoff': 'backoff',
  'retry.initialDelayMs': 'initialDelayMs',
  'retry.maxDelayMs': 'maxDelayMs',
  misfire: 'misfirePolicy',
  'misfire.policy': 'misfirePolicy',
  'misfire.catchUpWindowMs': 'catchUpWindowMs',
  alerts: 'alertChannels',
  'alerts.channels': 'alertChannels',
  'alerts.events': 'alertEvents',
  remark: 'remark',
};

const LABELS: Record<FormKey, string> = {
  id: 'Id',
  name: 'Name',
  group: 'Group',
  target: 'Target',
  cron: 'Cron',
  timezone: 'Time zone',
  state: 'State',
  params: 'Params',
  strategy: 'Dispatch strategy',
  strategyOptions: 'Strategy options',
  concurrency: 'Concurrency',
  timeoutMs: 'Timeout',
  maxAttempts: 'Retries',
  backoff: 'Backoff',
  initialDelayMs: 'First retry delay',
  maxDelayMs: 'Longest retry delay',
  misfirePolicy: 'Misfire policy',
  catchUpWindowMs: 'Catch-up window',
  alertChannels: 'Alert channels',
  alertEvents: 'Alert events',
  remark: 'Remark',
};

/** Splits an API error into field messages (from `details`, else a `field: …` message). */
function fieldErrors(error: ApiError): {
  fields: Partial<Record<FormKey, string>>;
  rest: string[];
} {
  const fields: Partial<Record<FormKey, string>> = {};
  const rest: string[] = [];
  const listed = Object.entries(error.fields);
  if (listed.length > 0) {
    for (const [path, problem] of listed) {
      const key =
        FIELD_OF[path] ?? FIELD_OF[path.replace(/\[\d+\].*$/, '')] ?? FIELD_OF[path.split('.')[0]];
      if (key) fields[key] = fields[key] ? `${fields[key]}; ${problem}` : problem;
      else rest.push(`${path}: ${problem}`);
    }
    return { fields, rest };
  }
  if (error.code === 'GROUP_NOT_FOUND' || error.code === 'GROUP_OUT_OF_SCOPE') {
    return { fields: { group: error.message }, rest };
  }
  const prefix = /^([A-Za-z]+(?:\.[A-Za-z]+)?)[:\s]/.exec(error.message)?.[1];
  const key = prefix ? FIELD_OF[prefix] : undefined;
  if (key) fields[key] = error.message.replace(/^[A-Za-z.]+:\s*/, '');
  else rest.push(error.message);
  return { fields, rest };
}

type Built =
  | { ok: true; body: Schemas['CreateJobDto'] }
  | { ok: false; errors: Partial<Record<FormKey, string>> };

/** The request body from the form, or the problems the browser can tell on its own. */
function buildBody(form: JobForm): Built {
  const errors: Partial<Record<FormKey, string>> = {};
  const number = (key: FormKey): number => {
    const text = String(form[key]).trim();
    const value = Number(text);
    if (text === '' || !Number.isFinite(value)) errors[key] = 'Enter a number.';
    return value;
  };
  const json = (key: 'params' | 'strategyOptions'): unknown => {
    if (form[key].trim() === '') return undefined;
    const parsed = parseJson(form[key]);
    if ('error' in parsed) {
      errors[key] = parsed.error;
      return undefined;
    }
    return parsed.value;
  };
  const body: Schemas['CreateJobDto'] = {
    name: form.name,
    group: form.group,
    target: form.target,
    schedule: { cron: form.cron, timezone: form.timezone || 'UTC' },
    params: json('params') as Schemas['CreateJobDto']['params'],
    state: form.state,
    dispatch: {
      strategy: form.strategy,
      options: (json('strategyOptions') ?? {}) as Record<string, never>,
    },
    concurrency: form.concurrency,
    timeoutMs: number('timeoutMs'),
    retry: {
      maxAttempts: number('maxAttempts'),
      backoff: form.backoff,
      initialDelayMs: number('initialDelayMs'),
      maxDelayMs: number('maxDelayMs'),
    },
    misfire: { policy: form.misfirePolicy, catchUpWindowMs: number('catchUpWindowMs') },
    alerts: { channels: form.alertChannels, events: form.alertEvents as AlertEvent[] },
    remark: form.remark,
  };
  if (form.id.trim()) body.id = form.id.trim();
  return Object.keys(errors).length > 0 ? { ok: false, errors } : { ok: true, body };
}

/** How a field's value reads in the conflict list. */
function shown(form: JobForm, key: FormKey): string {
  const value = form[key];
  if (Array.isArray(value)) return value.length ? value.join(', ') : '(none)';
  return value === '' ? '(empty)' : value;
}

/** Fields whose values differ between two forms (JSON compared by value, not layout). */
function differing(a: JobForm, b: JobForm): FormKey[] {
  const norm = (form: JobForm, key: FormKey): string => {
    const value = form[key];
    if (key === 'params' || key === 'strategyOptions') {
      const parsed = parseJson(String(value) || 'null');
      return 'value' in parsed ? JSON.stringify(parsed.value) : String(value);
    }
    return Array.isArray(value) ? [...value].sort().join(',') : String(value);
  };
  return (Object.keys(LABELS) as FormKey[]).filter((key) => norm(a, key) !== norm(b, key));
}

interface Conflict {
  /** The job as the server has it now. */
  theirs: Job;
  /** The fields someone else changed since this form was loaded. */
  changed: FormKey[];
}

/**
 * Create (/jobs/new) or edit (/jobs/:id) a job. The schedule preview shows the next fire times
 * in the chosen zone as you type; the API's validation messages appear next to their fields;
 * a 409 (someone saved meanwhile) shows what they changed and lets you reapply your edits.
 */
export function JobEditScreen() {
  const { id } = useParams();
  const creating = id === undefined;
  const navigate = useNavigate();
  const { can, self } = useAuth();
  const canOperate = can('operate');
  const groups = useGroupNames();
  const plugins = usePlugins();
  const strategies = provided(plugins, 'dispatch-strategy');
  const channels = provided(plugins, 'alert-channel');
  const zones = useMemo(timeZones, []);

  const loaded = useAsync(
    () =>
      creating
        ? Promise.resolve(undefined)
        : call(api.GET('/api/jobs/{id}', { params: { path: { id } } })),
    [id],
  );
  const [form, setForm] = useState<JobForm>(() => ({ ...EMPTY, timezone: browserTimeZone() }));
  /** The job the form was loaded from: its version is sent back, its values are the base. */
  const [base, setBase] = useState<Job>();
  const [errors, setErrors] = useState<Partial<Record<FormKey, string>>>({});
  const [formError, setFormError] = useState<unknown>();
  const [saving, setSaving] = useState(false);
  const [saved, setSaved] = useState<string>();
  const [conflict, setConflict] = useState<Conflict>();
  const [triggering, setTriggering] = useState<Job>();
  const [triggered, setTriggered] = useState<Execution>();
  const [deleting, setDeleting] = useState(false);
  const [deleteError, setDeleteError] = useState<unknown>();

  useEffect(() => {
    if (loaded.data) {
      setBase(loaded.data);
      setForm(formOf(loaded.data));
      setErrors({});
      setConflict(undefined);
    }
  }, [loaded.data]);

  useEffect(() => {
    if (creating && !form.group && groups.length > 0) setForm((f) => ({ ...f, group: groups[0] }));
  }, [creating, form.group, groups]);

  // Bring what needs attention into view: the conflict panel, or the first refused field.
  useEffect(() => {
    if (conflict)
      document.querySelector('[data-testid=conflict-panel]')?.scrollIntoView({ block: 'center' });
  }, [conflict]);
  useEffect(() => {
    if (Object.values(errors).some(Boolean)) {
      document
        .querySelector<HTMLElement>('.job-form [aria-invalid=true], .job-form .field-invalid input')
        ?.focus();
    }
  }, [errors]);

  const readOnly = !canOperate;
  const set =
    <K extends FormKey>(key: K) =>
    (value: JobForm[K]) => {
      setForm((f) => ({ ...f, [key]: value }));
      setSaved(undefined);
      if (errors[key]) setErrors((e) => ({ ...e, [key]: undefined }));
    };
  const text = (key: FormKey) => ({
    value: String(form[key]),
    readOnly,
    onChange: (event: { target: { value: string } }) => set(key)(event.target.value as never),
  });

  const preview = useSchedulePreview(form.cron, form.timezone);

  const save = (version = base?.version, values = form) => {
    const built = buildBody(values);
    if (!built.ok) {
      setErrors(built.errors);
      setFormError(new Error('Some fields need fixing (see below).'));
      return;
    }
    setSaving(true);
    setFormError(undefined);
    setErrors({});
    const { id: _id, ...replace } = built.body;
    const request = creating
      ? call(api.POST('/api/jobs', { body: built.body }))
      : call(
          api.PUT('/api/jobs/{id}', {
            params: { path: { id: base!.id } },
            body: { ...replace, version },
          }),
        );
    request
      .then((job) => {
        setBase(job);
        setForm(formOf(job));
        setConflict(undefined);
        setSaved(creating ? `Job ${job.name} created.` : `Saved (version ${job.version}).`);
        if (creating) navigate(`/jobs/${encodeURIComponent(job.id)}`, { replace: true });
      })
      .catch(async (error: unknown) => {
        if (
          error instanceof ApiError &&
          error.status === 409 &&
          error.code === 'VERSION_CONFLICT' &&
          base
        ) {
          try {
            const theirs = await call(
              api.GET('/api/jobs/{id}', { params: { path: { id: base.id } } }),
            );
            setConflict({ theirs, changed: differing(formOf(base), formOf(theirs)) });
          } catch (reread) {
            setFormError(reread);
          }
        } else if (error instanceof ApiError && error.status === 400) {
          const { fields, rest } = fieldErrors(error);
          setErrors(fields);
          setFormError(
            new Error(
              rest.length
                ? rest.join('; ')
                : 'The node refused some fields (see the messages next to them).',
            ),
          );
        } else if (
          error instanceof ApiError &&
          (error.code === 'GROUP_NOT_FOUND' || error.code === 'GROUP_OUT_OF_SCOPE')
        ) {
          setErrors(fieldErrors(error).fields);
          setFormError(error);
        } else {
          setFormError(error);
        }
      })
      .finally(() => setSaving(false));
  };

  /** Your edits (fields you changed since loading) applied on top of the node's version. */
  const reapply = () => {
    if (!conflict || !base) return;
    const { theirs } = conflict;
    const merged: JobForm = { ...formOf(theirs) };
    for (const key of differing(formOf(base), form))
      (merged as unknown as Record<string, unknown>)[key] = form[key];
    setBase(theirs);
    setForm(merged);
    setConflict(undefined);
    save(theirs.version, merged);
  };
  const takeTheirs = () => {
    if (!conflict) return;
    setBase(conflict.theirs);
    setForm(formOf(conflict.theirs));
    setConflict(undefined);
  };

  if (!creating && loaded.error) {
    return (
      <section>
        <ScreenHeader title={`Job ${id}`} />
        <ErrorBanner error={loaded.error} onRetry={loaded.reload} />
        <Link to="/jobs">Back to jobs</Link>
      </section>
    );
  }
  if (!creating && !base) return <p role="status">Loading job…</p>;

  const control = (
    key: FormKey,
    element: ReactElement<ControlProps>,
    hint?: string,
    className?: string,
  ) => (
    <Field label={LABELS[key]} error={errors[key]} hint={hint} className={className}>
      {element}
    </Field>
  );

  return (
    <section>
      <ScreenHeader
        title={creating ? 'New job' : base!.name}
        actions={
          !creating &&
          canOperate && (
            <>
              <button
                type="button"
                onClick={() => setTriggering(base)}
                data-testid="job-edit-trigger"
              >
                Trigger now
              </button>
              <button
                type="button"
                className="button-danger-outline"
                onClick={() => {
                  setDeleteError(undefined);
                  setDeleting(true);
                }}
                data-testid="job-edit-delete"
              >
                Delete
              </button>
            </>
          )
        }
      >
        {creating ? (
          'A job fires on its schedule and runs its target on a worker of its group.'
        ) : (
          <>
            <code>{base!.id}</code> · version {base!.version} · updated{' '}
            {formatTime(base!.updatedAt)}
          </>
        )}
      </ScreenHeader>
      {readOnly && <Notice>Your role ({self?.role}) may look at jobs but not change them.</Notice>}
      {saved && (
        <Notice kind="success" onClose={() => setSaved(undefined)}>
          {saved}
        </Notice>
      )}
      {triggered && (
        <Notice kind="success" onClose={() => setTriggered(undefined)}>
          Triggered: execution <ExecutionLink execution={triggered} /> ({triggered.status}).
        </Notice>
      )}
      {conflict && (
        <ConflictPanel
          conflict={conflict}
          mine={form}
          base={formOf(base!)}
          onReapply={reapply}
          onTakeTheirs={takeTheirs}
          busy={saving}
        />
      )}

      <form
        className="job-form"
        aria-label={creating ? 'New job' : `Edit job ${base!.name}`}
        noValidate
        onSubmit={(event) => {
          event.preventDefault();
          save();
        }}
      >
        <fieldset disabled={saving}>
          <legend>Job</legend>
          <div className="grid">
            {creating &&
              control(
                'id',
                <input {...text('id')} placeholder="generated when empty" data-testid="job-id" />,
                '[A-Za-z0-9._-]{1,64}; empty: the node makes one',
              )}
            {control('name', <input {...text('name')} required data-testid="job-name" />)}
            {control(
              'group',
              <select
                value={form.group}
                disabled={readOnly}
                onChange={(e) => set('group')(e.target.value)}
                data-testid="job-group"
              >
                {!groups.includes(form.group) && (
                  <option value={form.group}>{form.group || '(choose a group)'}</option>
                )}
                {groups.map((g) => (
                  <option key={g} value={g}>
                    {g}
                  </option>
                ))}
              </select>,
              groups.length === 0
                ? 'No groups yet: create one on the Groups screen first.'
                : undefined,
            )}
            {control(
              'target',
              <input {...text('target')} required data-testid="job-target" />,
              'The handler name a worker of the group runs',
            )}
            {control(
              'state',
              <select
                value={form.state}
                disabled={readOnly}
                onChange={(e) => set('state')(e.target.value as JobForm['state'])}
                data-testid="job-state"
              >
                <option value="active">active</option>
                <option value="paused">paused</option>
              </select>,
            )}
          </div>
        </fieldset>

        <fieldset disabled={saving}>
          <legend>Schedule</legend>
          <div className="grid grid-schedule">
            {control(
              'cron',
              <input
                {...text('cron')}
                className="mono"
                spellCheck={false}
                required
                data-testid="job-cron"
              />,
              '5 fields, 6 with seconds first, or @hourly, @daily …',
            )}
            {control(
              'timezone',
              <input
                {...text('timezone')}
                list="job-zones"
                spellCheck={false}
                data-testid="job-timezone"
              />,
              'IANA zone, e.g. Europe/Berlin',
            )}
            <datalist id="job-zones">
              {zones.map((zone) => (
                <option key={zone} value={zone} />
              ))}
            </datalist>
          </div>
          <SchedulePreview preview={preview} timezone={form.timezone} />
        </fieldset>

        <fieldset disabled={saving}>
          <legend>Run</legend>
          <div className="grid">
            {control(
              'params',
              <textarea
                {...text('params')}
                className="mono"
                rows={5}
                spellCheck={false}
                data-testid="job-params"
              />,
              'JSON handed to the handler; empty: none',
              'span-2',
            )}
            {control(
              'strategy',
              <select
                value={form.strategy}
                disabled={readOnly}
                onChange={(e) => set('strategy')(e.target.value)}
                data-testid="job-strategy"
              >
                {!strategies.includes(form.strategy) && (
                  <option value={form.strategy}>{form.strategy}</option>
                )}
                {strategies.map((s) => (
                  <option key={s} value={s}>
                    {s}
                  </option>
                ))}
              </select>,
            )}
            {control(
              'strategyOptions',
              <textarea
                {...text('strategyOptions')}
                className="mono"
                rows={2}
                spellCheck={false}
                data-testid="job-strategy-options"
              />,
              'JSON, checked by the strategy',
            )}
            {control(
              'concurrency',
              <select
                value={form.concurrency}
                disabled={readOnly}
                onChange={(e) => set('concurrency')(e.target.value as Concurrency)}
                data-testid="job-concurrency"
              >
                <option value="allow">allow: run both</option>
                <option value="forbid">forbid: skip while one runs</option>
                <option value="replace">replace: cancel the running one</option>
              </select>,
            )}
            {control(
              'timeoutMs',
              <input {...text('timeoutMs')} inputMode="numeric" data-testid="job-timeout" />,
              'ms per attempt; 0: no limit',
            )}
          </div>
        </fieldset>

        <fieldset disabled={saving}>
          <legend>Retries and misfires</legend>
          <div className="grid">
            {control(
              'maxAttempts',
              <input {...text('maxAttempts')} inputMode="numeric" data-testid="job-retry-max" />,
              'Extra attempts after a failure (0–100)',
            )}
            {control(
              'backoff',
              <select
                value={form.backoff}
                disabled={readOnly}
                onChange={(e) => set('backoff')(e.target.value as Backoff)}
              >
                <option value="exponential">exponential</option>
                <option value="fixed">fixed</option>
              </select>,
            )}
            {control(
              'initialDelayMs',
              <input {...text('initialDelayMs')} inputMode="numeric" />,
              'ms',
            )}
            {control('maxDelayMs', <input {...text('maxDelayMs')} inputMode="numeric" />, 'ms')}
            {control(
              'misfirePolicy',
              <select
                value={form.misfirePolicy}
                disabled={readOnly}
                onChange={(e) => set('misfirePolicy')(e.target.value as MisfirePolicy)}
              >
                <option value="fire_once">fire_once: catch up with one run</option>
                <option value="fire_all">fire_all: run every missed fire</option>
                <option value="skip">skip: drop missed fires</option>
              </select>,
            )}
            {control(
              'catchUpWindowMs',
              <input {...text('catchUpWindowMs')} inputMode="numeric" />,
              'ms; older missed fires are dropped',
            )}
          </div>
        </fieldset>

        <fieldset disabled={saving}>
          <legend>Alerts and notes</legend>
          <div className="grid">
            <CheckGroup
              legend={LABELS.alertChannels}
              options={channels}
              value={form.alertChannels}
              onChange={set('alertChannels')}
              error={errors.alertChannels}
              disabled={readOnly}
              hint="On top of FOREST_ALERT_DEFAULT_CHANNELS"
            />
            <CheckGroup
              legend={LABELS.alertEvents}
              options={ALERT_EVENTS}
              value={form.alertEvents}
              onChange={set('alertEvents')}
              error={errors.alertEvents}
              disabled={readOnly}
            />
            {control('remark', <textarea {...text('remark')} rows={2} />, undefined, 'span-2')}
          </div>
        </fieldset>

        <ErrorBanner error={formError} />
        {canOperate && (
          <div className="form-actions">
            <button
              type="submit"
              className="button-primary"
              disabled={saving || Boolean(conflict)}
              data-testid="job-save"
            >
              {saving ? 'Saving…' : creating ? 'Create job' : 'Save changes'}
            </button>
            <Link to="/jobs">Cancel</Link>
          </div>
        )}
      </form>

      <TriggerDialog
        job={triggering}
        onClose={() => setTriggering(undefined)}
        onTriggered={setTriggered}
      />
      <ConfirmDialog
        open={deleting}
        title={`Delete job ${base?.name ?? ''}?`}
        confirmLabel="Delete job"
        danger
        busy={saving}
        error={deleteError}
        onCancel={() => setDeleting(false)}
        onConfirm={() => {
          if (!base) return;
          setSaving(true);
          call(api.DELETE('/api/jobs/{id}', { params: { path: { id: base.id } } }))
            .then(() => navigate('/jobs'))
            .catch(setDeleteError)
            .finally(() => setSaving(false));
        }}
        testId="job-delete-dialog"
      >
        <p>
          Job <code>{base?.id}</code> stops firing and its definition is removed. This cannot be
          undone.
        </p>
      </ConfirmDialog>
    </section>
  );
}

/** Checkboxes for a list value, in a fieldset with its legend and error. */
function CheckGroup({
  legend,
  options,
  value,
  onChange,
  error,
  hint,
  disabled,
}: {
  legend: string;
  options: string[];
  value: string[];
  onChange: (value: string[]) => void;
  error?: string;
  hint?: string;
  disabled?: boolean;
}) {
  const all = [...options, ...value.filter((v) => !options.includes(v))];
  return (
    <fieldset className={`check-group${error ? ' field-invalid' : ''}`}>
      <legend>{legend}</legend>
      {all.length === 0 && <span className="muted">none loaded</span>}
      {all.map((option) => (
        <Checkbox
          key={option}
          label={option}
          checked={value.includes(option)}
          disabled={disabled}
          onChange={(checked) =>
            onChange(checked ? [...value, option] : value.filter((v) => v !== option))
          }
        />
      ))}
      {hint && <div className="field-hint">{hint}</div>}
      {error && (
        <div className="field-error" role="alert">
          {error}
        </div>
      )}
    </fieldset>
  );
}

interface Preview {
  fires?: FireTime[];
  error?: string;
  loading: boolean;
}

/** The next fire times of cron + zone, asked 300 ms after the last keystroke. */
function useSchedulePreview(cron: string, timezone: string): Preview {
  const [preview, setPreview] = useState<Preview>({ loading: true });
  useEffect(() => {
    if (!cron.trim()) {
      setPreview({ loading: false, error: 'Enter a cron expression.' });
      return;
    }
    let live = true;
    setPreview((p) => ({ ...p, loading: true }));
    const timer = setTimeout(() => {
      call(
        api.POST('/api/schedules/preview', {
          body: { cron, timezone: timezone || 'UTC', count: 5 },
        }),
      )
        .then((answer) => live && setPreview({ loading: false, fires: answer.fires }))
        .catch((error: unknown) => {
          if (!live) return;
          const message =
            error instanceof ApiError
              ? Object.values(error.fields).join('; ') || error.message
              : String(error);
          setPreview({ loading: false, error: message });
        });
    }, 300);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [cron, timezone]);
  return preview;
}

function SchedulePreview({ preview, timezone }: { preview: Preview; timezone: string }) {
  return (
    <div
      className="preview"
      aria-live="polite"
      data-testid="schedule-preview"
      aria-busy={preview.loading || undefined}
    >
      <h3>Next fires{timezone ? ` (${timezone})` : ''}</h3>
      {preview.error ? (
        <p className="field-error" data-testid="schedule-preview-error">
          {preview.error}
        </p>
      ) : (
        <ol>
          {(preview.fires ?? []).map((fire) => (
            <li key={fire.utc}>
              <span className="mono">{fire.local.replace('T', ' ')}</span>{' '}
              <span className="muted">UTC{fire.offset}</span>{' '}
              <span className="muted">· {formatRelative(fire.utc)}</span>
            </li>
          ))}
          {!preview.fires && <li className="muted">…</li>}
        </ol>
      )}
    </div>
  );
}

/** What someone else changed since the form was loaded, with the user's own value next to it. */
function ConflictPanel({
  conflict,
  mine,
  base,
  onReapply,
  onTakeTheirs,
  busy,
}: {
  conflict: Conflict;
  mine: JobForm;
  base: JobForm;
  onReapply: () => void;
  onTakeTheirs: () => void;
  busy: boolean;
}) {
  const theirs = formOf(conflict.theirs);
  const yours = new Set(differing(base, mine));
  const both = conflict.changed.filter((key) => yours.has(key));
  return (
    <div className="banner banner-warning conflict" role="alert" data-testid="conflict-panel">
      <div>
        <strong>Someone saved this job while you were editing it</strong> (now version{' '}
        {conflict.theirs.version}).
        {conflict.changed.length === 0 ? (
          <p>Their save changed no field you can see here.</p>
        ) : (
          <table className="table conflict-table">
            <caption className="visually-hidden">Fields changed meanwhile</caption>
            <thead>
              <tr>
                <th scope="col">Field</th>
                <th scope="col">When you opened it</th>
                <th scope="col">Now on the node</th>
                <th scope="col">Yours</th>
              </tr>
            </thead>
            <tbody>
              {conflict.changed.map((key) => (
                <tr key={key} className={yours.has(key) ? 'conflict-both' : undefined}>
                  <td data-label="Field">{LABELS[key]}</td>
                  <td data-label="When you opened it" className="mono">
                    {shown(base, key)}
                  </td>
                  <td data-label="Now on the node" className="mono">
                    {shown(theirs, key)}
                  </td>
                  <td data-label="Yours" className="mono">
                    {shown(mine, key)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <p>
          {yours.size === 0
            ? 'You changed nothing yet.'
            : both.length > 0
              ? `Reapplying puts your values back over theirs for: ${both.map((key) => LABELS[key]).join(', ')}. Their other changes stay.`
              : 'Your changes touch other fields than theirs: reapplying keeps both.'}
        </p>
        <div className="form-actions">
          <button
            type="button"
            className="button-primary"
            onClick={onReapply}
            disabled={busy}
            data-testid="conflict-reapply"
          >
            Reapply my changes
          </button>
          <button
            type="button"
            onClick={onTakeTheirs}
            disabled={busy}
            data-testid="conflict-discard"
          >
            Discard mine, load theirs
          </button>
        </div>
      </div>
    </div>
  );
}
