import { OnModuleDestroy } from '@nestjs/common';
import {
  AlertChannel,
  AlertDelivery,
  AlertSendContext,
  delivered,
  deliveryFailed,
  ForestAlert,
  ForestAlertChannel,
  PluginSettings,
} from '@forest/plugin-api';
import { createTransport } from 'nodemailer';
import { buildAlertMail } from './email.format';
import { EmailSettings, NOT_CONFIGURED, readEmailSettings } from './email.settings';

/**
 * How long nodemailer waits for the TCP/TLS connection, for the server's greeting, and
 * for any answer once connected. The host's FOREST_ALERT_TIMEOUT_MS (default 30 s) bounds
 * the whole delivery anyway; these make a dead or silent server fail with a precise
 * message before that when the host timeout is long.
 */
export const CONNECTION_TIMEOUT_MS = 10_000;
export const GREETING_TIMEOUT_MS = 10_000;
export const SOCKET_TIMEOUT_MS = 30_000;

/** What the channel needs of a nodemailer transporter; tests may pass their own. */
export interface MailTransport {
  sendMail(mail: {
    from: { name: string; address: string };
    to: { name: string; address: string }[];
    subject: string;
    text: string;
    html: string;
    headers: Record<string, string>;
    signal: AbortSignal;
  }): Promise<{ response?: string; accepted?: unknown[]; rejected?: unknown[] }>;
  close(): void;
}

/**
 * `email`: sends each alert as one mail (text and HTML) through an SMTP server. A new
 * connection per mail (no pool to keep alive between alerts, which are rare after the
 * repeat limiter); nodemailer closes it when the host aborts the delivery. No retries: a
 * refused or failed mail is reported as failed at once, and the host records it.
 */
@AlertChannel('email')
export class EmailChannel implements ForestAlertChannel, OnModuleDestroy {
  private readonly settings?: EmailSettings;
  private readonly transport?: MailTransport;

  constructor(settings: PluginSettings) {
    this.settings = readEmailSettings(settings);
    if (this.settings) this.transport = createSmtpTransport(this.settings);
  }

  async send(alert: ForestAlert, context: AlertSendContext): Promise<AlertDelivery> {
    const { settings, transport } = this;
    // Allowed at boot so the plugin can be loaded everywhere and enabled per environment.
    if (!settings || !transport) return deliveryFailed(NOT_CONFIGURED);
    if (context.signal.aborted) return deliveryFailed('aborted before connecting');
    const mail = buildAlertMail(alert, settings.subjectPrefix);
    try {
      const info = await transport.sendMail({
        from: { ...settings.from },
        to: settings.to.map((address) => ({ ...address })),
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
        headers: { ...mail.headers },
        signal: context.signal,
      });
      return delivered(describeAccepted(settings, info));
    } catch (error) {
      return deliveryFailed(describeSendError(settings, error, context.signal));
    }
  }

  onModuleDestroy(): void {
    this.transport?.close();
  }
}

export function createSmtpTransport(settings: EmailSettings): MailTransport {
  const { host, port, secure, auth } = settings.server;
  return createTransport({
    host,
    port,
    secure,
    ...(auth ? { auth: { user: auth.user, pass: auth.pass } } : {}),
    connectionTimeout: CONNECTION_TIMEOUT_MS,
    greetingTimeout: GREETING_TIMEOUT_MS,
    socketTimeout: SOCKET_TIMEOUT_MS,
    // The mail is built from strings only; nothing in an alert may make it read a file or URL.
    disableFileAccess: true,
    disableUrlAccess: true,
  });
}

function server(settings: EmailSettings): string {
  const { host, port } = settings.server;
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** `250 OK queued (2 recipient(s) via smtp.example.com:587)`, naming any rejected ones. */
export function describeAccepted(
  settings: EmailSettings,
  info: { response?: string; accepted?: unknown[]; rejected?: unknown[] },
): string {
  const accepted = info.accepted?.length ?? settings.to.length;
  const rejected = (info.rejected ?? []).map(addressText);
  const response = info.response ? `${oneLine(info.response)} ` : '';
  const refused = rejected.length > 0 ? `; rejected: ${rejected.join(', ')}` : '';
  return `${response}(${accepted} recipient(s) via ${server(settings)}${refused})`;
}

/**
 * Why a mail was not sent, on one line: the host's abort, or nodemailer's error with its
 * code (ECONNECTION, ETIMEDOUT, EAUTH, EENVELOPE, EMESSAGE, ...) and the SMTP reply.
 * Nodemailer's messages do not carry the password.
 */
export function describeSendError(
  settings: EmailSettings,
  error: unknown,
  signal: AbortSignal,
): string {
  const where = `SMTP ${server(settings)}`;
  if (signal.aborted) return `${where}: aborted (the delivery ran out of time)`;
  const { message, code, response } = (error ?? {}) as {
    message?: unknown;
    code?: unknown;
    response?: unknown;
  };
  const text = typeof message === 'string' && message ? oneLine(message) : String(error);
  const codeText = typeof code === 'string' && code && !text.includes(code) ? `${code}: ` : '';
  const reply =
    typeof response === 'string' && response && !text.includes(oneLine(response))
      ? ` (server said: ${oneLine(response)})`
      : '';
  return `${where}: ${codeText}${text}${reply}`;
}

function addressText(value: unknown): string {
  if (typeof value === 'string') return value;
  const { address } = (value ?? {}) as { address?: unknown };
  return typeof address === 'string' ? address : String(value);
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
