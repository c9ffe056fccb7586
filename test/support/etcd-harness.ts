import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A real etcd (Debian's `etcd-server`) for tests: free loopback ports, a temp data dir,
 * started and stopped by pid. Every etcd-backed suite uses this; nothing hard-codes a port.
 */
export class EtcdHarness {
  private process?: ChildProcess;
  private stderrTail = '';
  readonly dataDir = mkdtempSync(join(tmpdir(), 'forest-etcd-'));

  private constructor(
    readonly clientPort: number,
    readonly peerPort: number,
  ) {
    removeOnExit.add(this.dataDir);
  }

  /** Picks two free ports and starts etcd on them; resolves once it reports healthy. */
  static async start(): Promise<EtcdHarness> {
    assertEtcdInstalled();
    for (let attempt = 1; ; attempt++) {
      const harness = new EtcdHarness(await freePort(), await freePort());
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
    const client = `http://127.0.0.1:${this.clientPort}`;
    const peer = `http://127.0.0.1:${this.peerPort}`;
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
        const response = await fetch(`http://127.0.0.1:${this.clientPort}/health`);
        const body = (await response.json()) as { health?: string };
        if (body.health === 'true') return;
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`etcd did not become healthy within 20 s: ${this.stderrTail}`);
  }
}

/** Children still alive when the jest worker exits are killed, so a failed test leaks nothing. */
const killOnExit = new Set<ChildProcess>();
const removeOnExit = new Set<string>();
process.once('exit', () => {
  killOnExit.forEach((child) => child.kill('SIGKILL'));
  removeOnExit.forEach((dir) => rmSync(dir, { recursive: true, force: true }));
});

function assertEtcdInstalled(): void {
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
