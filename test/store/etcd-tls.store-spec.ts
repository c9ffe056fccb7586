import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Etcd3 } from 'etcd3';
import {
  EtcdHarness,
  freePort,
  makeTestCertificates,
  removeTestCertificates,
  TestCertificates,
} from '../support/etcd-harness';
import { NodeProcess } from '../support/node-process';

type Json = Record<string, any>;

/**
 * A node on an etcd that serves TLS only, requires client certificates
 * (`--client-cert-auth`) and has authentication on (a root user with a password):
 * FOREST_ETCD_CA_FILE / _CERT_FILE / _KEY_FILE and _USERNAME / _PASSWORD reach the etcd
 * client, the node elects itself and serves; a wrong password or a missing client
 * certificate keeps it unhealthy, with a log line that says why.
 */
describe('etcd with TLS, client certificates and authentication (node process)', () => {
  let certs: TestCertificates;
  let etcd: EtcdHarness;
  const password = randomBytes(12).toString('hex');
  const nodes: NodeProcess[] = [];

  beforeAll(async () => {
    certs = makeTestCertificates();
    etcd = await EtcdHarness.start({
      tls: {
        caFile: certs.caFile,
        certFile: certs.serverCertFile,
        keyFile: certs.serverKeyFile,
        clientCertFile: certs.clientCertFile,
        clientKeyFile: certs.clientKeyFile,
      },
    });
    // What `etcdctl user add root`, `etcdctl auth enable` do (etcd 3.4 needs a root user
    // with the root role before auth can be enabled), through the same gRPC API.
    const admin = new Etcd3({
      hosts: [etcd.url],
      credentials: {
        rootCertificate: readFileSync(certs.caFile),
        certChain: readFileSync(certs.clientCertFile),
        privateKey: readFileSync(certs.clientKeyFile),
      },
    });
    try {
      await admin.auth.roleAdd({ name: 'root' });
      await admin.auth.userAdd({ name: 'root', password });
      await admin.auth.userGrantRole({ user: 'root', role: 'root' });
      await admin.auth.authEnable({});
    } finally {
      admin.close();
    }
  });

  afterAll(async () => {
    for (const node of nodes) await node.stop();
    await etcd?.stop();
    if (certs) removeTestCertificates(certs);
  });

  function env(overrides: Record<string, string | undefined>): Record<string, string> {
    const all: Record<string, string | undefined> = {
      FOREST_ETCD_ENDPOINTS: etcd.url,
      FOREST_ETCD_CA_FILE: certs.caFile,
      FOREST_ETCD_CERT_FILE: certs.clientCertFile,
      FOREST_ETCD_KEY_FILE: certs.clientKeyFile,
      FOREST_ETCD_USERNAME: 'root',
      FOREST_ETCD_PASSWORD: password,
      FOREST_ETCD_DIAL_TIMEOUT_MS: '2000',
      FOREST_KEY_PREFIX: `/tls-${randomUUID().slice(0, 8)}`,
      FOREST_NODE_ID: `tls-${randomUUID().slice(0, 8)}`,
      FOREST_LOG_LEVEL: 'info',
      ...overrides,
    };
    return Object.fromEntries(
      Object.entries(all).filter((entry): entry is [string, string] => entry[1] !== undefined),
    );
  }

  async function start(overrides: Record<string, string | undefined>): Promise<NodeProcess> {
    const node = await NodeProcess.start(env(overrides));
    nodes.push(node);
    return node;
  }

  async function call(node: NodeProcess, method: string, path: string, body?: unknown) {
    const response = await fetch(`${node.baseUrl}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : {}) as Json };
  }

  async function until(what: string, node: NodeProcess, check: () => Promise<boolean>) {
    const deadline = Date.now() + 20_000;
    while (!(await check().catch(() => false))) {
      if (Date.now() > deadline) throw new Error(`${what} within 20 s:\n${node.log}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  it('works over TLS with a client certificate and a user: leader, a group and a job, health up', async () => {
    const node = await start({});
    await until(
      'elected',
      node,
      async () => (await call(node, 'GET', '/api/nodes/self')).body.leader === true,
    );
    expect((await call(node, 'POST', '/api/groups', { name: 'secure' })).status).toBe(201);
    const job = await call(node, 'POST', '/api/jobs', {
      id: 'tls-job',
      name: 'tls job',
      group: 'secure',
      schedule: { cron: '0 0 1 1 *' },
      target: 't',
    });
    expect(job.status).toBe(201);
    expect((await call(node, 'GET', '/api/jobs/tls-job')).body.group).toBe('secure');
    const health = await call(node, 'GET', '/health');
    expect(health.status).toBe(200);
    expect(health.body.info.store).toMatchObject({ status: 'up', kind: 'etcd' });
    // The start-up line says how the node talks to etcd, never the password.
    expect(node.log).toMatch(
      /using etcd at https:\/\/127\.0\.0\.1:\d+ .*tls=on \(client certificate\) user=root/,
    );
    expect(node.log).not.toContain(password);
  });

  /**
   * A node that cannot use the store does not listen (start-up waits for the plan to
   * load), so it is started without waiting for HTTP: it must log why, and never answer
   * /health with 200.
   */
  async function expectUnhealthy(
    overrides: Record<string, string | undefined>,
    because: RegExp,
  ): Promise<string> {
    const port = await freePort();
    const child = NodeProcess.run([], {
      ...env(overrides),
      FOREST_HTTP_HOST: '127.0.0.1',
      FOREST_HTTP_PORT: String(port),
    });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      const deadline = Date.now() + 30_000;
      while (!because.test(output)) {
        if (Date.now() > deadline) throw new Error(`no log line matching ${because}:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      // Several more election retries: still not healthy.
      await new Promise((resolve) => setTimeout(resolve, 2000));
      const health = await fetch(`http://127.0.0.1:${port}/health`, {
        signal: AbortSignal.timeout(2000),
      }).then(
        (response) => response.status,
        () => 'not listening',
      );
      expect(health).not.toBe(200);
      expect(output).not.toContain(password);
      return output;
    } finally {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        await exited;
      }
    }
  }

  it('with a wrong password it does not become healthy and logs that etcd refused the credentials', async () => {
    await expectUnhealthy(
      { FOREST_ETCD_PASSWORD: 'not-the-password' },
      /could not join: StoreAccessDeniedError: etcd refused this node's credentials: .*authentication failed.*FOREST_ETCD_PASSWORD/,
    );
  });

  it('without the client certificate it does not become healthy and logs why', async () => {
    await expectUnhealthy(
      { FOREST_ETCD_CERT_FILE: undefined, FOREST_ETCD_KEY_FILE: undefined },
      /could not join: StoreUnavailableError: etcd unavailable: .*handshake may have failed: does etcd require a client certificate \(FOREST_ETCD_CERT_FILE/,
    );
  });
});
