import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, configHelp, loadConfig } from './forest.config';
import { SETTINGS } from './config.settings';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('loadConfig', () => {
  it('gives every setting its documented default', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      httpHost: '127.0.0.1',
      auth: 'off',
      httpPort: 2856,
      keyPrefix: '/forest',
      etcdEndpoints: [],
      etcdDialTimeoutMs: 5000,
      dataDir: './data',
      leaseTtlS: 5,
      logLevel: 'info',
      etcdCompactionIntervalS: 300,
    });
    expect(config.nodeId).toMatch(/^[A-Za-z0-9._-]{1,64}$/);
    expect(config.nodeId).toMatch(/-2856$/);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('refuses a non-loopback address without auth unless insecure mode is asked for by name', () => {
    expect(problemsOf({ FOREST_HTTP_HOST: '0.0.0.0' })).toEqual([
      expect.stringContaining('FOREST_HTTP_HOST: 0.0.0.0 is reachable beyond this machine'),
    ]);
    expect(problemsOf({ FOREST_HTTP_HOST: '0.0.0.0', FOREST_AUTH: 'on' })).toEqual([]);
    expect(
      problemsOf({ FOREST_HTTP_HOST: '0.0.0.0', FOREST_INSECURE: 'allow-remote-without-auth' }),
    ).toEqual([]);
    expect(problemsOf({ FOREST_INSECURE: 'yes' })).toEqual([
      expect.stringContaining('FOREST_INSECURE: "yes" is not allowed'),
    ]);
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]']) {
      expect(problemsOf({ FOREST_HTTP_HOST: host })).toEqual([]);
    }
    expect(problemsOf({ FOREST_ADMIN_TOKEN: 'x'.repeat(40) })).toEqual([
      'FOREST_ADMIN_TOKEN: only used with FOREST_AUTH=on',
    ]);
    expect(problemsOf({ FOREST_AUTH: 'on', FOREST_ADMIN_TOKEN: 'short' })).toEqual([
      'FOREST_ADMIN_TOKEN: must be 32-256 characters without spaces',
    ]);
  });

  it('reads and types every FOREST_* variable', () => {
    const config = loadConfig({
      FOREST_HTTP_HOST: '127.0.0.1',
      FOREST_HTTP_PORT: '8080',
      FOREST_NODE_ID: 'node-a',
      FOREST_KEY_PREFIX: '/prod/forest',
      FOREST_ETCD_ENDPOINTS: '10.0.0.1:2379, http://etcd-2:2379,https://[::1]:2379',
      FOREST_ETCD_DIAL_TIMEOUT_MS: '1500',
      FOREST_ETCD_USERNAME: 'forest',
      FOREST_ETCD_PASSWORD: 's3cret',
      FOREST_DATA_DIR: '/var/lib/forest',
      FOREST_LEASE_TTL_S: '10',
      FOREST_LOG_LEVEL: 'debug',
    });
    expect(config).toMatchObject({
      httpHost: '127.0.0.1',
      httpPort: 8080,
      nodeId: 'node-a',
      keyPrefix: '/prod/forest',
      etcdEndpoints: ['10.0.0.1:2379', 'http://etcd-2:2379', 'https://[::1]:2379'],
      etcdDialTimeoutMs: 1500,
      etcdUsername: 'forest',
      etcdPassword: 's3cret',
      dataDir: '/var/lib/forest',
      leaseTtlS: 10,
      logLevel: 'debug',
      advertiseUrl: expect.stringMatching(/^http:\/\/.+:8080$/),
    });
  });

  it('reports every bad value at once, naming the variable and what is allowed', () => {
    const problems = problemsOf({
      FOREST_HTTP_PORT: '70000',
      FOREST_NODE_ID: 'node/../other',
      FOREST_KEY_PREFIX: 'forest/',
      FOREST_ETCD_ENDPOINTS: 'localhost:2379,not an endpoint',
      FOREST_LEASE_TTL_S: '0',
      FOREST_LOG_LEVEL: 'loud',
      FOREST_ETCD_DIAL_TIMEOUT_MS: '1.5',
    });
    expect(problems).toEqual([
      'FOREST_HTTP_PORT: 70000 is out of range: allowed 0..65535',
      'FOREST_NODE_ID: "node/../other" is not allowed: use 1-64 characters of A-Z a-z 0-9 . _ -',
      expect.stringMatching(/^FOREST_KEY_PREFIX: "forest\/" is not allowed: start with "\/"/),
      expect.stringMatching(/^FOREST_ETCD_ENDPOINTS: "not an endpoint" not an endpoint/),
      'FOREST_ETCD_DIAL_TIMEOUT_MS: "1.5" is not a whole number',
      'FOREST_LEASE_TTL_S: 0 is out of range: allowed 1..300',
      expect.stringMatching(/^FOREST_LOG_LEVEL: "loud" is not a level: use one of fatal, error/),
    ]);
  });

  it('checks settings that only make sense together', () => {
    const dir = mkdtempSync(join(tmpdir(), 'forest-config-'));
    try {
      const cert = join(dir, 'client.pem');
      writeFileSync(cert, 'pem');
      expect(
        problemsOf({
          FOREST_ETCD_ENDPOINTS: 'etcd:2379',
          FOREST_ETCD_CERT_FILE: cert,
          FOREST_ETCD_USERNAME: 'forest',
        }),
      ).toEqual([
        'FOREST_ETCD_CERT_FILE and FOREST_ETCD_KEY_FILE: set both for mutual TLS, or neither',
        'FOREST_ETCD_USERNAME and FOREST_ETCD_PASSWORD: set both, or neither',
      ]);
      expect(problemsOf({ FOREST_ETCD_CA_FILE: join(dir, 'missing.pem') })).toEqual([
        expect.stringMatching(/^FOREST_ETCD_CA_FILE: file ".*missing.pem" does not exist/),
        expect.stringMatching(/^FOREST_ETCD_CA_FILE: only used with etcd/),
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--help lists every variable with its default', () => {
    const help = configHelp();
    for (const spec of Object.values(SETTINGS)) {
      expect(help).toContain(spec.env);
      if (spec.defaultText) expect(help).toContain(`(default: ${spec.defaultText})`);
    }
  });
});
