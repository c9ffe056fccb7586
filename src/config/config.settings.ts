import { accessSync, constants, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { hostname } from 'node:os';
import { isValidKeySegment } from '@forest/store';

/**
 * Every setting Forest reads, in one table: the environment variable, what it means, its
 * default, and the parser that validates it. `--help` prints this table and `loadConfig`
 * applies it, so the documentation and the behaviour cannot disagree.
 */
export interface SettingSpec<T> {
  env: string;
  description: string;
  /** The default as shown in --help and the README ('' when unset means "none"). */
  defaultText: string;
  /** Turns the raw text (undefined when unset) into a value, or throws SettingError. */
  parse(raw: string | undefined, env: Readonly<Record<string, string | undefined>>): T;
}

/** A setting's value is not allowed; the message says what is. */
export class SettingError extends Error {}

/** TLS to the history database (FOREST_HISTORY_TLS), named as libpq's sslmode values. */
export const HISTORY_TLS_MODES = ['off', 'require', 'verify-full'] as const;
export type HistoryTlsMode = (typeof HISTORY_TLS_MODES)[number];

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

function optional(raw: string | undefined): string | undefined {
  const trimmed = raw?.trim();
  return trimmed ? trimmed : undefined;
}

function integer(min: number, max: number, fallback: number) {
  return (raw: string | undefined): number => {
    const text = optional(raw);
    if (text === undefined) return fallback;
    if (!/^-?\d+$/.test(text)) throw new SettingError(`"${text}" is not a whole number`);
    const value = Number(text);
    if (value < min || value > max) {
      throw new SettingError(`${value} is out of range: allowed ${min}..${max}`);
    }
    return value;
  };
}

function readableFile(raw: string | undefined): string | undefined {
  const path = optional(raw);
  if (path === undefined) return undefined;
  try {
    accessSync(path, constants.R_OK);
  } catch {
    throw new SettingError(`file "${path}" does not exist or is not readable`);
  }
  return path;
}

/** A comma-separated list, blanks dropped. */
function list(raw: string | undefined): string[] {
  return (raw ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

const NPM_PACKAGE = /^(@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*$/;

const ENDPOINT = /^(https?:\/\/)?(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/;

export const SETTINGS = {
  httpHost: {
    env: 'FOREST_HTTP_HOST',
    description:
      'Address the HTTP API listens on. Without FOREST_AUTH=on only a loopback address is ' +
      'allowed (unless FOREST_INSECURE=allow-remote-without-auth)',
    defaultText: '127.0.0.1',
    parse: (raw) => optional(raw) ?? '127.0.0.1',
  } satisfies SettingSpec<string>,
  auth: {
    env: 'FOREST_AUTH',
    description:
      'on: every route but /health needs a bearer token (admin, operator, viewer or worker); ' +
      'off: no tokens, and the node listens on loopback only',
    defaultText: 'off',
    parse: (raw): 'on' | 'off' => {
      const value = optional(raw) ?? 'off';
      if (value !== 'on' && value !== 'off') {
        throw new SettingError(`"${value}" is not allowed: use on or off`);
      }
      return value;
    },
  } satisfies SettingSpec<'on' | 'off'>,
  adminToken: {
    env: 'FOREST_ADMIN_TOKEN',
    description:
      'With FOREST_AUTH=on: the first admin token, used as given (at least 32 characters). ' +
      'Unset: one is generated on first start and written to <FOREST_DATA_DIR>/admin-token',
    defaultText: '',
    parse: (raw) => {
      const value = optional(raw);
      if (value !== undefined && (value.length < 32 || value.length > 256 || /\s/.test(value))) {
        throw new SettingError('must be 32-256 characters without spaces');
      }
      return value;
    },
  } satisfies SettingSpec<string | undefined>,
  insecure: {
    env: 'FOREST_INSECURE',
    description:
      'allow-remote-without-auth: listen on a non-loopback address with FOREST_AUTH=off ' +
      '(anyone who reaches the port controls the scheduler)',
    defaultText: '',
    parse: (raw): 'allow-remote-without-auth' | undefined => {
      const value = optional(raw);
      if (value !== undefined && value !== 'allow-remote-without-auth') {
        throw new SettingError(
          `"${value}" is not allowed: the only value is allow-remote-without-auth`,
        );
      }
      return value;
    },
  } satisfies SettingSpec<'allow-remote-without-auth' | undefined>,
  authFailuresPerMinute: {
    env: 'FOREST_AUTH_FAILURES_PER_MIN',
    description: 'Failed authentications one client address may make per minute before 429',
    defaultText: '30',
    parse: integer(1, 100_000, 30),
  } satisfies SettingSpec<number>,
  httpHeadersTimeoutMs: {
    env: 'FOREST_HTTP_HEADERS_TIMEOUT_MS',
    description: 'A request whose headers do not all arrive within this is closed',
    defaultText: '10000',
    parse: integer(1000, 600_000, 10_000),
  } satisfies SettingSpec<number>,
  httpRequestTimeoutMs: {
    env: 'FOREST_HTTP_REQUEST_TIMEOUT_MS',
    description:
      'A request (headers and body) not fully received within this is closed (answers may take longer: long polls)',
    defaultText: '30000',
    parse: integer(1000, 600_000, 30_000),
  } satisfies SettingSpec<number>,
  httpIdleTimeoutMs: {
    env: 'FOREST_HTTP_IDLE_TIMEOUT_MS',
    description: 'An idle keep-alive connection is closed after this',
    defaultText: '5000',
    parse: integer(100, 600_000, 5000),
  } satisfies SettingSpec<number>,
  jsonMaxDepth: {
    env: 'FOREST_JSON_MAX_DEPTH',
    description: 'Deepest nesting of objects and arrays a JSON body may have (deeper: 400)',
    defaultText: '64',
    parse: integer(4, 1000, 64),
  } satisfies SettingSpec<number>,
  jsonMaxKeys: {
    env: 'FOREST_JSON_MAX_KEYS',
    description: 'Most object keys and array items a JSON body may have in all (more: 400)',
    defaultText: '20000',
    parse: integer(100, 10_000_000, 20_000),
  } satisfies SettingSpec<number>,
  allowedHosts: {
    env: 'FOREST_ALLOWED_HOSTS',
    description:
      'Comma-separated host names the node answers to (the Host header; also what Origin may ' +
      'name on state-changing requests); the defaults are always allowed',
    defaultText: 'localhost, 127.0.0.1, [::1], this host name, FOREST_ADVERTISE_URL host',
    parse: (raw) => list(raw).map((host) => host.toLowerCase()),
  } satisfies SettingSpec<string[]>,
  corsOrigins: {
    env: 'FOREST_CORS_ORIGINS',
    description:
      'Comma-separated origins (https://console.example) allowed cross-origin; unset: CORS off',
    defaultText: '',
    parse: (raw) => {
      const origins = list(raw);
      for (const origin of origins) {
        if (!/^https?:\/\/[^/\s]+$/.test(origin)) {
          throw new SettingError(`"${origin}" is not an origin (scheme://host[:port])`);
        }
      }
      return origins;
    },
  } satisfies SettingSpec<string[]>,
  auditKeep: {
    env: 'FOREST_AUDIT_KEEP',
    description: 'Audit log entries kept (oldest deleted first)',
    defaultText: '10000',
    parse: integer(100, 1_000_000, 10_000),
  } satisfies SettingSpec<number>,
  auditMaxAgeH: {
    env: 'FOREST_AUDIT_MAX_AGE_H',
    description: 'Audit log entries older than this many hours are deleted',
    defaultText: '720',
    parse: integer(1, 87_600, 720),
  } satisfies SettingSpec<number>,
  eventsMaxStreams: {
    env: 'FOREST_EVENTS_MAX_STREAMS',
    description: 'Most GET /api/events streams one node serves at once; more are refused with 429',
    defaultText: '100',
    parse: integer(1, 10_000, 100),
  } satisfies SettingSpec<number>,
  httpPort: {
    env: 'FOREST_HTTP_PORT',
    description: 'Port of the HTTP API (REST, worker protocol, Swagger UI at /docs)',
    defaultText: '2856',
    parse: integer(0, 65535, 2856),
  } satisfies SettingSpec<number>,
  httpBodyLimit: {
    env: 'FOREST_HTTP_BODY_LIMIT',
    description: 'Largest accepted request body in bytes (larger bodies get 413)',
    defaultText: '1048576',
    parse: integer(1024, 64 * 1024 * 1024, 1024 * 1024),
  } satisfies SettingSpec<number>,
  nodeId: {
    env: 'FOREST_NODE_ID',
    description: 'Unique id of this scheduler node, [A-Za-z0-9._-]{1,64}',
    defaultText: '<hostname>-<port>',
    parse: (raw, env) => {
      const explicit = optional(raw);
      if (explicit !== undefined) {
        if (!isValidKeySegment(explicit)) {
          throw new SettingError(
            `"${explicit}" is not allowed: use 1-64 characters of A-Z a-z 0-9 . _ -`,
          );
        }
        return explicit;
      }
      const port = optional(env.FOREST_HTTP_PORT) ?? '2856';
      const derived = `${hostname().replace(/[^A-Za-z0-9._-]/g, '-')}-${port}`.slice(-64);
      return isValidKeySegment(derived) ? derived : `node-${port}`;
    },
  } satisfies SettingSpec<string>,
  advertiseUrl: {
    env: 'FOREST_ADVERTISE_URL',
    description: 'URL other nodes and workers use to reach this node',
    defaultText: 'http://<hostname>:<port>',
    parse: (raw, env) => {
      const explicit = optional(raw);
      if (explicit === undefined) {
        return `http://${hostname()}:${optional(env.FOREST_HTTP_PORT) ?? '2856'}`;
      }
      let url: URL;
      try {
        url = new URL(explicit);
      } catch {
        throw new SettingError(`"${explicit}" is not a URL (expected e.g. http://10.0.0.5:2856)`);
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') {
        throw new SettingError(`"${explicit}" must start with http:// or https://`);
      }
      return explicit.replace(/\/+$/, '');
    },
  } satisfies SettingSpec<string>,
  keyPrefix: {
    env: 'FOREST_KEY_PREFIX',
    description: 'Prefix of every key Forest writes in etcd',
    defaultText: '/forest',
    parse: (raw) => {
      const prefix = optional(raw) ?? '/forest';
      if (!/^\/[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(prefix) || prefix.length > 128) {
        throw new SettingError(
          `"${prefix}" is not allowed: start with "/", no trailing "/", segments of A-Z a-z 0-9 . _ - (e.g. /forest or /prod/forest)`,
        );
      }
      return prefix;
    },
  } satisfies SettingSpec<string>,
  etcdEndpoints: {
    env: 'FOREST_ETCD_ENDPOINTS',
    description:
      'Comma-separated etcd endpoints (host:port or http[s]://host:port); unset: embedded store',
    defaultText: '',
    parse: (raw) => {
      const text = optional(raw);
      if (text === undefined) return [];
      const endpoints = text.split(',').map((part) => part.trim());
      const bad = endpoints.filter((endpoint) => !ENDPOINT.test(endpoint));
      if (bad.length > 0) {
        throw new SettingError(
          `${bad.map((e) => `"${e}"`).join(', ')} not an endpoint: use host:port or http(s)://host:port, comma-separated`,
        );
      }
      return endpoints;
    },
  } satisfies SettingSpec<string[]>,
  etcdDialTimeoutMs: {
    env: 'FOREST_ETCD_DIAL_TIMEOUT_MS',
    description: 'Deadline in ms for connecting to etcd and for each etcd request',
    defaultText: '5000',
    parse: integer(100, 120_000, 5000),
  } satisfies SettingSpec<number>,
  etcdCaFile: {
    env: 'FOREST_ETCD_CA_FILE',
    description: 'CA certificate (PEM) to verify etcd over TLS',
    defaultText: '',
    parse: readableFile,
  } satisfies SettingSpec<string | undefined>,
  etcdCertFile: {
    env: 'FOREST_ETCD_CERT_FILE',
    description: 'Client certificate (PEM) for etcd mutual TLS; needs FOREST_ETCD_KEY_FILE',
    defaultText: '',
    parse: readableFile,
  } satisfies SettingSpec<string | undefined>,
  etcdKeyFile: {
    env: 'FOREST_ETCD_KEY_FILE',
    description: 'Client private key (PEM) for etcd mutual TLS; needs FOREST_ETCD_CERT_FILE',
    defaultText: '',
    parse: readableFile,
  } satisfies SettingSpec<string | undefined>,
  etcdUsername: {
    env: 'FOREST_ETCD_USERNAME',
    description: 'etcd user (etcd auth); needs FOREST_ETCD_PASSWORD',
    defaultText: '',
    parse: optional,
  } satisfies SettingSpec<string | undefined>,
  etcdPassword: {
    env: 'FOREST_ETCD_PASSWORD',
    description: 'Password of FOREST_ETCD_USERNAME',
    defaultText: '',
    parse: (raw) => (raw ? raw : undefined),
  } satisfies SettingSpec<string | undefined>,
  etcdCompactionIntervalS: {
    env: 'FOREST_ETCD_COMPACTION_INTERVAL_S',
    description: 'Compact etcd history older than this many seconds (0: leave it to etcd)',
    defaultText: '300',
    parse: integer(0, 7 * 24 * 3600, 300),
  } satisfies SettingSpec<number>,
  etcdCompactionRevisions: {
    env: 'FOREST_ETCD_COMPACTION_REVISIONS',
    description:
      'Keep at most this many revisions of etcd history: checked every few seconds, so a high ' +
      'write rate cannot grow the database between time-based compactions (0: time only)',
    defaultText: '10000',
    parse: integer(0, 100_000_000, 10_000),
  } satisfies SettingSpec<number>,
  etcdCompactionMaxMb: {
    env: 'FOREST_ETCD_COMPACTION_MAX_MB',
    description:
      "While etcd's database in use is over this many MiB, compact its history to the last " +
      "check's revision (every 5 s), whatever the time and revision bounds keep: a safety net " +
      "below etcd's quota, past which etcd refuses every write (0: no size bound)",
    defaultText: '1024',
    parse: integer(0, 1024 * 1024, 1024),
  } satisfies SettingSpec<number>,
  dataDir: {
    env: 'FOREST_DATA_DIR',
    description: 'Directory of the embedded store (used when no etcd endpoints are set)',
    defaultText: './data',
    parse: (raw) => optional(raw) ?? './data',
  } satisfies SettingSpec<string>,
  leaseTtlS: {
    env: 'FOREST_LEASE_TTL_S',
    description: 'TTL in seconds of the node lease: how fast a dead node is noticed',
    defaultText: '5',
    parse: integer(1, 300, 5),
  } satisfies SettingSpec<number>,
  misfireThresholdMs: {
    env: 'FOREST_MISFIRE_THRESHOLD_MS',
    description:
      "A fire later than this (ms) is a misfire and follows the job's misfire policy; " +
      'less late, it is a regular fire',
    defaultText: '1000',
    parse: integer(0, 3_600_000, 1000),
  } satisfies SettingSpec<number>,
  fireLookaheadMs: {
    env: 'FOREST_FIRE_LOOKAHEAD_MS',
    description:
      'The leader writes each fire this many ms before its scheduled time, so bursts are in ' +
      "the workers' inboxes on time; workers start handlers at the scheduled time (0: off)",
    defaultText: '1000',
    parse: integer(0, 10_000, 1000),
  } satisfies SettingSpec<number>,
  misfireMaxFires: {
    env: 'FOREST_MISFIRE_MAX_FIRES',
    description: 'Most catch-up executions one job gets per misfire under fire_all (the latest)',
    defaultText: '1000',
    parse: integer(1, 100_000, 1000),
  } satisfies SettingSpec<number>,
  workerTtlS: {
    env: 'FOREST_WORKER_TTL_S',
    description:
      'TTL in seconds of a worker lease: a worker silent this long is dead and its work moves',
    defaultText: '10',
    parse: integer(2, 300, 10),
  } satisfies SettingSpec<number>,
  timeoutGraceMs: {
    env: 'FOREST_TIMEOUT_GRACE_MS',
    description:
      'A running execution with a timeoutMs is marked timed_out by the leader when no final ' +
      'report arrived within timeoutMs plus this grace (the worker aborts it at timeoutMs)',
    defaultText: '2000',
    parse: integer(0, 3_600_000, 2000),
  } satisfies SettingSpec<number>,
  executionKeepPerJob: {
    env: 'FOREST_EXECUTION_KEEP_PER_JOB',
    description: 'Finished executions kept per job (older ones are deleted by the leader)',
    defaultText: '1000',
    parse: integer(1, 1_000_000, 1000),
  } satisfies SettingSpec<number>,
  executionMaxAgeH: {
    env: 'FOREST_EXECUTION_MAX_AGE_H',
    description: 'Finished executions older than this many hours are deleted by the leader',
    defaultText: '168',
    parse: integer(1, 87_600, 168),
  } satisfies SettingSpec<number>,
  historySweepS: {
    env: 'FOREST_HISTORY_SWEEP_S',
    description:
      'How often the leader moves finished executions left in the store (a writer crashed ' +
      'before moving them, or the history database was down) into the history, in seconds',
    defaultText: '10',
    parse: integer(1, 3600, 10),
  } satisfies SettingSpec<number>,
  historyUrl: {
    env: 'FOREST_HISTORY_URL',
    description:
      'PostgreSQL URL (postgres://user:password@host:5432/db) where finished executions and ' +
      'execution logs are kept; unset: history in the coordination store (logs only on the ' +
      'embedded store, in memory)',
    defaultText: '',
    parse: (raw) => {
      const text = optional(raw);
      if (text === undefined) return undefined;
      let url: URL;
      try {
        url = new URL(text);
      } catch {
        throw new SettingError('is not a URL (expected postgres://user:password@host:5432/db)');
      }
      if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
        throw new SettingError(
          `must start with postgres:// or postgresql://, not ${url.protocol}//`,
        );
      }
      // pg lets URL parameters override the TLS options: one place sets TLS.
      const tlsParams = ['ssl', 'sslmode', 'sslcert', 'sslkey', 'sslrootcert'].filter((name) =>
        url.searchParams.has(name),
      );
      if (tlsParams.length > 0) {
        throw new SettingError(
          `set TLS with FOREST_HISTORY_TLS and FOREST_HISTORY_TLS_CA, not ${tlsParams.join(', ')} in the URL`,
        );
      }
      return text;
    },
  } satisfies SettingSpec<string | undefined>,
  historyTls: {
    env: 'FOREST_HISTORY_TLS',
    description:
      'TLS to the history database: off; require (encrypted, server not verified); ' +
      'verify-full (encrypted, certificate and host name verified against the system roots ' +
      'or FOREST_HISTORY_TLS_CA)',
    defaultText: 'off',
    parse: (raw): HistoryTlsMode => {
      const value = optional(raw) ?? 'off';
      if (!(HISTORY_TLS_MODES as readonly string[]).includes(value)) {
        throw new SettingError(`"${value}" is not allowed: use ${HISTORY_TLS_MODES.join(', ')}`);
      }
      return value as HistoryTlsMode;
    },
  } satisfies SettingSpec<HistoryTlsMode>,
  historyTlsCa: {
    env: 'FOREST_HISTORY_TLS_CA',
    description: 'CA certificate (PEM) that signed the history database server certificate',
    defaultText: '',
    parse: readableFile,
  } satisfies SettingSpec<string | undefined>,
  historyPoolSize: {
    env: 'FOREST_HISTORY_POOL_SIZE',
    description: 'Connections to the history database this node keeps at most',
    defaultText: '10',
    parse: integer(1, 1000, 10),
  } satisfies SettingSpec<number>,
  historyStoreMaxMb: {
    env: 'FOREST_HISTORY_STORE_MAX_MB',
    description:
      'Without FOREST_HISTORY_URL: most MiB of finished executions kept in the coordination ' +
      'store (the oldest are deleted first), so history cannot fill etcd',
    defaultText: '256',
    parse: integer(1, 1_000_000, 256),
  } satisfies SettingSpec<number>,
  logMaxBytesPerExecution: {
    env: 'FOREST_LOG_MAX_BYTES_PER_EXECUTION',
    description: 'Bytes of log lines kept per execution; later lines are dropped (and counted)',
    defaultText: '1048576',
    parse: integer(1024, 1024 * 1024 * 1024, 1024 * 1024),
  } satisfies SettingSpec<number>,
  logFollowMaxStreams: {
    env: 'FOREST_LOG_FOLLOW_MAX_STREAMS',
    description:
      'Most GET /api/executions/{id}/logs/follow streams one node serves at once; more are ' +
      'refused with 429',
    defaultText: '100',
    parse: integer(1, 10_000, 100),
  } satisfies SettingSpec<number>,
  logMaxLinesPerExecution: {
    env: 'FOREST_LOG_MAX_LINES_PER_EXECUTION',
    description: 'Log lines kept per execution; later lines are dropped (and counted)',
    defaultText: '10000',
    parse: integer(1, 10_000_000, 10_000),
  } satisfies SettingSpec<number>,
  retentionIntervalS: {
    env: 'FOREST_RETENTION_INTERVAL_S',
    description: 'How often the leader enforces execution retention, in seconds',
    defaultText: '60',
    parse: integer(1, 86_400, 60),
  } satisfies SettingSpec<number>,
  pluginPaths: {
    env: 'FOREST_PLUGIN_PATHS',
    description:
      'Comma-separated directories whose sub-folders are plugins (loaded after the built-in plugins/)',
    defaultText: '',
    parse: (raw): readonly string[] => {
      const dirs = list(raw);
      for (const dir of dirs) {
        let isDir = false;
        try {
          isDir = statSync(dir).isDirectory();
        } catch {
          // reported below
        }
        if (!isDir) throw new SettingError(`"${dir}" is not a readable directory`);
      }
      return Object.freeze(dirs.map((dir) => resolve(dir)));
    },
  } satisfies SettingSpec<readonly string[]>,
  plugins: {
    env: 'FOREST_PLUGINS',
    description:
      'Comma-separated npm packages that are plugins (resolved from the working directory)',
    defaultText: '',
    parse: (raw): readonly string[] => {
      const names = list(raw);
      for (const name of names) {
        if (!NPM_PACKAGE.test(name)) throw new SettingError(`"${name}" is not an npm package name`);
      }
      return Object.freeze(names);
    },
  } satisfies SettingSpec<readonly string[]>,
  pluginOnError: {
    env: 'FOREST_PLUGIN_ON_ERROR',
    description:
      'What a plugin that cannot load does to the boot: fail (stop, naming it) or skip (log a warning)',
    defaultText: 'fail',
    parse: (raw): 'fail' | 'skip' => {
      const value = optional(raw) ?? 'fail';
      if (value !== 'fail' && value !== 'skip') {
        throw new SettingError(`"${value}" is not allowed: use fail or skip`);
      }
      return value;
    },
  } satisfies SettingSpec<'fail' | 'skip'>,
  pluginTimeoutMs: {
    env: 'FOREST_PLUGIN_TIMEOUT_MS',
    description:
      'Longest a dispatch strategy may take to decide or to validate options; later counts as failed',
    defaultText: '1000',
    parse: integer(10, 60_000, 1000),
  } satisfies SettingSpec<number>,
  alertDefaultChannels: {
    env: 'FOREST_ALERT_DEFAULT_CHANNELS',
    description:
      'Comma-separated alert channels that receive every alert (job alerts and cluster alerts)',
    defaultText: 'log',
    parse: (raw): readonly string[] => Object.freeze(raw === undefined ? ['log'] : list(raw)),
  } satisfies SettingSpec<readonly string[]>,
  alertTimeoutMs: {
    env: 'FOREST_ALERT_TIMEOUT_MS',
    description:
      'Longest one alert delivery (retries included) may take before it counts as failed',
    defaultText: '30000',
    parse: integer(100, 600_000, 30_000),
  } satisfies SettingSpec<number>,
  alertRepeatWindowS: {
    env: 'FOREST_ALERT_REPEAT_WINDOW_S',
    description:
      'Repeats of one alert (same job and event) within this window are held back and sent as one summary',
    defaultText: '300',
    parse: integer(0, 86_400, 300),
  } satisfies SettingSpec<number>,
  alertNoWorkerMs: {
    env: 'FOREST_ALERT_NO_WORKER_MS',
    description: 'An execution waiting this long for a worker raises a no_worker alert',
    defaultText: '60000',
    parse: integer(1000, 86_400_000, 60_000),
  } satisfies SettingSpec<number>,
  metricsPublic: {
    env: 'FOREST_METRICS_PUBLIC',
    description:
      'true: /metrics (Prometheus) answers without a token even with FOREST_AUTH=on; ' +
      'false: it needs a read token like the API',
    defaultText: 'false',
    parse: (raw): boolean => {
      const value = optional(raw) ?? 'false';
      if (value !== 'true' && value !== 'false') {
        throw new SettingError(`"${value}" is not allowed: use true or false`);
      }
      return value === 'true';
    },
  } satisfies SettingSpec<boolean>,
  logFormat: {
    env: 'FOREST_LOG_FORMAT',
    description:
      'json: one JSON object per line (pino); pretty: human-readable lines for a terminal',
    defaultText: 'json',
    parse: (raw): 'json' | 'pretty' => {
      const value = optional(raw) ?? 'json';
      if (value !== 'json' && value !== 'pretty') {
        throw new SettingError(`"${value}" is not allowed: use json or pretty`);
      }
      return value;
    },
  } satisfies SettingSpec<'json' | 'pretty'>,
  logLevel: {
    env: 'FOREST_LOG_LEVEL',
    description: `Log level: ${LOG_LEVELS.join(', ')}`,
    defaultText: 'info',
    parse: (raw): LogLevel => {
      const level = optional(raw) ?? 'info';
      if (!(LOG_LEVELS as readonly string[]).includes(level)) {
        throw new SettingError(`"${level}" is not a level: use one of ${LOG_LEVELS.join(', ')}`);
      }
      return level as LogLevel;
    },
  } satisfies SettingSpec<LogLevel>,
} as const;
