import { SETTINGS, SettingError, SettingSpec } from './config.settings';

type Settings = typeof SETTINGS;
type SettingValues = { [K in keyof Settings]: ReturnType<Settings[K]['parse']> };

/**
 * The typed, validated, frozen configuration of one node. It is also the Nest injection
 * token: `constructor(private readonly config: ForestConfig)`.
 */
export abstract class ForestConfig {
  abstract readonly httpHost: string;
  abstract readonly httpPort: number;
  abstract readonly httpBodyLimit: number;
  abstract readonly nodeId: string;
  abstract readonly advertiseUrl: string;
  abstract readonly keyPrefix: string;
  abstract readonly etcdEndpoints: readonly string[];
  abstract readonly etcdDialTimeoutMs: number;
  abstract readonly etcdCaFile?: string;
  abstract readonly etcdCertFile?: string;
  abstract readonly etcdKeyFile?: string;
  abstract readonly etcdUsername?: string;
  abstract readonly etcdPassword?: string;
  abstract readonly etcdCompactionIntervalS: number;
  abstract readonly etcdCompactionRevisions: number;
  abstract readonly etcdCompactionMaxMb: number;
  abstract readonly dataDir: string;
  abstract readonly leaseTtlS: number;
  abstract readonly misfireThresholdMs: number;
  abstract readonly misfireMaxFires: number;
  abstract readonly fireLookaheadMs: number;
  abstract readonly workerTtlS: number;
  abstract readonly auth: 'on' | 'off';
  abstract readonly adminToken: string | undefined;
  abstract readonly insecure: 'allow-remote-without-auth' | undefined;
  abstract readonly authFailuresPerMinute: number;
  abstract readonly httpHeadersTimeoutMs: number;
  abstract readonly httpRequestTimeoutMs: number;
  abstract readonly httpIdleTimeoutMs: number;
  abstract readonly jsonMaxDepth: number;
  abstract readonly jsonMaxKeys: number;
  abstract readonly allowedHosts: readonly string[];
  abstract readonly corsOrigins: readonly string[];
  abstract readonly auditKeep: number;
  abstract readonly auditMaxAgeH: number;
  abstract readonly eventsMaxStreams: number;
  abstract readonly metricsPublic: boolean;
  abstract readonly logFormat: 'json' | 'pretty';
  abstract readonly timeoutGraceMs: number;
  abstract readonly executionKeepPerJob: number;
  abstract readonly executionMaxAgeH: number;
  abstract readonly historySweepS: number;
  abstract readonly historyUrl?: string;
  abstract readonly historyTls: SettingValues['historyTls'];
  abstract readonly historyTlsCa?: string;
  abstract readonly historyPoolSize: number;
  abstract readonly historyStoreMaxMb: number;
  abstract readonly logMaxBytesPerExecution: number;
  abstract readonly logMaxLinesPerExecution: number;
  abstract readonly logFollowMaxStreams: number;
  abstract readonly retentionIntervalS: number;
  abstract readonly pluginPaths: readonly string[];
  abstract readonly plugins: readonly string[];
  abstract readonly pluginOnError: 'fail' | 'skip';
  abstract readonly pluginTimeoutMs: number;
  abstract readonly alertDefaultChannels: readonly string[];
  abstract readonly alertTimeoutMs: number;
  abstract readonly alertRepeatWindowS: number;
  abstract readonly alertNoWorkerMs: number;
  abstract readonly logLevel: SettingValues['logLevel'];
  /**
   * Every FOREST_* variable as it was at start-up, for plugins' own settings
   * (PluginSettings): plugins read their variables without reaching for process.env.
   */
  abstract readonly env: Readonly<Record<string, string>>;
}

