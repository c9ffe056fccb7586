import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EtcdHarness } from '../support/etcd-harness';
import { NodeProcess, runToExit } from '../support/node-process';

/** The node as an operator runs it: a real process, configured only by FOREST_* variables. */
describe('the forest node process', () => {
  let dataDir: string;

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'forest-main-'));
  });

  afterEach(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('--help prints every variable with its default and exits 0', async () => {
    const result = await runToExit(NodeProcess.run(['--help'], {}));
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('FOREST_HTTP_PORT');
    expect(result.stdout).toContain('(default: 2856)');
    expect(result.stdout).toContain('FOREST_ETCD_ENDPOINTS');
  });

  it('refuses to start on a bad value, naming the variable and what is allowed', async () => {
    const result = await runToExit(
      NodeProcess.run([], { FOREST_HTTP_PORT: 'eighty', FOREST_LEASE_TTL_S: '0' }),
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('FOREST_HTTP_PORT: "eighty" is not a whole number');
    expect(result.stderr).toContain('FOREST_LEASE_TTL_S: 0 is out of range: allowed 1..300');
  });

  it('starts on the embedded store without etcd and serves Swagger UI at /docs', async () => {
    const node = await NodeProcess.start({ FOREST_DATA_DIR: dataDir });
    try {
      const docs = await fetch(`${node.baseUrl}/docs`);
      expect(docs.status).toBe(200);
      expect(await docs.text()).toContain('Swagger UI');
      const health = (await (await fetch(`${node.baseUrl}/health`)).json()) as object;
      expect(health).toMatchObject({ status: 'ok', info: { store: { kind: 'embedded' } } });
      expect(existsSync(dataDir)).toBe(true);
    } finally {
      expect(await node.stop('SIGTERM')).toBe('SIGTERM');
    }
  });

  it('uses etcd when FOREST_ETCD_ENDPOINTS is set, under FOREST_KEY_PREFIX', async () => {
    const etcd = await EtcdHarness.start();
    const node = await NodeProcess.start({
      FOREST_ETCD_ENDPOINTS: etcd.endpoint,
      FOREST_KEY_PREFIX: '/forest-main',
      FOREST_DATA_DIR: join(dataDir, 'unused'),
    });
    try {
      const health = (await (await fetch(`${node.baseUrl}/health`)).json()) as object;
      expect(health).toMatchObject({ status: 'ok', info: { store: { kind: 'etcd' } } });
      // The embedded store was not touched.
      expect(existsSync(join(dataDir, 'unused'))).toBe(false);
    } finally {
      expect(await node.stop('SIGTERM')).toBe('SIGTERM');
      await etcd.stop();
    }
  });

  it('reports 503 from /health while etcd is down, and recovers when it is back', async () => {
    const etcd = await EtcdHarness.start();
    const node = await NodeProcess.start({
      FOREST_ETCD_ENDPOINTS: etcd.endpoint,
      FOREST_ETCD_DIAL_TIMEOUT_MS: '1000',
    });
    try {
      await etcd.kill();
      const down = await fetch(`${node.baseUrl}/health`);
      expect(down.status).toBe(503);
      await etcd.restart();
      const deadline = Date.now() + 15_000;
      let status = 0;
      while (Date.now() < deadline && status !== 200) {
        status = (await fetch(`${node.baseUrl}/health`)).status;
        if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(status).toBe(200);
    } finally {
      expect(await node.stop('SIGTERM')).toBe('SIGTERM');
      await etcd.stop();
    }
  });
});
