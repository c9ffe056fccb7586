import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

/** What a worker process's handlers saw, one record per line on its stdout (worker-main.ts). */
export type WorkerRecord =
  /** The process is up and about to register. */
  | { ev: 'starting'; pid: number; t: number }
  /** Registered: `w` is the worker id. */
  | { ev: 'ready'; w: string; pid: number; t: number }
  /** A handler started: execution id, job, scheduled ms, start ms, worker id, attempt. */
  | { ev: 'start'; id: string; job: string; s: number; t: number; w: string; a: number }
  /** A handler settled (`ok`: returned; else threw, e.g. its signal aborted). */
  | { ev: 'end'; id: string; t: number; w: string; ok: boolean }
  /** A handler's signal aborted while it ran (with `recordAborts`): when, and the reason. */
  | { ev: 'abort'; id: string; t: number; w: string; reason: string }
  /** After a graceful stop (SIGTERM): the SDK's final status. */
  | { ev: 'stopped'; status: Record<string, unknown> };

export type StartRecord = Extract<WorkerRecord, { ev: 'start' }>;
export type EndRecord = Extract<WorkerRecord, { ev: 'end' }>;
export type AbortRecord = Extract<WorkerRecord, { ev: 'abort' }>;

export interface WorkerProcessOptions {
  /** Node base URLs, e.g. NodeProcess.baseUrl. */
  nodes: string[];
  group: string;
  /** A label: also the declared host name, so the worker id reads `{name}-{random}-{lease}`. */
  name: string;
  /** Default ['t']; every target gets the same handler. */
  targets?: string[];
  /** Default 4. */
  concurrency?: number;
  /** The handler sleeps this long (ms), ending early if its signal aborts. */
  sleepMs?: number;
  /** The handler never returns (until its signal aborts or the process dies). */
  block?: boolean;
  /** The handler ignores its signal: it sleeps `sleepMs` (or blocks) whatever happens. */
  ignoreAbort?: boolean;
  /**
   * The handler sleeps in ticks of this many ms, so time spent stopped (SIGSTOP) does not
   * count: it runs `sleepMs` of its own time, and is still running after a SIGCONT.
   */
  tickMs?: number;
  /** An `abort` record whenever a running handler's signal aborts (kept in `aborts`). */
  recordAborts?: boolean;
  /**
   * The job's params may steer the handler (one fleet for a job mix): an object's `sleepMs`
   * replaces `sleepMs`; `failPercent` (0-100) fails attempts up to `failAttempts` (default
   * 1) of that share of fires, picked by a hash of the fire's first-attempt id.
   */
  paramsDriven?: boolean;
  /** The handler logs `handled {executionId} by {name} ({workerId})` into the output. */
  logLine?: boolean;
  /** The handler returns `{ worker: workerId, name }`, appended to the output. */
  returnResult?: boolean;
  /** `all` (default): start and end records; `start`: start records only (benchmarks). */
  record?: 'all' | 'start';
  /** Keep the records in memory for `starts` / `ends` (default true). */
  keepRecords?: boolean;
  /** Register only when `go()` is called (the process is spawned and loaded before). */
  waitForGo?: boolean;
  pollWaitMs?: number;
  /** How long SIGTERM lets running handlers finish (ms, default 5000). */
  stopTimeoutMs?: number;
  /** The SDK's info lines to stderr too (warnings and errors always go there). */
  sdkLog?: boolean;
  /**
   * The token the worker registers with (FOREST_AUTH=on: a worker token of the group, or an
   * admin token). Default none: nodes with auth off.
   */
  token?: string;
  /** Extra node flags, e.g. ['--cpu-prof']. */
  execArgv?: string[];
}

/**
 * A worker (the real ForestWorker SDK, test/support/worker-main.ts) as a separate OS
 * process, configured by the options above. Its handlers' records arrive as they happen:
 * `starts` / `ends`, `onRecord`, `waitFor`. `stop()` ends it (SIGTERM: graceful, SIGKILL:
 * a crash); a process still alive when the test process exits is killed, and a worker
 * whose test process died exits when its stdin closes.
 */
