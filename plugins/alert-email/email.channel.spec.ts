import { ForestAlert, PluginSettings } from '@forest/plugin-api';
import { closedPort, SilentServer, SmtpCapture } from '../../test/support/smtp-capture';
import { EmailChannel } from './email.channel';

/**
 * The channel against real SMTP servers on 127.0.0.1: smtp-server capturing mails, a TCP
 * server that never greets, and a closed port. (The repeat limiter and summaries are the
 * host's: test/plugins/email-alert.e2e-spec.ts checks them through a node.)
 */

class MapSettings extends PluginSettings {
  constructor(private readonly values: Record<string, string>) {
    super();
  }

  get(name: string): string | undefined {
    return this.values[name];
  }
}

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
    attempt: 1,
    scheduledAt: '2025-01-01T00:00:00.000Z',
    worker: 'w',
    error: 'boom',
  },
};

const live = () => ({ signal: new AbortController().signal });
const MAIL = {
  FOREST_EMAIL_FROM: 'Forest <forest@example.com>',
  FOREST_EMAIL_TO: 'ops@example.com, Jane <jane@example.com>',
};

describe('email channel', () => {
  const cleanup: (() => Promise<void>)[] = [];
  const channels: EmailChannel[] = [];

  function channel(values: Record<string, string>): EmailChannel {
    const created = new EmailChannel(new MapSettings(values));
    channels.push(created);
    return created;
  }

  async function capture(options?: ConstructorParameters<typeof SmtpCapture>[0]) {
    const server = new SmtpCapture(options);
    await server.start();
    cleanup.push(() => server.stop());
    return server;
  }

  afterEach(async () => {
    for (const c of channels.splice(0)) c.onModuleDestroy();
    for (const stop of cleanup.splice(0)) await stop();
  });

  it('sends one mail with from, to, subject, text and HTML', async () => {
    const smtp = await capture();
    const result = await channel({
      FOREST_SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
      ...MAIL,
    }).send(ALERT, live());
    expect(result).toEqual({
      status: 'delivered',
      detail: `250 queued as test (2 recipient(s) via 127.0.0.1:${smtp.port})`,
    });
    expect(smtp.mails).toHaveLength(1);
    const [mail] = smtp.mails;
    expect(mail.envelopeFrom).toBe('forest@example.com');
    expect(mail.envelopeTo).toEqual(['ops@example.com', 'jane@example.com']);
    expect(mail.user).toBeUndefined();
    expect(mail.headers).toMatchObject({
      from: 'Forest <forest@example.com>',
      to: 'ops@example.com, Jane <jane@example.com>',
      subject: '[Forest] [critical] failed: job nightly-report (reports)',
      'x-forest-alert-id': 'alert-1',
      'x-forest-event': 'failed',
      'x-forest-severity': 'critical',
    });
    expect(mail.headers['content-type']).toMatch(/^multipart\/alternative/);
    expect(mail.text).toContain('execution x failed on worker w: boom\n');
    expect(mail.text).toContain('Job:       nightly-report (id nightly, group reports)\n');
    expect(mail.text).toContain('Worker:    w\n');
    expect(mail.html).toContain(
      '<td style="padding:2px 0">nightly-report (id nightly, group reports)</td>',
    );
  });

  it('logs in with the credentials of FOREST_SMTP_URL, percent-decoded', async () => {
    const smtp = await capture({ credentials: { user: 'alerts@example.com', pass: 'p@ss:w0rd' } });
    const ok = await channel({
      FOREST_SMTP_URL: `smtp://alerts%40example.com:p%40ss%3Aw0rd@127.0.0.1:${smtp.port}`,
      ...MAIL,
    }).send(ALERT, live());
    expect(ok.status).toBe('delivered');
    expect(smtp.logins).toEqual([{ user: 'alerts@example.com', ok: true }]);
    expect(smtp.mails.map((m) => m.user)).toEqual(['alerts@example.com']);

    const wrong = await channel({
      FOREST_SMTP_URL: `smtp://alerts%40example.com:guess@127.0.0.1:${smtp.port}`,
      ...MAIL,
    }).send(ALERT, live());
    expect(wrong.status).toBe('failed');
    const error = (wrong as { error: string }).error;
    expect(error).toMatch(new RegExp(`^SMTP 127\\.0\\.0\\.1:${smtp.port}: EAUTH: Invalid login`));
    expect(error).not.toContain('guess');
    expect(smtp.logins.at(-1)).toEqual({ user: 'alerts@example.com', ok: false });
    expect(smtp.mails).toHaveLength(1);
  });

  it('logs in with FOREST_SMTP_USER and FOREST_SMTP_PASSWORD', async () => {
    const smtp = await capture({ credentials: { user: 'u', pass: 'p' } });
    const result = await channel({
      FOREST_SMTP_HOST: '127.0.0.1',
      FOREST_SMTP_PORT: String(smtp.port),
      FOREST_SMTP_USER: 'u',
      FOREST_SMTP_PASSWORD: 'p',
      ...MAIL,
    }).send(ALERT, live());
    expect(result.status).toBe('delivered');
    expect(smtp.mails.map((m) => m.user)).toEqual(['u']);
  });

  it('fails when the server asks for a login and none is configured', async () => {
    const smtp = await capture({ credentials: { user: 'u', pass: 'p' } });
    const result = await channel({
      FOREST_SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
      ...MAIL,
    }).send(ALERT, live());
    expect(result.status).toBe('failed');
    expect((result as { error: string }).error).toMatch(/Authentication required/i);
    expect(smtp.mails).toHaveLength(0);
  });

  it('delivers to the accepted recipients and names the rejected ones', async () => {
    const smtp = await capture({ rejectRecipients: ['jane@example.com'] });
    const result = await channel({
      FOREST_SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
      ...MAIL,
    }).send(ALERT, live());
    expect(result).toEqual({
      status: 'delivered',
      detail: `250 queued as test (1 recipient(s) via 127.0.0.1:${smtp.port}; rejected: jane@example.com)`,
    });
    expect(smtp.mails[0].envelopeTo).toEqual(['ops@example.com']);

    const none = await channel({
      FOREST_SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
      FOREST_EMAIL_FROM: 'forest@example.com',
      FOREST_EMAIL_TO: 'jane@example.com',
    }).send(ALERT, live());
    expect(none.status).toBe('failed');
    expect((none as { error: string }).error).toMatch(/EENVELOPE/);
  });

  it('fails at once when the server is down', async () => {
    const port = await closedPort();
    const started = Date.now();
    const result = await channel({ FOREST_SMTP_URL: `smtp://127.0.0.1:${port}`, ...MAIL }).send(
      ALERT,
      live(),
    );
    expect(result.status).toBe('failed');
    expect((result as { error: string }).error).toMatch(
      new RegExp(`^SMTP 127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`),
    );
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('stops when the host aborts, and closes the connection', async () => {
    const silent = new SilentServer();
    await silent.start();
    cleanup.push(() => silent.stop());
    const host = new AbortController();
    setTimeout(() => host.abort(), 200);
    const started = Date.now();
    const result = await channel({
      FOREST_SMTP_URL: `smtp://127.0.0.1:${silent.port}`,
      ...MAIL,
    }).send(ALERT, { signal: host.signal });
    expect(result).toEqual({
      status: 'failed',
      error: `SMTP 127.0.0.1:${silent.port}: aborted (the delivery ran out of time)`,
    });
    expect(Date.now() - started).toBeLessThan(1500);
    expect(silent.sockets).toHaveLength(1);
    // The socket is closed from our side, not left to time out.
    for (let i = 0; i < 20 && silent.closed.length === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(silent.closed).toHaveLength(1);
  });

  it('does not connect when the signal is already aborted', async () => {
    const silent = new SilentServer();
    await silent.start();
    cleanup.push(() => silent.stop());
    const result = await channel({
      FOREST_SMTP_URL: `smtp://127.0.0.1:${silent.port}`,
      ...MAIL,
    }).send(ALERT, { signal: AbortSignal.abort() });
    expect(result).toEqual({ status: 'failed', error: 'aborted before connecting' });
    expect(silent.sockets).toHaveLength(0);
  });

  it('overlapping sends each deliver their own mail', async () => {
    const smtp = await capture();
    const email = channel({ FOREST_SMTP_URL: `smtp://127.0.0.1:${smtp.port}`, ...MAIL });
    const ids = Array.from({ length: 5 }, (_, i) => `alert-${i}`);
    const results = await Promise.all(ids.map((id) => email.send({ ...ALERT, id }, live())));
    expect(results.every((r) => r.status === 'delivered')).toBe(true);
    expect(smtp.mails.map((m) => m.headers['x-forest-alert-id']).sort()).toEqual(ids);
  });

  it('fails every send when not configured', async () => {
    await expect(channel({}).send(ALERT, live())).resolves.toEqual({
      status: 'failed',
      error:
        'the email channel is not configured: set FOREST_SMTP_URL (or FOREST_SMTP_HOST), ' +
        'FOREST_EMAIL_FROM and FOREST_EMAIL_TO',
    });
  });

  it('refuses bad settings when created, so the boot stops', () => {
    expect(() => channel({ FOREST_EMAIL_TO: 'ops@example.com' })).toThrow(
      /^FOREST_EMAIL_TO is set, but no SMTP server is/,
    );
    expect(() => channel({ FOREST_SMTP_URL: 'smtp://u:secret@h', FOREST_EMAIL_FROM: 'x' })).toThrow(
      /^FOREST_EMAIL_FROM: must be one address/,
    );
  });
});
