import { PluginSettings } from '@forest/plugin-api';
import addressparser from 'nodemailer/lib/addressparser';

/**
 * The `email` channel's settings. The SMTP server is named either by one URL
 * (FOREST_SMTP_URL) or by its parts (FOREST_SMTP_HOST and friends), never both; the
 * sender and recipients are required once a server is named. Nothing set at all leaves the
 * channel loaded but unconfigured (every send fails saying so); anything set partly, or a
 * setting that would be ignored, stops the boot with a message naming the variable.
 */

export const SMTP_URL = 'FOREST_SMTP_URL';
export const SMTP_HOST = 'FOREST_SMTP_HOST';
export const SMTP_PORT = 'FOREST_SMTP_PORT';
export const SMTP_SECURE = 'FOREST_SMTP_SECURE';
export const SMTP_USER = 'FOREST_SMTP_USER';
export const SMTP_PASSWORD = 'FOREST_SMTP_PASSWORD';
export const EMAIL_FROM = 'FOREST_EMAIL_FROM';
export const EMAIL_TO = 'FOREST_EMAIL_TO';
export const EMAIL_SUBJECT_PREFIX = 'FOREST_EMAIL_SUBJECT_PREFIX';

/** The server's parts, as an alternative to FOREST_SMTP_URL. */
const SERVER_PARTS = [SMTP_HOST, SMTP_PORT, SMTP_SECURE, SMTP_USER, SMTP_PASSWORD];
/** Every setting of the channel, in the order messages list them. */
export const EMAIL_SETTINGS = [
  SMTP_URL,
  ...SERVER_PARTS,
  EMAIL_FROM,
  EMAIL_TO,
  EMAIL_SUBJECT_PREFIX,
] as const;

export const DEFAULT_SUBJECT_PREFIX = '[Forest]';
const SUBJECT_PREFIX_CHARS = 100;
/** Submission (STARTTLS when offered) and implicit TLS, as nodemailer defaults them. */
const PLAIN_PORT = 587;
const TLS_PORT = 465;
/** A bare `local@domain`; names go in front (`Ops <ops@example.com>`). */
const ADDRESS = /^[^\s@<>(),;:"[\]\\]+@[^\s@<>(),;:"[\]\\]+$/;

export const NOT_CONFIGURED =
  `the email channel is not configured: set ${SMTP_URL} (or ${SMTP_HOST}), ` +
  `${EMAIL_FROM} and ${EMAIL_TO}`;

export interface SmtpServer {
  readonly host: string;
  readonly port: number;
  /** true: TLS from the first byte (smtps, port 465); false: STARTTLS when the server offers it. */
  readonly secure: boolean;
  readonly auth?: { readonly user: string; readonly pass: string };
}

export interface MailAddress {
  readonly name: string;
  readonly address: string;
}

export interface EmailSettings {
  readonly server: SmtpServer;
  readonly from: MailAddress;
  readonly to: readonly MailAddress[];
  readonly subjectPrefix: string;
}

/**
 * Reads and checks the channel's settings: undefined when none is set (the channel is
 * unconfigured); throws naming the variable when one is bad, missing, or would do nothing.
 */
export function readEmailSettings(settings: PluginSettings): EmailSettings | undefined {
  const set = EMAIL_SETTINGS.filter((name) => settings.get(name) !== undefined);
  if (set.length === 0) return undefined;

  const url = settings.get(SMTP_URL);
  const parts = SERVER_PARTS.filter((name) => settings.get(name) !== undefined);
  if (url !== undefined && parts.length > 0) {
    throw new Error(
      `${SMTP_URL} and ${parts.join(', ')} are both set: name the SMTP server one way, ` +
        `either the URL (smtp[s]://user:password@host:port) or ${SMTP_HOST} and its parts`,
    );
  }
  if (url === undefined && settings.get(SMTP_HOST) === undefined) {
    throw new Error(
      `${set.join(', ')} ${set.length === 1 ? 'is' : 'are'} set, but no SMTP server is: ` +
        `set ${SMTP_URL} (or ${SMTP_HOST}), or unset ${set.length === 1 ? 'it' : 'them'}`,
    );
  }
  const server = url !== undefined ? parseSmtpUrl(url) : readServerParts(settings);

  const named = url !== undefined ? SMTP_URL : SMTP_HOST;
  const from = parseAddresses(EMAIL_FROM, required(settings, EMAIL_FROM, named), 'one');
  const to = parseAddresses(EMAIL_TO, required(settings, EMAIL_TO, named), 'list');

  const subjectPrefix = settings.string(EMAIL_SUBJECT_PREFIX, DEFAULT_SUBJECT_PREFIX);
  if (/[\r\n\0]/.test(subjectPrefix)) {
    throw new Error(`${EMAIL_SUBJECT_PREFIX}: must be one line`);
  }
  if (subjectPrefix.length > SUBJECT_PREFIX_CHARS) {
    throw new Error(
      `${EMAIL_SUBJECT_PREFIX}: at most ${SUBJECT_PREFIX_CHARS} characters (got ${subjectPrefix.length})`,
    );
  }
  return { server, from: from[0], to, subjectPrefix };
}

