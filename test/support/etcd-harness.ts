import { ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** TLS for the client URL: etcd serves https and requires a client certificate. */
export interface EtcdTlsOptions {
  /** CA that signed both the server and the client certificates. */
  caFile: string;
  /** Server certificate (SAN 127.0.0.1) and key. */
  certFile: string;
  keyFile: string;
  /** A client certificate and key the harness itself uses (health checks). */
  clientCertFile: string;
  clientKeyFile: string;
}

/**
 * A real etcd (Debian's `etcd-server`) for tests: free loopback ports, a temp data dir,
 * started and stopped by pid. Every etcd-backed suite uses this; nothing hard-codes a port.
 * With `tls` it serves https on the client port with `--client-cert-auth`.
 */
export class EtcdHarness {
  private process?: ChildProcess;
  private stderrTail = '';
  readonly dataDir = mkdtempSync(join(tmpdir(), 'forest-etcd-'));

  private constructor(
    readonly clientPort: number,
    readonly peerPort: number,
    readonly tls?: EtcdTlsOptions,
  ) {
    removeOnExit.add(this.dataDir);
  }

  /** Picks two free ports and starts etcd on them; resolves once it reports healthy. */
  static async start(options: { tls?: EtcdTlsOptions } = {}): Promise<EtcdHarness> {
    assertEtcdInstalled();
    for (let attempt = 1; ; attempt++) {
      const harness = new EtcdHarness(await freePort(), await freePort(), options.tls);
      try {
        await harness.startProcess();
        return harness;
      } catch (error) {
        await harness.stop();
        // A port taken between probing and binding is the only expected failure: retry.
        if (attempt >= 3) throw error;
      }
    }
  }

  get endpoint(): string {
    return `127.0.0.1:${this.clientPort}`;
  }

  /** The client URL with its scheme: `https://127.0.0.1:port` with TLS. */
  get url(): string {
    return `${this.tls ? 'https' : 'http'}://127.0.0.1:${this.clientPort}`;
  }

  get pid(): number | undefined {
    return this.process?.pid;
  }

  get running(): boolean {
    return this.process !== undefined && this.process.exitCode === null && !this.process.killed;
  }

  /** Stops etcd (SIGTERM, then SIGKILL after a grace period) and keeps the data dir. */
  async kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
    this.process = undefined;
  }

  /** Starts etcd again on the same ports and data dir (an etcd restart, as in production). */
  async restart(): Promise<void> {
    await this.kill();
    await this.startProcess();
  }

  /** Stops etcd and removes its data dir. */
  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.dataDir, { recursive: true, force: true });
    removeOnExit.delete(this.dataDir);
  }

  private async startProcess(): Promise<void> {
    const client = this.url;
    const peer = `http://127.0.0.1:${this.peerPort}`;
    const tls = this.tls
      ? [
          `--cert-file=${this.tls.certFile}`,
          `--key-file=${this.tls.keyFile}`,
          `--trusted-ca-file=${this.tls.caFile}`,
          '--client-cert-auth',
        ]
      : [];
    const child = spawn(
      'etcd',
      [
        '--name=forest-test',
        `--data-dir=${this.dataDir}`,
        `--listen-client-urls=${client}`,
        `--advertise-client-urls=${client}`,
        `--listen-peer-urls=${peer}`,
        `--initial-advertise-peer-urls=${peer}`,
        `--initial-cluster=forest-test=${peer}`,
        '--log-level=error',
        '--logger=zap',
        ...tls,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    this.process = child;
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString()).slice(-4000);
    });
    killOnExit.add(child);
    child.once('exit', () => killOnExit.delete(child));
    await this.waitHealthy(child);
  }

  private async waitHealthy(child: ChildProcess): Promise<void> {
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) {
        throw new Error(`etcd exited with code ${child.exitCode}: ${this.stderrTail}`);
      }
      try {
        if ((await this.health()) === 'true') return;
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`etcd did not become healthy within 20 s: ${this.stderrTail}`);
  }

  /** etcd's /health answer (`"true"` when healthy); over https with the client certificate. */
  private async health(): Promise<string | undefined> {
    if (!this.tls) {
      const response = await fetch(`${this.url}/health`);
      return ((await response.json()) as { health?: string }).health;
    }
    const { caFile, clientCertFile, clientKeyFile } = this.tls;
    const text = await new Promise<string>((resolve, reject) => {
      const call = request(
        `${this.url}/health`,
        {
          ca: readFileSync(caFile),
          cert: readFileSync(clientCertFile),
          key: readFileSync(clientKeyFile),
          // The server certificate names localhost too; an IP as TLS server name is deprecated.
          servername: 'localhost',
          timeout: 2000,
        },
        (response) => {
          let body = '';
          response.on('data', (chunk: Buffer) => (body += chunk.toString()));
          response.on('end', () => resolve(body));
          response.on('error', reject);
        },
      );
      call.on('error', reject);
      call.on('timeout', () => call.destroy(new Error('timeout')));
      call.end();
    });
    return (JSON.parse(text) as { health?: string }).health;
  }
}

