import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { startTestApp, TestApp } from '../support/app-harness';
import { injectJson, Json } from '../support/http-inject';
import { NodeProcess, runToExit } from '../support/node-process';
import { CapturedMail, SilentServer, SmtpCapture } from '../support/smtp-capture';
import { waitFor } from '../support/wait';
import { WorkerFleet } from '../support/worker-fleet';

/**
 * The built-in `email` channel (plugins/alert-email) in a node: alerts of a job that
 * selected it go through the host's AlertService (repeat limiter, summaries, delivery
 * timeout, recorded outcomes) to a local SMTP server (smtp-server on 127.0.0.1) that
 * requires a login.
 */

/** A schedule that never fires during a test (midnight, January 1st). */
const NEVER = '0 0 1 1 *';
const GROUP = 'mailing';
const USER = 'alerts@example.com';
const PASSWORD = 'p@ss:w0rd';
const FROM = 'Forest <forest@example.com>';
const TO = 'ops@example.com, Jane <jane@example.com>';

interface Node {
  subject: TestApp;
  fleet: WorkerFleet;
}

async function startNode(env: Record<string, string>): Promise<Node> {
  const subject = await startTestApp({ store: 'embedded', env });
  await subject.app.listen(0, '127.0.0.1');
  const { port } = subject.app.getHttpServer().address() as AddressInfo;
  const group = await subject.app.inject({
    method: 'POST',
    url: '/api/groups',
    payload: { name: GROUP },
  });
  expect(group.statusCode).toBe(201);
  const fleet = new WorkerFleet(`http://127.0.0.1:${port}`, GROUP, {
    boom: () => {
      throw new Error('boom');
    },
  });
  await fleet.add({ name: 'w-mail', concurrency: 8 });
  return { subject, fleet };
}

async function stopNode(node: Node | undefined): Promise<void> {
  if (!node) return;
  await node.fleet.stopAll();
  await node.subject.close();
}

function call(node: Node, method: string, url: string, payload?: unknown) {
  return injectJson(node.subject.app, method, url, payload);
}

async function createJob(node: Node, id: string): Promise<void> {
  const response = await call(node, 'POST', '/api/jobs', {
    id,
    name: `job ${id}`,
    group: GROUP,
    schedule: { cron: NEVER },
    target: 'boom',
    state: 'paused',
    alerts: { channels: ['email'], events: ['failed'] },
  });
  expect(response).toMatchObject({ statusCode: 201 });
}

async function trigger(node: Node, jobId: string): Promise<string> {
  const response = await call(node, 'POST', `/api/jobs/${jobId}/trigger`);
  expect(response.statusCode).toBe(201);
  return response.body.id as string;
}

/** GET /api/alerts: recent alerts with their deliveries, newest first. */
async function alerts(node: Node): Promise<Json[]> {
  const response = await call(node, 'GET', '/api/alerts?limit=500');
  expect(response.statusCode).toBe(200);
  return response.body.items as Json[];
}

/** The email outcome of the alerts of a job, oldest first, once `count` have one. */
async function emailOutcomes(node: Node, jobId: string, count: number, ms = 10_000) {
  const outcomes = async () =>
    (await alerts(node))
      .filter((a) => a.alert.job?.id === jobId)
      .map((a) => ({
        alert: a.alert as Json,
        delivery: (a.deliveries as Json[]).find((d) => d.channel === 'email')?.delivery as
          Json | undefined,
      }))
      .filter((o) => o.delivery !== undefined)
      .reverse();
  return waitFor(outcomes, (list) => list.length >= count, ms);
}

function mailsOf(smtp: SmtpCapture, jobId: string): CapturedMail[] {
  return smtp.mails.filter((m) => m.text.includes(`(id ${jobId}, group ${GROUP})`));
}

