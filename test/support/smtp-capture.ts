import { createServer, Server, Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { SMTPServer, SMTPServerAuthentication } from 'smtp-server';

/** One mail as the capture server received it, decoded enough for assertions. */
export interface CapturedMail {
  /** The SMTP envelope: MAIL FROM and RCPT TO. */
  envelopeFrom: string;
  envelopeTo: string[];
  /** The user the client logged in as, if it did. */
  user?: string;
  /** Header names lower-cased, folded lines joined, RFC 2047 words decoded. */
  headers: Record<string, string>;
  text: string;
  html: string;
  raw: string;
}

export interface SmtpCaptureOptions {
  /** Require AUTH PLAIN/LOGIN with exactly these credentials (in clear: loopback only). */
  credentials?: { user: string; pass: string };
  /** RCPT TO these addresses is refused with 550. */
  rejectRecipients?: string[];
}

/**
 * A throwaway SMTP server on 127.0.0.1 (smtp-server) that keeps every mail it accepts.
 * No TLS (STARTTLS disabled), so a client with credentials logs in in clear text.
 */
export class SmtpCapture {
  readonly mails: CapturedMail[] = [];
  readonly logins: { user: string; ok: boolean }[] = [];
  private readonly server: SMTPServer;
  port = 0;

  constructor(options: SmtpCaptureOptions = {}) {
    const { credentials, rejectRecipients = [] } = options;
    this.server = new SMTPServer({
      logger: false,
      disabledCommands: credentials ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
      allowInsecureAuth: true,
      authOptional: !credentials,
      closeTimeout: 100,
      onAuth: (auth: SMTPServerAuthentication, _session, callback) => {
        const ok =
          credentials !== undefined &&
          auth.username === credentials.user &&
          auth.password === credentials.pass;
        this.logins.push({ user: auth.username ?? '', ok });
        if (!ok) return callback(new Error('Invalid username or password'));
        callback(null, { user: auth.username });
      },
      onRcptTo: (address, _session, callback) => {
        if (rejectRecipients.includes(address.address)) {
          return callback(Object.assign(new Error('No such user here'), { responseCode: 550 }));
        }
        callback();
      },
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          const mailFrom = session.envelope.mailFrom;
          this.mails.push({
            envelopeFrom: mailFrom ? mailFrom.address : '',
            envelopeTo: session.envelope.rcptTo.map((r) => r.address),
            user: typeof session.user === 'string' ? session.user : undefined,
            ...parseMail(raw),
            raw,
          });
          callback(null, 'queued as test');
        });
      },
    });
  }

  async start(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.server.address() as AddressInfo).port;
    return this.port;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * A TCP server that accepts connections and never says a word (no SMTP greeting): a mail
 * to it hangs until the client gives up. Records when each connection closes.
 */
export class SilentServer {
  readonly sockets: Socket[] = [];
  readonly closed: Socket[] = [];
  private readonly server: Server = createServer((socket) => {
    this.sockets.push(socket);
    socket.on('close', () => this.closed.push(socket));
    socket.on('error', () => undefined);
  });
  port = 0;

  async start(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this.port;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A loopback port nothing listens on (it was free a moment ago). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Just enough MIME for nodemailer's output: top-level headers, and the text/plain and
 * text/html parts of a single-level multipart/alternative (or a single-part body), with
 * 7bit, quoted-printable or base64 transfer encoding.
 */
export function parseMail(raw: string): {
  headers: Record<string, string>;
  text: string;
  html: string;
} {
  const { headers, body } = splitHeaders(raw);
  const result = { headers, text: '', html: '' };
  const type = headers['content-type'] ?? 'text/plain';
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
  const parts = boundary
    ? body
        .split(`--${boundary}`)
        .slice(1)
        .filter((part) => !part.startsWith('--'))
        .map((part) => splitHeaders(part.replace(/^\r?\n/, '')))
    : [{ headers, body }];
  for (const part of parts) {
    const partType = (part.headers['content-type'] ?? 'text/plain').toLowerCase();
    const decoded = decodeBody(part.body, part.headers['content-transfer-encoding']);
    if (partType.startsWith('text/plain')) result.text = decoded;
    if (partType.startsWith('text/html')) result.html = decoded;
  }
  return result;
}

function splitHeaders(raw: string): { headers: Record<string, string>; body: string } {
  const end = raw.search(/\r?\n\r?\n/);
  const head = end < 0 ? raw : raw.slice(0, end);
  const body = end < 0 ? '' : raw.slice(end).replace(/^\r?\n\r?\n/, '');
  const headers: Record<string, string> = {};
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) {
      headers[line.slice(0, colon).trim().toLowerCase()] = decodeWords(
        line.slice(colon + 1).trim(),
      );
    }
  }
  return { headers, body };
}

function decodeBody(body: string, encoding = '7bit'): string {
  const trimmed = body.replace(/\r?\n$/, '');
  switch (encoding.toLowerCase()) {
    case 'base64':
      return Buffer.from(trimmed.replace(/\s+/g, ''), 'base64').toString('utf8');
    case 'quoted-printable':
      return decodeQuotedPrintable(trimmed).replace(/\r\n/g, '\n');
    default:
      return trimmed.replace(/\r\n/g, '\n');
  }
}

function decodeQuotedPrintable(text: string): string {
  const soft = text.replace(/=\r?\n/g, '');
  const bytes: number[] = [];
  for (let i = 0; i < soft.length; i++) {
    const hex = soft.slice(i + 1, i + 3);
    if (soft[i] === '=' && /^[0-9A-F]{2}$/i.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(soft.charCodeAt(i) & 0xff);
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** RFC 2047 encoded words (`=?UTF-8?Q?...?=`, `=?UTF-8?B?...?=`), as nodemailer writes them. */
function decodeWords(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?([^?]+)\?([QB])\?([^?]*)\?=/gi, (_, _charset, kind: string, data: string) =>
      kind.toUpperCase() === 'B'
        ? Buffer.from(data, 'base64').toString('utf8')
        : decodeQuotedPrintable(data.replace(/_/g, ' ')),
    );
}
