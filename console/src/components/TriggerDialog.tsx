import { useState } from 'react';
import { Link } from 'react-router';
import { api, call } from '../api/client';
import type { Execution, Job } from '../api/client';
import { ConfirmDialog } from './ConfirmDialog';
import { Checkbox, Field } from './Field';
import { parseJson } from './json';

/** "Trigger now" for one job: params (JSON, default the job's), force, retry. */
export function TriggerDialog({
  job,
  onClose,
  onTriggered,
}: {
  job: Job | undefined;
  onClose: () => void;
  onTriggered: (execution: Execution) => void;
}) {
  const [params, setParams] = useState('');
  const [force, setForce] = useState(false);
  const [retry, setRetry] = useState(true);
  const [error, setError] = useState<unknown>();
  const [paramsError, setParamsError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [forJob, setForJob] = useState<string>();
  if (job && forJob !== job.id) {
    setForJob(job.id);
    setParams(JSON.stringify(job.params ?? {}, null, 2));
    setForce(false);
    setRetry(true);
    setError(undefined);
    setParamsError(undefined);
  }
  const confirm = () => {
    if (!job) return;
    const parsed = params.trim() === '' ? { value: undefined } : parseJson(params);
    if ('error' in parsed) {
      setParamsError(parsed.error);
      return;
    }
    setParamsError(undefined);
    setBusy(true);
    setError(undefined);
    call(
      api.POST('/api/jobs/{id}/trigger', {
        params: { path: { id: job.id } },
        body: { params: parsed.value as Record<string, never> | undefined, force, retry },
      }),
    )
      .then((execution) => {
        onTriggered(execution);
        onClose();
      })
      .catch(setError)
      .finally(() => setBusy(false));
  };
  return (
    <ConfirmDialog
      open={job !== undefined}
      title={`Trigger ${job?.name ?? ''} now`}
      confirmLabel="Trigger"
      busy={busy}
      error={error}
      onConfirm={confirm}
      onCancel={onClose}
      testId="trigger-dialog"
    >
      <p className="muted">
        Runs job <code>{job?.id}</code> once, now
        {job?.state === 'paused' ? ' (it is paused: that is fine)' : ''}.
      </p>
      <Field
        label="Params (JSON)"
        error={paramsError}
        hint="Handed to the handler for this run only. Empty: none."
      >
        <textarea
          rows={6}
          className="mono"
          value={params}
          onChange={(event) => setParams(event.target.value)}
        />
      </Field>
      <Checkbox
        label="Force (run even if the concurrency policy would skip or replace)"
        checked={force}
        onChange={setForce}
      />
      <Checkbox
        label="Retry on failure per the job's retry policy"
        checked={retry}
        onChange={setRetry}
      />
    </ConfirmDialog>
  );
}

/** The execution a trigger created, for the "triggered" notice: a link to its detail screen. */
export function ExecutionLink({ execution }: { execution: Execution }) {
  return (
    <Link to={`/executions/${encodeURIComponent(execution.id)}`} className="mono">
      {execution.id}
    </Link>
  );
}