function required(settings: PluginSettings, name: string, because: string): string {
  const value = settings.get(name);
  if (value === undefined) throw new Error(`${name} is required when ${because} is set`);
  return value;
}

/**
 * `smtp://[user:password@]host[:port]` (STARTTLS when offered, default port 587) or
 * `smtps://...` (TLS, default port 465). User and password are percent-decoded, so a `@`
 * or `:` in a password is written `%40`, `%3A`. The value is never echoed: it holds the
 * password, and boot errors end up in logs.
 */
export function parseSmtpUrl(raw: string): SmtpServer {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(
      `${SMTP_URL}: not a valid URL (its value is not shown: it may hold a password)`,
    );
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') {
    throw new Error(`${SMTP_URL}: must be an smtp:// or smtps:// URL (got ${url.protocol})`);
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!host) throw new Error(`${SMTP_URL}: has no host`);
  if ((url.pathname !== '' && url.pathname !== '/') || url.search !== '' || url.hash !== '') {
    throw new Error(
      `${SMTP_URL}: must be smtp[s]://user:password@host:port with nothing after the port ` +
        '(a path, ?query or #fragment would be ignored)',
    );
  }
  const secure = url.protocol === 'smtps:';
  const port = url.port === '' ? (secure ? TLS_PORT : PLAIN_PORT) : Number(url.port);
  if (port < 1) throw new Error(`${SMTP_URL}: the port must be 1..65535`);
  let user: string;
  let pass: string;
  try {
    user = decodeURIComponent(url.username);
    pass = decodeURIComponent(url.password);
  } catch {
    throw new Error(`${SMTP_URL}: the user or password is not valid percent-encoding`);
  }
  if ((user === '') !== (pass === '')) {
    throw new Error(
      `${SMTP_URL}: give both a user and a password (user:password@host), or neither`,
    );
  }
  return { host, port, secure, ...(user ? { auth: { user, pass } } : {}) };
}

function readServerParts(settings: PluginSettings): SmtpServer {
  const host = settings.get(SMTP_HOST)!;
  if (!/^[A-Za-z0-9._:-]+$/.test(host)) {
    throw new Error(
      `${SMTP_HOST}: must be a host name or IP address, without scheme, port or credentials ` +
        `(got "${host}"; use ${SMTP_URL} for a URL)`,
    );
  }
  const secureRaw = settings.get(SMTP_SECURE);
  if (secureRaw !== undefined && secureRaw !== 'true' && secureRaw !== 'false') {
    throw new Error(`${SMTP_SECURE}: must be true or false (got "${secureRaw}")`);
  }
  const explicitPort =
    settings.get(SMTP_PORT) === undefined ? undefined : settings.integer(SMTP_PORT, 0, 1, 65535);
  // Port 465 is TLS from the first byte everywhere; any other port starts in plain text.
  const secure = secureRaw !== undefined ? secureRaw === 'true' : explicitPort === TLS_PORT;
  const port = explicitPort ?? (secure ? TLS_PORT : PLAIN_PORT);
  const user = settings.get(SMTP_USER);
  const pass = settings.get(SMTP_PASSWORD);
  if ((user === undefined) !== (pass === undefined)) {
    throw new Error(
      `${user === undefined ? SMTP_PASSWORD : SMTP_USER} is set without ` +
        `${user === undefined ? SMTP_USER : SMTP_PASSWORD}: set both, or neither`,
    );
  }
  return { host, port, secure, ...(user && pass ? { auth: { user, pass } } : {}) };
}

/**
 * `address` or `Name <address>`: exactly one (`one`), or a comma-separated list of at
 * least one (`list`). Addresses are not secret, so a bad value is quoted.
 */
export function parseAddresses(name: string, raw: string, count: 'one' | 'list'): MailAddress[] {
  const parsed = addressparser(raw, { flatten: true });
  const valid = parsed.length > 0 && parsed.every((entry) => ADDRESS.test(entry.address));
  if (!valid || (count === 'one' && parsed.length !== 1)) {
    const what =
      count === 'one' ? 'one address such as' : 'a comma-separated list of addresses such as';
    throw new Error(
      `${name}: must be ${what} "ops@example.com" or "Ops <ops@example.com>" (got "${raw}")`,
    );
  }
  return parsed.map(({ name: display, address }) => ({ name: display, address }));
}