/** Every problem found in the environment, each naming its variable and what is allowed. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(
      `invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}\n` +
        'Run with --help to see every setting.',
    );
  }
}

export function loadConfig(env: Readonly<Record<string, string | undefined>>): ForestConfig {
  const problems: string[] = [];
  const values: Partial<Record<string, unknown>> = {};
  for (const [name, spec] of Object.entries(SETTINGS) as [string, SettingSpec<unknown>][]) {
    try {
      values[name] = spec.parse(env[spec.env], env);
    } catch (error) {
      if (!(error instanceof SettingError)) throw error;
      problems.push(`${spec.env}: ${error.message}`);
    }
  }
  const config = values as SettingValues;
  problems.push(...crossFieldProblems(config, env));
  if (problems.length > 0) throw new ConfigError(problems);
  const forestEnv: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (name.startsWith('FOREST_') && value !== undefined) forestEnv[name] = value;
  }
  return Object.freeze({ ...config, env: Object.freeze(forestEnv) });
}

/** Settings that only make sense together. */
function crossFieldProblems(
  config: SettingValues,
  env: Readonly<Record<string, string | undefined>>,
): string[] {
  const problems: string[] = [];
  if (Boolean(config.etcdCertFile) !== Boolean(config.etcdKeyFile)) {
    problems.push(
      'FOREST_ETCD_CERT_FILE and FOREST_ETCD_KEY_FILE: set both for mutual TLS, or neither',
    );
  }
  if (
    config.auth === 'off' &&
    !isLoopback(config.httpHost) &&
    config.insecure !== 'allow-remote-without-auth'
  ) {
    problems.push(
      `FOREST_HTTP_HOST: ${config.httpHost} is reachable beyond this machine and FOREST_AUTH is off: ` +
        'set FOREST_AUTH=on (see the README, "Production"), listen on 127.0.0.1, or accept the ' +
        'risk with FOREST_INSECURE=allow-remote-without-auth',
    );
  }
  if (config.adminToken !== undefined && config.auth === 'off') {
    problems.push('FOREST_ADMIN_TOKEN: only used with FOREST_AUTH=on');
  }
  if (Boolean(config.etcdUsername) !== Boolean(config.etcdPassword)) {
    problems.push('FOREST_ETCD_USERNAME and FOREST_ETCD_PASSWORD: set both, or neither');
  }
  const etcdOnly = ['FOREST_ETCD_CA_FILE', 'FOREST_ETCD_CERT_FILE', 'FOREST_ETCD_USERNAME'];
  const stray = etcdOnly.filter((name) => env[name]?.trim());
  if (config.etcdEndpoints?.length === 0 && stray.length > 0) {
    problems.push(`${stray.join(', ')}: only used with etcd; set FOREST_ETCD_ENDPOINTS too`);
  }
  if (config.historyUrl === undefined) {
    const historyOnly = ['FOREST_HISTORY_TLS', 'FOREST_HISTORY_TLS_CA', 'FOREST_HISTORY_POOL_SIZE'];
    const unused = historyOnly.filter((name) => env[name]?.trim());
    if (unused.length > 0) {
      problems.push(`${unused.join(', ')}: only used with FOREST_HISTORY_URL; set it too`);
    }
  }
  if (config.historyTlsCa !== undefined && config.historyTls !== 'verify-full') {
    problems.push('FOREST_HISTORY_TLS_CA: only used with FOREST_HISTORY_TLS=verify-full');
  }
  return problems;
}

/** True for an address only this machine can reach. */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** A plugin's settings as `--help` lists them (from its @ForestPlugin `settings`). */
export interface PluginSettingsHelp {
  plugin: string;
  settings: readonly { env: string; description: string; default?: string }[];
}

/**
 * The text `--help` prints: each variable with its default and meaning, then the settings
 * each loaded plugin declares, under its name.
 */
export function configHelp(plugins: readonly PluginSettingsHelp[] = []): string {
  const rows = (Object.values(SETTINGS) as SettingSpec<unknown>[]).map((spec) => ({
    env: spec.env,
    description: spec.description,
    default: spec.defaultText,
  }));
  const withSettings = plugins.filter((p) => p.settings.length > 0);
  const width = Math.max(
    ...[...rows, ...withSettings.flatMap((p) => p.settings)].map((s) => s.env.length),
  );
  const line = (s: { env: string; description: string; default?: string }, indent: string) =>
    `${indent}${s.env.padEnd(width)}  ${s.description}` +
    (s.default ? ` (default: ${s.default})` : '');
  const pluginLines = withSettings.flatMap((p) => [
    `  ${p.plugin}:`,
    ...p.settings.map((s) => line(s, '    ')),
  ]);
  return [
    'Forest scheduler node',
    '',
    'Usage: node dist/src/main.js [--help]',
    '',
    'Configuration comes from environment variables:',
    ...rows.map((s) => line(s, '  ')),
    ...(pluginLines.length > 0
      ? [
          '',
          'Plugin settings (read by the plugins loaded with this configuration):',
          ...pluginLines,
        ]
      : []),
    '',
    'Without FOREST_ETCD_ENDPOINTS the node runs alone on the embedded store in FOREST_DATA_DIR.',
    'Logs are JSON lines on stdout (FOREST_LOG_FORMAT=pretty: human-readable).',
    '',
  ].join('\n');
}