describe('email alert channel', () => {
  describe('delivery and repeats (login required, 2 s repeat window)', () => {
    const windowS = 2;
    const smtp = new SmtpCapture({ credentials: { user: USER, pass: PASSWORD } });
    let node: Node;

    beforeAll(async () => {
      const port = await smtp.start();
      node = await startNode({
        FOREST_SMTP_URL: `smtp://${encodeURIComponent(USER)}:${encodeURIComponent(PASSWORD)}@127.0.0.1:${port}`,
        FOREST_EMAIL_FROM: FROM,
        FOREST_EMAIL_TO: TO,
        FOREST_EMAIL_SUBJECT_PREFIX: '[forest-e2e]',
        FOREST_ALERT_REPEAT_WINDOW_S: String(windowS),
      });
    }, 20_000);

    afterAll(async () => {
      await stopNode(node);
      await smtp.stop();
    });

    it('is listed among the plugins', async () => {
      const response = await call(node, 'GET', '/api/plugins');
      expect(response.statusCode).toBe(200);
      expect(JSON.stringify(response.body)).toContain('"alert-email"');
      expect(JSON.stringify(response.body)).toContain('"email"');
    });

    it('mails a failed execution: one mail, logged in, with from, to, subject and body', async () => {
      await createJob(node, 'mail-job');
      const executionId = await trigger(node, 'mail-job');
      const [outcome] = await emailOutcomes(node, 'mail-job', 1);
      expect(outcome.delivery).toEqual({
        status: 'delivered',
        detail: `250 queued as test (2 recipient(s) via 127.0.0.1:${smtp.port})`,
      });
      const mails = mailsOf(smtp, 'mail-job');
      expect(mails).toHaveLength(1);
      const [mail] = mails;
      const alert = outcome.alert;
      const workerId = node.fleet.workers[0].id;

      expect(mail.user).toBe(USER);
      expect(smtp.logins.every((l) => l.user === USER && l.ok)).toBe(true);
      expect(mail.envelopeFrom).toBe('forest@example.com');
      expect(mail.envelopeTo).toEqual(['ops@example.com', 'jane@example.com']);
      expect(mail.headers).toMatchObject({
        from: FROM,
        to: TO,
        subject: '[forest-e2e] [critical] failed: job job mail-job (mailing)',
        'x-forest-alert-id': alert.id,
        'x-forest-event': 'failed',
        'x-forest-severity': 'critical',
      });
      expect(mail.text.split('\n')[0]).toBe(alert.message);
      expect(alert.message).toContain(executionId);
      for (const line of [
        'Event:     failed',
        'Severity:  critical',
        `Job:       job mail-job (id mail-job, group ${GROUP})`,
        `Execution: ${executionId} (attempt 1, failed, scheduled ${alert.execution.scheduledAt})`,
        `Worker:    ${workerId}`,
        'Node:      test-node',
        `Time:      ${alert.at}`,
        `Alert id:  ${alert.id}`,
      ]) {
        expect(mail.text).toContain(`${line}\n`);
      }
      expect(mail.text).toMatch(/\nError:\n {4}.*boom/);
      expect(mail.text).not.toContain('Summary:');
      expect(mail.html).toContain(`<td style="padding:2px 0">${workerId}</td>`);
      expect(mail.html).toContain('<td style="padding:2px 0">test-node</td>');
    });

    it('holds repeats back and mails them as one summary when the window ends', async () => {
      await createJob(node, 'burst-job');
      const triggers = 5;
      const startedMs = Date.now();
      for (let i = 0; i < triggers; i++) await trigger(node, 'burst-job');
      const failed = await waitFor(
        async () =>
          (
            (await call(node, 'GET', '/api/executions?jobId=burst-job')).body.items as Json[]
          ).filter((e) => e.status === 'failed'),
        (list) => list.length === triggers,
      );
      expect(failed).toHaveLength(triggers);
      // All failed inside the first window, so all but the first are repeats.
      expect(Date.now() - startedMs).toBeLessThan(windowS * 1000);

      const outcomes = await emailOutcomes(node, 'burst-job', 2, windowS * 1000 + 5000);
      expect(outcomes.map((o) => o.delivery?.status)).toEqual(['delivered', 'delivered']);
      const [first, summary] = outcomes.map((o) => o.alert);
      expect(first.suppressed).toBeUndefined();
      expect(summary.suppressed).toEqual({ count: triggers - 1, since: expect.any(String) });

      const mails = mailsOf(smtp, 'burst-job');
      expect(mails).toHaveLength(2);
      expect(mails[0].headers['x-forest-alert-id']).toBe(first.id);
      expect(mails[1].headers['x-forest-alert-id']).toBe(summary.id);
      expect(mails[1].headers.subject).toBe(
        `[forest-e2e] [critical] failed: job job burst-job (mailing) ` +
          `(+${triggers - 1} more since ${summary.suppressed.since})`,
      );
      expect(mails[1].text.split('\n')[0]).toContain(
        `${triggers - 1} more failed alert(s) for job burst-job since`,
      );
      expect(mails[1].text).toContain(
        `Summary:   ${triggers - 1} more failed alert(s) held back since ${summary.suppressed.since}; ` +
          'this mail stands for them\n',
      );
      expect(mails[1].html).toContain('>Summary</th>');
      // The summary came once the window was over, not with the first alert.
      expect(Date.parse(summary.at) - Date.parse(first.at)).toBeGreaterThanOrEqual(
        windowS * 1000 - 100,
      );
    });
  });

  describe('SMTP server down (1 s delivery timeout)', () => {
    const timeoutMs = 1000;
    const silent = new SilentServer();
    let node: Node;

    beforeAll(async () => {
      const port = await silent.start();
      node = await startNode({
        FOREST_SMTP_URL: `smtp://u:p@127.0.0.1:${port}`,
        FOREST_EMAIL_FROM: FROM,
        FOREST_EMAIL_TO: TO,
        FOREST_ALERT_TIMEOUT_MS: String(timeoutMs),
      });
    }, 20_000);

    afterAll(async () => {
      await stopNode(node);
      await silent.stop();
    });

    it('a server that never answers: the delivery fails at the timeout, and the connection is closed', async () => {
      await createJob(node, 'hang-job');
      const startedMs = Date.now();
      await trigger(node, 'hang-job');
      const [outcome] = await emailOutcomes(node, 'hang-job', 1);
      expect(outcome.delivery).toEqual({
        status: 'failed',
        error: `alert channel "email" of plugin alert-email did not answer within ${timeoutMs}ms`,
      });
      expect(Date.now() - startedMs).toBeLessThan(timeoutMs + 4000);
      expect(silent.sockets).toHaveLength(1);
      // The channel honoured the abort: it hung up rather than keep the socket open.
      const closed = await waitFor(
        () => Promise.resolve(silent.closed.length),
        (n) => n === 1,
        2000,
      );
      expect(closed).toBe(1);
    });

    it('a server that is gone: the delivery fails at once, saying why', async () => {
      await silent.stop();
      await createJob(node, 'down-job');
      await trigger(node, 'down-job');
      const [outcome] = await emailOutcomes(node, 'down-job', 1);
      expect(outcome.delivery).toEqual({
        status: 'failed',
        error: `SMTP 127.0.0.1:${silent.port}: ESOCKET: connect ECONNREFUSED 127.0.0.1:${silent.port}`,
      });
      // The log channel still delivered the same alert.
      const record = (await alerts(node)).find((a) => a.alert.id === outcome.alert.id);
      expect(record?.deliveries).toContainEqual({
        channel: 'log',
        delivery: expect.objectContaining({ status: 'delivered' }),
      });
    });
  });

  describe('settings', () => {
    it('without settings the channel is loaded, and a send fails saying what to set', async () => {
      const node = await startNode({});
      try {
        await createJob(node, 'unset-job');
        await trigger(node, 'unset-job');
        const [outcome] = await emailOutcomes(node, 'unset-job', 1);
        expect(outcome.delivery).toEqual({
          status: 'failed',
          error:
            'the email channel is not configured: set FOREST_SMTP_URL (or FOREST_SMTP_HOST), ' +
            'FOREST_EMAIL_FROM and FOREST_EMAIL_TO',
        });
      } finally {
        await stopNode(node);
      }
    }, 20_000);

    it('a bad setting stops the boot with a message naming it', async () => {
      const root = mkdtempSync(join(tmpdir(), 'forest-email-boot-'));
      try {
        const { code, stdout, stderr } = await runToExit(
          NodeProcess.run([], {
            FOREST_DATA_DIR: join(root, 'data'),
            FOREST_HTTP_PORT: '0',
            FOREST_EMAIL_TO: 'ops@example.com',
          }),
        );
        expect(code).toBe(1);
        // The node's log (JSON lines on stdout) carries the reason.
        expect(`${stdout}${stderr}`).toContain(
          'Forest failed to start: FOREST_EMAIL_TO is set, but no SMTP server is: ' +
            'set FOREST_SMTP_URL (or FOREST_SMTP_HOST), or unset it',
        );
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    }, 60_000);
  });
});
