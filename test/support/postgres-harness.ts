import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { freePort, killOnExit, removeOnExit } from './etcd-harness';

const POSTGRES_ROOT = '/usr/lib/postgresql';
const READY_TIMEOUT_MS = 30_000;

/**
 * A real PostgreSQL (Debian's `postgresql` package) for tests: a temp data dir, a free
 * loopback port, the socket in a temp dir of its own, started and stopped by pid. initdb
 * and postgres refuse to run as root, so as root they run as the `postgres` user the
 * package creates (the child process itself switches user, so its pid is the server's).
 * Registered with the etcd harness's exit cleanup, so a failed test leaves nothing behind.
 */
export class PostgresHarness {
  private process?: ChildProcess;
  private stderrTail = '';

  private constructor(
    /** Holds `data` and `socket`; removed by stop(). */
    private readonly baseDir: string,
    readonly port: number,
    readonly database: string,
  ) {}

  /** initdb, start, wait until it accepts connections, create the test database. */
  static async start(): Promise<PostgresHarness> {
    const binDir = postgresBinDir();
    for (let attempt = 1; ; attempt++) {
      const baseDir = mkdtempSync(join(tmpdir(), 'forest-pg-'));
      removeOnExit.add(baseDir);
      const harness = new PostgresHarness(baseDir, await freePort(), 'forest_test');
      try {
        await harness.startProcess(binDir);
        await harness.createDatabase(harness.database);
        return harness;
      } catch (error) {
        await harness.stop();
        // A port taken between probing and binding is the only expected failure: retry.
        if (attempt >= 3) throw error;
      }
    }
  }

  /** The server's data directory (postmaster.pid is in it). */
  get dataDir(): string {
    return join(this.baseDir, 'data');
  }

  /** URL of the test database. */
  get url(): string {
    return this.urlOf(this.database);
  }

  get pid(): number | undefined {
    return this.process?.pid;
  }

  urlOf(database: string): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  /** A new empty database on this server; answers its URL (isolation per test). */
  async freshDatabase(): Promise<string> {
    const name = `forest_${randomUUID().replace(/-/g, '')}`;
    await this.createDatabase(name);
    return this.urlOf(name);
  }

  /** Fast shutdown (SIGINT) by pid, SIGKILL after 10 s; removes the temp dirs. */
  async stop(): Promise<void> {
    const child = this.process;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    this.process = undefined;
    rmSync(this.baseDir, { recursive: true, force: true });
    removeOnExit.delete(this.baseDir);
  }

  private async startProcess(binDir: string): Promise<void> {
    const socketDir = join(this.baseDir, 'socket');
    mkdirSync(socketDir);
    const user = postgresUser();
    if (user) {
      chownSync(this.baseDir, user.uid, user.gid);
      chownSync(socketDir, user.uid, user.gid);
    }
    execFileSync(
      join(binDir, 'initdb'),
      ['-D', this.dataDir, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C'],
      { stdio: 'pipe', ...(user ?? {}) },
    );
    const child = spawn(
      join(binDir, 'postgres'),
      [
        '-D',
        this.dataDir,
        '-p',
        String(this.port),
        '-k',
        socketDir,
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        'fsync=off',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'], ...(user ?? {}) },
    );
    this.process = child;
    killOnExit.add(child);
    child.once('exit', () => killOnExit.delete(child));
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString()).slice(-4000);
    });
    await this.waitReady(child);
  }

  private async waitReady(child: ChildProcess): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) {
        throw new Error(`postgres exited with code ${child.exitCode}: ${this.stderrTail}`);
      }
      const client = new Client({ connectionString: this.urlOf('postgres') });
      try {
        await client.connect();
        await client.query('SELECT 1');
        return;
      } catch {
        // not accepting connections yet
      } finally {
        await client.end().catch(() => undefined);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`postgres did not accept connections within 30 s: ${this.stderrTail}`);
  }

  private async createDatabase(name: string): Promise<void> {
    const client = new Client({ connectionString: this.urlOf('postgres') });
    await client.connect();
    try {
      await client.query(`CREATE DATABASE ${name}`);
    } finally {
      await client.end();
    }
  }
}

/**
 * The bin dir of the newest PostgreSQL installed (`/usr/lib/postgresql/<version>/bin`),
 * or an error that says how to install it.
 */
export function postgresBinDir(): string {
  const versions = existsSync(POSTGRES_ROOT)
    ? readdirSync(POSTGRES_ROOT)
        .filter((name) => /^\d+(\.\d+)?$/.test(name))
        .filter((name) => existsSync(join(POSTGRES_ROOT, name, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0) {
    throw new Error(
      "PostgreSQL is missing: install Debian's postgresql (`apt-get install -y postgresql`); " +
        '.ci/run does this automatically',
    );
  }
  return join(POSTGRES_ROOT, versions[0], 'bin');
}

/** As root: the `postgres` user's ids (initdb and postgres refuse root). Else undefined. */
function postgresUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres']).toString().trim());
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    throw new Error(
      "running as root but there is no `postgres` user: install Debian's postgresql, which creates it",
    );
  }
}
