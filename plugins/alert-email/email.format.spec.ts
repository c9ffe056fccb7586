import { ForestAlert } from '@forest/plugin-api';
import {
  alertFacts,
  buildAlertMail,
  buildSubject,
  ERROR_CHARS,
  escapeHtml,
  SUBJECT_CHARS,
  truncate,
} from './email.format';

const ALERT: ForestAlert = {
  id: 'alert-1',
  event: 'failed',
  severity: 'critical',
  at: '2025-01-01T00:00:05.000Z',
  node: 'node-1',
  message: 'execution x failed on worker w: boom',
  job: { id: 'nightly', name: 'nightly-report', group: 'reports' },
  execution: {
    id: 'x',
    status: 'failed',
    attempt: 2,
    scheduledAt: '2025-01-01T00:00:00.000Z',
    worker: 'w',
    error: 'boom\n    at run (job.js:1:1)',
  },
};

const SUMMARY: ForestAlert = {
  ...ALERT,
  id: 'alert-2',
  message:
    '4 more failed alert(s) for job nightly since 2025-01-01T00:00:06.000Z; the latest: boom',
  suppressed: { count: 4, since: '2025-01-01T00:00:06.000Z' },
};

describe('email format', () => {
  it('writes a one-line subject with prefix, severity, event and what it is about', () => {
    expect(buildSubject(ALERT, '[Forest]')).toBe(
      '[Forest] [critical] failed: job nightly-report (reports)',
    );
    expect(buildSubject(SUMMARY, '[prod]')).toBe(
      '[prod] [critical] failed: job nightly-report (reports) (+4 more since 2025-01-01T00:00:06.000Z)',
    );
    const worker: ForestAlert = {
      id: 'a',
      event: 'worker_lost',
      severity: 'warning',
      at: ALERT.at,
      node: 'node-1',
      message: 'worker w-1 stopped heartbeating',
      worker: { id: 'w-1', group: 'g', host: 'box' },
    };
    expect(buildSubject(worker, '[Forest]')).toBe('[Forest] [warning] worker_lost: worker w-1 (g)');
    const cluster: ForestAlert = {
      ...worker,
      event: 'leader_changed',
      severity: 'info',
      worker: undefined,
    };
    expect(buildSubject(cluster, '[Forest]')).toBe('[Forest] [info] leader_changed: node node-1');
  });

  it('keeps a subject on one line and short, whatever the job is called', () => {
    const odd = { ...ALERT, job: { id: 'j', name: 'a\r\nBcc: evil@example.com', group: '' } };
    expect(buildSubject(odd, '[Forest]')).toBe(
      '[Forest] [critical] failed: job a Bcc: evil@example.com',
    );
    const long = { ...ALERT, job: { id: 'j', name: 'n'.repeat(500), group: 'g' } };
    const subject = buildSubject(long, '[Forest]');
    expect(subject).toHaveLength(SUBJECT_CHARS);
    expect(subject.endsWith('…')).toBe(true);
  });

  it('lists event, severity, job, execution, worker, node and time', () => {
    expect(alertFacts(ALERT)).toEqual([
      ['Event', 'failed'],
      ['Severity', 'critical'],
      ['Job', 'nightly-report (id nightly, group reports)'],
      ['Execution', 'x (attempt 2, failed, scheduled 2025-01-01T00:00:00.000Z)'],
      ['Worker', 'w'],
      ['Node', 'node-1'],
      ['Time', '2025-01-01T00:00:05.000Z'],
      ['Alert id', 'alert-1'],
    ]);
    expect(
      alertFacts({
        ...ALERT,
        job: undefined,
        execution: undefined,
        worker: { id: 'w-1', group: 'g', host: 'box' },
      }),
    ).toContainEqual(['Worker', 'w-1 (group g, host box)']);
  });

  it('writes the text body: message, facts, error, footer', () => {
    const { text, headers } = buildAlertMail(ALERT, '[Forest]');
    expect(text).toBe(
      [
        'execution x failed on worker w: boom',
        '',
        'Event:     failed',
        'Severity:  critical',
        'Job:       nightly-report (id nightly, group reports)',
        'Execution: x (attempt 2, failed, scheduled 2025-01-01T00:00:00.000Z)',
        'Worker:    w',
        'Node:      node-1',
        'Time:      2025-01-01T00:00:05.000Z',
        'Alert id:  alert-1',
        '',
        'Error:',
        '    boom',
        '        at run (job.js:1:1)',
        '',
        '-- ',
        'Sent by Forest node node-1 through the email alert channel. Repeats of one event ' +
          'for one job or worker within the repeat window are sent as one summary.',
        '',
      ].join('\n'),
    );
    expect(headers).toEqual({
      'X-Forest-Alert-Id': 'alert-1',
      'X-Forest-Event': 'failed',
      'X-Forest-Severity': 'critical',
    });
  });

  it('renders a summary: how many were held back and since when', () => {
    const { text, html } = buildAlertMail(SUMMARY, '[Forest]');
    expect(text.split('\n')[0]).toBe(SUMMARY.message);
    expect(text).toContain(
      'Summary:   4 more failed alert(s) held back since 2025-01-01T00:00:06.000Z; this mail stands for them\n',
    );
    expect(html).toContain(
      '<th align="left" style="padding:2px 12px 2px 0;vertical-align:top">Summary</th>' +
        '<td style="padding:2px 0">4 more failed alert(s) held back since 2025-01-01T00:00:06.000Z; ' +
        'this mail stands for them</td>',
    );
    expect(buildAlertMail(ALERT, '[Forest]').text).not.toContain('Summary:');
  });

  it('writes the same content as escaped HTML', () => {
    const hostile: ForestAlert = {
      ...ALERT,
      message: '<script>alert(1)</script> & "quotes"',
      job: { id: 'j', name: '<b>job</b>', group: 'g' },
      execution: { ...ALERT.execution!, error: '<img src=x onerror=alert(1)>' },
    };
    const { html } = buildAlertMail(hostile, '[Forest]');
    expect(html).not.toMatch(/<script|<img|<b>/);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;');
    expect(html).toContain('[critical] failed</strong>: job &lt;b&gt;job&lt;/b&gt; (g)</p>');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;</pre>');
    expect(html).toContain('<td style="padding:2px 0">node-1</td>');
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
  });

  it('leaves out the error section when there is none, and cuts a huge one', () => {
    const noError = buildAlertMail({ ...ALERT, execution: undefined }, '[Forest]');
    expect(noError.text).not.toContain('Error:');
    expect(noError.html).not.toContain('<pre');
    const huge = buildAlertMail(
      { ...ALERT, execution: { ...ALERT.execution!, error: 'e'.repeat(50_000) } },
      '[Forest]',
    );
    expect(huge.text).toContain(`    ${'e'.repeat(ERROR_CHARS - 1)}…\n`);
    expect(huge.text.length).toBeLessThan(ERROR_CHARS + 2000);
  });

  it('escapes and truncates like the other channels', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe(
      '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;',
    );
    expect(truncate('abcdef', 4)).toBe('abc…');
    expect(truncate('ab😀cd', 4)).toBe('ab…');
    expect(truncate('abc', 3)).toBe('abc');
  });
});
