/*
 * A Forest worker process for tests and benchmarks, spawned by WorkerProcess
 * (test/support/worker-process.ts) as `node -r test/support/ts-register.js worker-main.ts`.
 * It runs the real ForestWorker SDK, configured by environment:
 *
 *   FOREST_TEST_WORKER_NODES          comma-separated node base URLs (required)
 *   FOREST_TEST_WORKER_GROUP          the group (required)
 *   FOREST_TEST_WORKER_NAME           a label: the declared host name, so worker ids read `{name}-{random}-{lease}`
 *   FOREST_TEST_WORKER_TARGETS        comma-separated targets, each with the handler below (default `t`)
 *   FOREST_TEST_WORKER_CONCURRENCY    the SDK's concurrency (default 4)
 *   FOREST_TEST_WORKER_SLEEP_MS       the handler sleeps this long (default 0), ending early on abort
 *   FOREST_TEST_WORKER_BLOCK          `1`: the handler never returns until its signal aborts
 *   FOREST_TEST_WORKER_LOG            `1`: the handler logs one line (it goes to the execution's output)
 *   FOREST_TEST_WORKER_RESULT         `1`: the handler returns `{ worker, name }` (appended to the output)
 *   FOREST_TEST_WORKER_RECORD         `all` (default): start and end records; `start`: start records only
 *   FOREST_TEST_WORKER_WAIT_FOR_GO    `1`: register only once the line `start` arrives on stdin
 *   FOREST_TEST_WORKER_POLL_WAIT_MS   the SDK's long-poll wait (default the SDK's)
 *   FOREST_TEST_WORKER_STOP_TIMEOUT_MS  how long SIGTERM lets running handlers finish (default 5000)
 *   FOREST_TEST_WORKER_SDK_LOG        `1`: the SDK's own diagnostics go to stderr (default: warnings and errors only)
 *   FOREST_TEST_WORKER_IGNORE_ABORT   `1`: the handler sleeps its FOREST_TEST_WORKER_SLEEP_MS even if its signal aborts
 *   FOREST_TEST_WORKER_TICK_MS        > 0: the handler sleeps in ticks of this many ms, so time the process spends
 *                                     stopped (SIGSTOP) does not count: it runs SLEEP_MS of its own time
 *   FOREST_TEST_WORKER_RECORD_ABORTS  `1`: an `abort` record (execution id, time, reason) when a handler's signal aborts
 *   FOREST_TEST_WORKER_PARAMS         `1`: the job's params may steer the handler, so one fleet serves a job mix
 *                                     (benchmarks): an object param `sleepMs` replaces FOREST_TEST_WORKER_SLEEP_MS,
 *                                     and `failPercent` (0-100) makes attempts up to `failAttempts` (default 1)
 *                                     throw for that share of fires, chosen by a hash of the fire's first-attempt
 *                                     id (the same fires on every run). Other params (null, arrays...) change nothing.
 *   FOREST_TEST_WORKER_TOKEN          the SDK's `token`: sent on registration (FOREST_AUTH=on); unset: none
 *
 * What the handlers saw goes to stdout, one JSON object per line (see WorkerRecord in
 * worker-process.ts); lines written in the same tick share one write. Nothing else is
 * written to stdout. SIGTERM stops the SDK gracefully (worker.stop()), writes a `stopped`
 * record with the SDK's status, and exits 0. stdin is a pipe from the test: when it ends (the
 * test process is gone, even SIGKILLed) the worker exits at once.
 */
import { ForestWorker, type ForestJobContext } from '@forest/worker/client';

const env = process.env;
const name = env.FOREST_TEST_WORKER_NAME || `worker-${process.pid}`;
const sleepMs = Number(env.FOREST_TEST_WORKER_SLEEP_MS ?? 0);
const block = env.FOREST_TEST_WORKER_BLOCK === '1';
const logLine = env.FOREST_TEST_WORKER_LOG === '1';
const returnResult = env.FOREST_TEST_WORKER_RESULT === '1';
const recordEnds = (env.FOREST_TEST_WORKER_RECORD ?? 'all') === 'all';
const sdkLog = env.FOREST_TEST_WORKER_SDK_LOG === '1';
const stopTimeoutMs = Number(env.FOREST_TEST_WORKER_STOP_TIMEOUT_MS ?? 5000);
const ignoreAbort = env.FOREST_TEST_WORKER_IGNORE_ABORT === '1';
const tickMs = Number(env.FOREST_TEST_WORKER_TICK_MS ?? 0);
const recordAborts = env.FOREST_TEST_WORKER_RECORD_ABORTS === '1';
const paramsDriven = env.FOREST_TEST_WORKER_PARAMS === '1';

// ---- records: JSON lines on stdout, coalesced per tick ----

let lines: string[] = [];
let flushQueued = false;

function flush(): void {
  flushQueued = false;
  if (lines.length === 0) return;
  const text = lines.join('');
  lines = [];
  process.stdout.write(text);
}

function record(value: Record<string, unknown>): void {
  lines.push(`${JSON.stringify(value)}\n`);
  if (!flushQueued) {
    flushQueued = true;
    setImmediate(flush);
  }
}

const stderr = (level: string) => (message: string) =>
  process.stderr.write(`${new Date().toISOString()} [${name}] ${level} ${message}\n`);

// ---- the handler ----