/** Files of a throw-away PKI made by `makeTestCertificates`. */
export interface TestCertificates {
  dir: string;
  caFile: string;
  /** Server certificate for 127.0.0.1 / localhost. */
  serverCertFile: string;
  serverKeyFile: string;
  /** Client certificate (CN forest-client) for mutual TLS. */
  clientCertFile: string;
  clientKeyFile: string;
}

/**
 * A CA, a server certificate (SAN IP:127.0.0.1, DNS:localhost) and a client certificate,
 * made with the `openssl` command in a new temp dir (removed at exit, or by the caller).
 * The client's CN is no etcd user, so etcd never authenticates a call by certificate alone.
 */
export function makeTestCertificates(): TestCertificates {
  const probe = spawnSync('openssl', ['version']);
  if (probe.error || probe.status !== 0) {
    throw new Error('the `openssl` command is missing: install it (`apt-get install -y openssl`)');
  }
  const dir = mkdtempSync(join(tmpdir(), 'forest-certs-'));
  removeOnExit.add(dir);
  const file = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=forest-test-ca',
    '-keyout',
    file('ca.key'),
    '-out',
    file('ca.crt'),
  );
  const issue = (name: string, cn: string, extensions: string) => {
    writeFileSync(file(`${name}.ext`), extensions);
    openssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      `/CN=${cn}`,
      '-keyout',
      file(`${name}.key`),
      '-out',
      file(`${name}.csr`),
    );
    openssl(
      'x509',
      '-req',
      '-in',
      file(`${name}.csr`),
      '-CA',
      file('ca.crt'),
      '-CAkey',
      file('ca.key'),
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      file(`${name}.ext`),
      '-out',
      file(`${name}.crt`),
    );
  };
  issue(
    'server',
    '127.0.0.1',
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n',
  );
  issue('client', 'forest-client', 'extendedKeyUsage=clientAuth\n');
  return {
    dir,
    caFile: file('ca.crt'),
    serverCertFile: file('server.crt'),
    serverKeyFile: file('server.key'),
    clientCertFile: file('client.crt'),
    clientKeyFile: file('client.key'),
  };
}

/** Removes a directory made by makeTestCertificates. */
export function removeTestCertificates(certificates: TestCertificates): void {
  rmSync(certificates.dir, { recursive: true, force: true });
  removeOnExit.delete(certificates.dir);
}

/**
 * Children still alive when the jest worker exits are killed, and temp dirs still there are
 * removed, so a failed test leaks nothing (the cluster harness registers its members here too).
 */
export const killOnExit = new Set<ChildProcess>();
export const removeOnExit = new Set<string>();
process.once('exit', () => {
  killOnExit.forEach((child) => child.kill('SIGKILL'));
  removeOnExit.forEach((dir) => rmSync(dir, { recursive: true, force: true }));
});

export function assertEtcdInstalled(): void {
  const probe = spawnSync('etcd', ['--version']);
  if (probe.error || probe.status !== 0) {
    throw new Error(
      "the `etcd` binary is missing: install Debian's etcd-server (`apt-get install -y etcd-server`); " +
        '.ci/run does this automatically',
    );
  }
}

/** A port the OS reports free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
