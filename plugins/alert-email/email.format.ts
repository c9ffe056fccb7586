import { AlertSeverity, ForestAlert } from '@forest/plugin-api';

/**
 * The `email` channel's mail: a one-line subject, a plain-text body and the same content
 * as simple HTML (a table; no images, scripts or external styles), plus X-Forest-* headers
 * for mail filters. Pure functions, so the tests check them without a server.
 */

export interface AlertMail {
  readonly subject: string;
  readonly text: string;
  readonly html: string;
  readonly headers: Readonly<Record<string, string>>;
}

/** Subjects longer than this are cut (RFC 5322 recommends 78 per line; clients show ~100). */
export const SUBJECT_CHARS = 200;
/** The message and the error are cut here: a mail is for reading, not a log archive. */
export const MESSAGE_CHARS = 10_000;
export const ERROR_CHARS = 10_000;

export const ALERT_ID_HEADER = 'X-Forest-Alert-Id';
export const EVENT_HEADER = 'X-Forest-Event';
export const SEVERITY_HEADER = 'X-Forest-Severity';

const SEVERITY_COLOR: Record<AlertSeverity, string> = {
  critical: '#b3261e',
  warning: '#a15c00',
  info: '#1f5fa8',
};

/** What the alert is about: its job, else its worker, else the node that raised it. */
export function alertSubjectOf(alert: ForestAlert): string {
  if (alert.job) {
    return `job ${alert.job.name}${alert.job.group ? ` (${alert.job.group})` : ''}`;
  }
  if (alert.worker) return `worker ${alert.worker.id} (${alert.worker.group})`;
  return `node ${alert.node}`;
}

/**
 * `[Forest] [critical] failed: job nightly-report (reports)`; a summary adds
 * `(+4 more since <time>)`.
 */
export function buildSubject(alert: ForestAlert, prefix: string): string {
  const summary = alert.suppressed
    ? ` (+${alert.suppressed.count} more since ${alert.suppressed.since})`
    : '';
  const subject = oneLine(
    `${prefix} [${alert.severity}] ${alert.event}: ${alertSubjectOf(alert)}${summary}`,
  );
  return truncate(subject, SUBJECT_CHARS);
}

/** The labelled facts both bodies show, in order; absent ones are left out. */
export function alertFacts(alert: ForestAlert): [label: string, value: string][] {
  const facts: [string, string][] = [
    ['Event', alert.event],
    ['Severity', alert.severity],
  ];
  if (alert.job) {
    const group = alert.job.group ? `, group ${alert.job.group}` : '';
    facts.push(['Job', `${alert.job.name} (id ${alert.job.id}${group})`]);
  }
  if (alert.execution) {
    const e = alert.execution;
    facts.push([
      'Execution',
      `${e.id} (attempt ${e.attempt}, ${e.status}, scheduled ${e.scheduledAt})`,
    ]);
  }
  if (alert.worker) {
    const w = alert.worker;
    facts.push(['Worker', `${w.id} (group ${w.group}, host ${w.host})`]);
  } else if (alert.execution?.worker) {
    facts.push(['Worker', alert.execution.worker]);
  }
  facts.push(['Node', alert.node]);
  facts.push(['Time', alert.at]);
  if (alert.suppressed) {
    const { count, since } = alert.suppressed;
    facts.push([
      'Summary',
      `${count} more ${alert.event} alert(s) held back since ${since}; this mail stands for them`,
    ]);
  }
  facts.push(['Alert id', alert.id]);
  return facts;
}

export function buildAlertMail(alert: ForestAlert, subjectPrefix: string): AlertMail {
  const message = truncate(alert.message, MESSAGE_CHARS);
  const error = alert.execution?.error ? truncate(alert.execution.error, ERROR_CHARS) : undefined;
  const facts = alertFacts(alert);
  const footer =
    `Sent by Forest node ${alert.node} through the email alert channel. Repeats of one ` +
    'event for one job or worker within the repeat window are sent as one summary.';
  return {
    subject: buildSubject(alert, subjectPrefix),
    text: textBody(message, facts, error, footer),
    html: htmlBody(alert, message, facts, error, footer),
    headers: {
      [ALERT_ID_HEADER]: oneLine(alert.id),
      [EVENT_HEADER]: alert.event,
      [SEVERITY_HEADER]: alert.severity,
    },
  };
}

function textBody(
  message: string,
  facts: [string, string][],
  error: string | undefined,
  footer: string,
): string {
  const width = Math.max(...facts.map(([label]) => label.length)) + 2;
  const lines = [
    message,
    '',
    ...facts.map(([label, value]) => `${`${label}:`.padEnd(width)}${value}`),
  ];
  if (error !== undefined) {
    lines.push('', 'Error:', ...error.split(/\r?\n/).map((line) => `    ${line}`));
  }
  lines.push('', '-- ', footer, '');
  return lines.join('\n');
}

function htmlBody(
  alert: ForestAlert,
  message: string,
  facts: [string, string][],
  error: string | undefined,
  footer: string,
): string {
  const color = SEVERITY_COLOR[alert.severity] ?? SEVERITY_COLOR.info;
  const rows = facts
    .map(
      ([label, value]) =>
        `<tr><th align="left" style="padding:2px 12px 2px 0;vertical-align:top">${escapeHtml(label)}</th>` +
        `<td style="padding:2px 0">${escapeHtml(value)}</td></tr>`,
    )
    .join('\n');
  const parts = [
    '<!DOCTYPE html>',
    '<html><head><meta charset="utf-8"></head>',
    '<body style="font-family:Arial,Helvetica,sans-serif;font-size:14px;color:#1f1f1f">',
    `<p style="margin:0 0 8px"><strong style="color:${color}">[${escapeHtml(alert.severity)}] ` +
      `${escapeHtml(alert.event)}</strong>: ${escapeHtml(alertSubjectOf(alert))}</p>`,
    `<p style="margin:0 0 12px;white-space:pre-wrap">${escapeHtml(message)}</p>`,
    `<table cellspacing="0" cellpadding="0" style="border-collapse:collapse">\n${rows}\n</table>`,
  ];
  if (error !== undefined) {
    parts.push(
      '<p style="margin:12px 0 4px"><strong>Error</strong></p>',
      `<pre style="margin:0;padding:8px;background:#f4f4f4;white-space:pre-wrap">${escapeHtml(error)}</pre>`,
    );
  }
  parts.push(
    `<p style="margin:16px 0 0;color:#6b6b6b;font-size:12px">${escapeHtml(footer)}</p>`,
    '</body></html>',
    '',
  );
  return parts.join('\n');
}

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** At most `max` characters, the last being an ellipsis when cut; never splits a pair. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max - 1;
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end--;
  return `${text.slice(0, end)}…`;
}