export class WorkerProcess {
  readonly starts: StartRecord[] = [];
  readonly ends: EndRecord[] = [];
  readonly aborts: AbortRecord[] = [];
  /** The current worker id (after `ready`). */
  workerId: string | undefined;
  /** When it registered (epoch ms, the worker's clock = ours). */
  readyAt: number | undefined;
  stoppedStatus: Record<string, unknown> | undefined;
  /** SIGSTOPped by `freeze()` and not yet `thaw()`ed. */
  frozen = false;
  private stderrTail = '';
  private partial = '';
  private readonly listeners = new Set<(record: WorkerRecord) => void>();
  private exited: Promise<number | NodeJS.Signals | null>;

  private constructor(
    readonly child: ChildProcess,
    readonly options: WorkerProcessOptions,
  ) {
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => resolve(code ?? signal)),
    );
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => this.onStdout(chunk));
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      this.stderrTail = (this.stderrTail + chunk).slice(-20_000);
    });
    // A write to the stdin of a process that died fails asynchronously: ignore it.
    child.stdin!.on('error', () => undefined);
  }

  get name(): string {
    return this.options.name;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The worker's stderr (SDK warnings, errors), last 20 kB. */
  get log(): string {
    return this.stderrTail;
  }

  /**
   * Spawns the worker. Resolves once it registered (`ready`), or, with `waitForGo`, once
   * the process has loaded (call `go()` to register it).
   */
  static async start(options: WorkerProcessOptions, timeoutMs = 30_000): Promise<WorkerProcess> {
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      FOREST_TEST_WORKER_NODES: options.nodes.join(','),
      FOREST_TEST_WORKER_GROUP: options.group,
      FOREST_TEST_WORKER_NAME: options.name,
      FOREST_TEST_WORKER_TARGETS: (options.targets ?? ['t']).join(','),
      FOREST_TEST_WORKER_CONCURRENCY: String(options.concurrency ?? 4),
      FOREST_TEST_WORKER_SLEEP_MS: String(options.sleepMs ?? 0),
      FOREST_TEST_WORKER_BLOCK: options.block ? '1' : '0',
      FOREST_TEST_WORKER_LOG: options.logLine ? '1' : '0',
      FOREST_TEST_WORKER_RESULT: options.returnResult ? '1' : '0',
      FOREST_TEST_WORKER_RECORD: options.record ?? 'all',
      FOREST_TEST_WORKER_WAIT_FOR_GO: options.waitForGo ? '1' : '0',
      FOREST_TEST_WORKER_STOP_TIMEOUT_MS: String(options.stopTimeoutMs ?? 5000),
      FOREST_TEST_WORKER_SDK_LOG: options.sdkLog ? '1' : '0',
      ...(options.ignoreAbort ? { FOREST_TEST_WORKER_IGNORE_ABORT: '1' } : {}),
      ...(options.tickMs ? { FOREST_TEST_WORKER_TICK_MS: String(options.tickMs) } : {}),
      ...(options.recordAborts ? { FOREST_TEST_WORKER_RECORD_ABORTS: '1' } : {}),
      ...(options.paramsDriven ? { FOREST_TEST_WORKER_PARAMS: '1' } : {}),
      ...(options.token ? { FOREST_TEST_WORKER_TOKEN: options.token } : {}),
      ...(options.pollWaitMs !== undefined
        ? { FOREST_TEST_WORKER_POLL_WAIT_MS: String(options.pollWaitMs) }
        : {}),
    };
    const child = spawn(
      process.execPath,
      [
        ...(options.execArgv ?? []),
        '-r',
        join(root, 'test/support/ts-register.js'),
        join(root, 'test/support/worker-main.ts'),
      ],
      { cwd: root, env, stdio: ['pipe', 'pipe', 'pipe'] },
    );
    running.add(child);
    child.once('exit', () => running.delete(child));
    const worker = new WorkerProcess(child, options);
    try {
      await worker.waitForRecord(
        options.waitForGo ? 'starting' : 'ready',
        (record) => record.ev === (options.waitForGo ? 'starting' : 'ready'),
        timeoutMs,
      );
    } catch (error) {
      await worker.stop('SIGKILL');
      throw error;
    }
    return worker;
  }

  /** Registers a worker started with `waitForGo`; resolves with its worker id. */
  async go(timeoutMs = 10_000): Promise<string> {
    this.child.stdin!.write('start\n');
    await this.waitForRecord('ready', (record) => record.ev === 'ready', timeoutMs);
    return this.workerId!;
  }

  /** Calls `listener` with every record from now on; returns the unsubscribe. */
  onRecord(listener: (record: WorkerRecord) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves once `check()` holds (checked on every record, and every 50 ms). */
  async waitFor(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > deadline) {
        throw new Error(`worker ${this.name}: timed out waiting for ${what}\n${this.describe()}`);
      }
      if (!this.alive) {
        throw new Error(`worker ${this.name} exited waiting for ${what}\n${this.describe()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /**
   * SIGTERM: a graceful stop (the SDK finishes running handlers, reports, leaves), then
   * exit 0; SIGKILL: a crash. Resolves with the exit code or the signal that ended it;
   * one that does not exit within 20 s is SIGKILLed.
   */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | NodeJS.Signals | null> {
    if (this.alive) {
      this.child.kill(signal);
      // A stopped process only acts on SIGTERM once it runs again.
      if (this.frozen && signal !== 'SIGKILL') this.thaw();
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 20_000);
      try {
        return await this.exited;
      } finally {
        clearTimeout(timer);
      }
    }
    return this.exited;
  }

  /**
   * SIGSTOP: the process stops on the spot (no timer, heartbeat or handler runs) until
   * `thaw()`; returns the time it was sent (epoch ms).
   */
  freeze(): number {
    if (!this.alive) throw new Error(`worker ${this.name} is not running`);
    this.child.kill('SIGSTOP');
    this.frozen = true;
    return Date.now();
  }

  /** SIGCONT after `freeze()`; returns the time it was sent (epoch ms). */
  thaw(): number {
    this.child.kill('SIGCONT');
    this.frozen = false;
    return Date.now();
  }

  /** Name, pid, worker id, exit state and stderr tail: for failure messages. */
  describe(): string {
    return (
      `--- worker ${this.name} (pid ${this.pid}, id ${this.workerId ?? '-'}, ` +
      `${this.alive ? 'running' : `exited ${this.child.exitCode ?? this.child.signalCode}`}) ---\n` +
      this.stderrTail
    );
  }

  private waitForRecord(
    what: string,
    match: (record: WorkerRecord) => boolean,
    timeoutMs: number,
  ): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const done = (error?: Error) => {
        clearTimeout(timer);
        unsubscribe();
        this.child.off('exit', onExit);
        if (error) reject(error);
        else resolve();
      };
      const timer = setTimeout(
        () =>
          done(
            new Error(`worker ${this.name}: no ${what} within ${timeoutMs} ms\n${this.describe()}`),
          ),
        timeoutMs,
      );
      const unsubscribe = this.onRecord((record) => {
        if (match(record)) done();
      });
      const onExit = () =>
        done(new Error(`worker ${this.name} exited before ${what}\n${this.describe()}`));
      this.child.once('exit', onExit);
    });
  }

  private onStdout(chunk: string): void {
    const text = this.partial + chunk;
    const lines = text.split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) {
      if (line.length === 0) continue;
      let record: WorkerRecord;
      try {
        record = JSON.parse(line) as WorkerRecord;
      } catch {
        this.stderrTail = (this.stderrTail + `[stdout] ${line}\n`).slice(-20_000);
        continue;
      }
      const keep = this.options.keepRecords ?? true;
      if (record.ev === 'start') {
        if (keep) this.starts.push(record);
      } else if (record.ev === 'end') {
        if (keep) this.ends.push(record);
      } else if (record.ev === 'abort') {
        if (keep) this.aborts.push(record);
      } else if (record.ev === 'ready') {
        this.workerId = record.w;
        this.readyAt = record.t;
      } else if (record.ev === 'stopped') {
        this.stoppedStatus = record.status;
      }
      for (const listener of this.listeners) listener(record);
    }
  }
}

const running = new Set<ChildProcess>();
process.once('exit', () => running.forEach((child) => child.kill('SIGKILL')));