function abortable(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    const timer = ms === Infinity ? undefined : setTimeout(done, ms);
    function done() {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Sleeps `ms` of this process's own time: in ticks, so a SIGSTOP pauses it. */
async function sleepFor(ms: number, signal: AbortSignal): Promise<void> {
  if (tickMs <= 0) return abortable(ms, signal);
  for (let left = ms; left > 0; left -= tickMs) await abortable(Math.min(tickMs, left), signal);
}

function reasonText(reason: unknown): string {
  if (reason instanceof Error) return `${reason.name}: ${reason.message}`;
  return String(reason);
}

/** FNV-1a of `text`: a stable hash, so a fire fails (or not) the same way on every run. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** What the handler does for `ctx`: sleep how long, and whether it then throws. */
function behaviourOf(ctx: ForestJobContext): { sleepMs: number; fail: boolean } {
  const params = ctx.params as Record<string, unknown> | null;
  if (!paramsDriven || typeof params !== 'object' || params === null || Array.isArray(params)) {
    return { sleepMs, fail: false };
  }
  const number = (value: unknown, fallback: number) =>
    typeof value === 'number' && Number.isFinite(value) ? value : fallback;
  const failPercent = number(params.failPercent, 0);
  const failAttempts = number(params.failAttempts, 1);
  // The fire's first-attempt id (retries are `{first}.r{n}`), so its retries hash alike.
  const fire = ctx.executionId.replace(/\.r\d+$/, '');
  return {
    sleepMs: number(params.sleepMs, sleepMs),
    fail: failPercent > 0 && ctx.attempt <= failAttempts && fnv1a(fire) % 100 < failPercent,
  };
}

let worker: ForestWorker;

async function handler(ctx: ForestJobContext): Promise<unknown> {
  const startedMs = Date.now();
  const workerId = worker.status.workerId;
  record({
    ev: 'start',
    id: ctx.executionId,
    job: ctx.jobId,
    s: ctx.scheduledAt.getTime(),
    t: startedMs,
    w: workerId,
    a: ctx.attempt,
  });
  const onAbort = () =>
    record({
      ev: 'abort',
      id: ctx.executionId,
      t: Date.now(),
      w: workerId,
      reason: reasonText(ctx.signal.reason),
    });
  if (recordAborts) {
    if (ctx.signal.aborted) onAbort();
    else ctx.signal.addEventListener('abort', onAbort, { once: true });
  }
  let ok = false;
  try {
    if (logLine) ctx.logger.info('handled %s by %s (%s)', ctx.executionId, name, workerId);
    const behaviour = behaviourOf(ctx);
    // A handler that ignores its signal waits on one that never aborts.
    const waitOn = ignoreAbort ? new AbortController().signal : ctx.signal;
    if (block) await abortable(Infinity, waitOn);
    else if (behaviour.sleepMs > 0) await sleepFor(behaviour.sleepMs, waitOn);
    if (behaviour.fail) throw new Error(`planned failure of attempt ${ctx.attempt} (failPercent)`);
    ok = true;
    return returnResult ? { worker: workerId, name } : undefined;
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
    if (recordEnds) record({ ev: 'end', id: ctx.executionId, t: Date.now(), w: workerId, ok });
  }
}

// ---- lifecycle ----

async function main(): Promise<void> {
  const targets = (env.FOREST_TEST_WORKER_TARGETS || 't').split(',').filter(Boolean);
  const handlers = Object.fromEntries(targets.map((target) => [target, handler]));
  worker = new ForestWorker({
    nodes: (env.FOREST_TEST_WORKER_NODES ?? '').split(',').filter(Boolean),
    group: env.FOREST_TEST_WORKER_GROUP ?? '',
    concurrency: Number(env.FOREST_TEST_WORKER_CONCURRENCY ?? 4),
    handlers,
    host: name,
    // Empty or unset: no token (the child's environment has no FOREST_WORKER_TOKEN either).
    token: env.FOREST_TEST_WORKER_TOKEN || undefined,
    ...(env.FOREST_TEST_WORKER_POLL_WAIT_MS
      ? { pollWaitMs: Number(env.FOREST_TEST_WORKER_POLL_WAIT_MS) }
      : {}),
    logger: {
      log: sdkLog ? stderr('INFO') : () => undefined,
      warn: stderr('WARN'),
      error: stderr('ERROR'),
    },
  });

  let stopping = false;
  process.on('SIGTERM', () => {
    if (stopping) return;
    stopping = true;
    void worker
      .stop({ timeoutMs: stopTimeoutMs })
      .catch((error: unknown) => stderr('ERROR')(`stop failed: ${String(error)}`))
      .finally(() => {
        record({ ev: 'stopped', status: worker.status });
        flush();
        // stdout is a pipe: exit once what is queued has been handed over.
        process.stdout.write('', () => process.exit(0));
      });
  });

  // stdin is a pipe from the test: `start` lines, and its end when the test process is gone
  // (even SIGKILLed), so no worker outlives its test.
  let go!: () => void;
  const goLine = new Promise<void>((resolve) => (go = resolve));
  let buffered = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk: string) => {
    buffered += chunk;
    if (buffered.split('\n').some((line) => line.trim() === 'start')) go();
  });
  process.stdin.on('end', () => process.exit(3));
  record({ ev: 'starting', pid: process.pid, t: Date.now() });
  if (env.FOREST_TEST_WORKER_WAIT_FOR_GO === '1') await goLine;
  await worker.start();
  record({ ev: 'ready', w: worker.status.workerId, pid: process.pid, t: Date.now() });
}

main().catch((error: unknown) => {
  stderr('ERROR')(
    `worker failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
  );
  flush();
  process.exit(1);
});
