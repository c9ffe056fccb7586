/*
 * End-to-end benchmark: fire -> worker handler -> recorded, on a real etcd, with the
 * service as its own process (src/main.ts, as deployed: one node that leads, fires with its
 * default 1 s lookahead, dispatches and serves the worker protocol) and several worker
 * processes running the real SDK (test/support/worker-main.ts; the handler records when it
 * started). Prints; asserts nothing. Run with `npm run bench`.
 *
 * Two job mixes, each at each rate R (plain: 100, 1,000, 5,000 fires/s; policy: 1,000 and
 * 5,000), R per-second jobs written straight into the store, WARMUP_S seconds of fires,
 * then MEASURE_S seconds measured (scheduled times in [from, to)):
 *
 *   - plain: every job `concurrency: allow`, no retry, a handler that returns at once.
 *   - policy: a third of the jobs plain; a third `concurrency: forbid` (decided when due, not
 *     a lookahead early), of which one in FORBID_SLOW_EVERY has a handler of SLOW_HANDLER_MS
 *     (> 1 s), so about every other fire of those is recorded `skipped`; a third with
 *     `retry: {maxAttempts: 1, backoff: fixed, 200 ms}` whose handler fails the first attempt
 *     of FAIL_PERCENT % of the fires (a hash of the execution id), so those fires run again.
 *     One worker fleet serves the mix: the job's params steer the handler.
 *
 * Per run (the fires of the window; a fire is its first attempt and its retries):
 *
 *   - missed fires: R x MEASURE_S minus the first attempts that exist for the window (a fire
 *     recorded `skipped` is recorded: not missed); skipped fires counted apart
 *   - succeeded: fires whose last attempt ended `succeeded` (the rest by that status);
 *     retries: attempts >= 2 created, and how many succeeded
 *   - executions/s: executions (any attempt) that reached `succeeded` with finishedAt in the
 *     window, per second
 *   - fire lag: handler start - scheduled time of the first attempts that ran (skipped ones
 *     never start; one host: the workers' clock is ours), p50/p99/max, p99 per second, per
 *     kind of job in the policy mix, and handler starts that repeated an execution id
 *   - retry lag: a retry's handler start - the end of its backoff (retryAtMs)
 *   - recorded: finishedAt (the node committed `succeeded`) - scheduled time, first attempts
 *     (not of the slow-handler jobs)
 *   - written ahead: scheduled time - firedAt (the lookahead at work; < 0: written late;
 *     forbid fires are written when due, so about 0)
 *   - CPU of the service, etcd, the workers and this process, % of one core over the window;
 *     and of everything else on the host (other work competing for the cores makes the
 *     figures noisy: compare runs only when it is about 0)
 *   - etcd's slow watchers and pending watch events at the window's end: a watch that
 *     cannot keep up delays every assignment (and slot release) behind it
 *
 * Each run has its own etcd, service and workers, all stopped (data dirs removed) at its
 * end, also on failure; at each rate the plain run goes first, then the policy run. The
 * closing table puts the two mixes side by side. Overrides for quick runs:
 * BENCH_E2E_MIX=plain,policy BENCH_E2E_RATES=100,1000 (both mixes; default plain
 * 100,1000,5000) BENCH_E2E_POLICY_RATES=1000 (the policy mix only; default
 * BENCH_E2E_RATES, else 1000,5000) BENCH_E2E_WORKERS=4 BENCH_E2E_MEASURE_S=10
 * BENCH_E2E_SLOTS=<capacity per worker>.
 */
import { cpus } from 'node:os';
import {
  ExecutionRecord,
  firstAttemptId,
  GroupRecord,
  JobRecord,
  Keyspace,
} from '@forest/protocol';
import { EtcdStore, rangePages } from '@forest/store';
import { EtcdHarness } from '../support/etcd-harness';
import {
  hostCpuMicros,
  percentile,
  printColumns,
  processCpuMicros,
  putAll,
  runBenchmark,
  sleep,
} from './bench-support';
import { NodeProcess } from '../support/node-process';
import { WorkerProcess } from '../support/worker-process';

type Mix = 'plain' | 'policy';
const MIXES = (process.env.BENCH_E2E_MIX ?? 'plain,policy')
  .split(',')
  .filter((mix): mix is Mix => mix === 'plain' || mix === 'policy');
const RATES = listFromEnv('BENCH_E2E_RATES', [100, 1000, 5000]);
const POLICY_RATES = listFromEnv(
  'BENCH_E2E_POLICY_RATES',
  process.env.BENCH_E2E_RATES ? RATES : [1000, 5000],
);
const WORKERS = Number(process.env.BENCH_E2E_WORKERS ?? 4);
/** Jobs become active this long after they are written: time to plan them all. */
const START_DELAY_MS = 4000;
/** Seconds of fires before the measured window. */
const WARMUP_S = 4;
const MEASURE_S = Number(process.env.BENCH_E2E_MEASURE_S ?? 10);
/** After the window: at most this long for its last fires to start. */
const DRAIN_MAX_MS = 8000;
const GROUP = 'bench';
const TARGET = 'bench.noop';
const PUTS_PER_TXN = 100;
const WRITE_LANES = 8;

/** Policy mix: one forbid job in this many has the slow handler. */
const FORBID_SLOW_EVERY = 10;
/** Longer than the 1 s between fires: the next fire finds the job busy and is skipped. */
const SLOW_HANDLER_MS = 1500;
/** Policy mix: the share of the retry jobs' fires whose first attempt fails. */
const FAIL_PERCENT = 10;
const RETRY_POLICY: JobRecord['retry'] = {
  maxAttempts: 1,
  backoff: 'fixed',
  initialDelayMs: 200,
  maxDelayMs: 200,
};
/** Policy mix: the drain ends once no handler of the window started for this long. */
const DRAIN_QUIET_MS = 1500;

const TARGETS = {
  lagP99Ms: { 1000: 20, 5000: 100 } as Record<number, number>,
  executionsPerS: 5000,
};

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

function listFromEnv(name: string, fallback: number[]): number[] {
  const value = process.env[name];
  return value ? value.split(',').map(Number).filter(Boolean) : fallback;
}

/**
 * Slots per worker: every fire occupies one from its write (up to 1 s early) until its final
 * report is recorded, so a worker holds more than a second's share; this leaves room for
 * several seconds of backlog, so capacity is not what the benchmark measures.
 */
function slotsPerWorker(rate: number): number {
  const override = Number(process.env.BENCH_E2E_SLOTS ?? 0);
  return override || Math.min(10_000, Math.max(100, Math.ceil((rate * 8) / WORKERS)));
}

function ms(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(0)} ms` : 'n/a';
}

function pct(value: number | undefined): string {
  return value === undefined ? 'n/a' : `${value.toFixed(0)}%`;
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** etcd's watch backlog gauges: watchers that fell behind, and the events they still owe. */
async function etcdWatchBacklog(
  etcd: EtcdHarness,
): Promise<{ slowWatchers: number; pendingEvents: number } | undefined> {
  try {
    const text = await (await fetch(`http://${etcd.endpoint}/metrics`)).text();
    const gauge = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
    return {
      slowWatchers: gauge('etcd_debugging_mvcc_slow_watcher_total'),
      pendingEvents: gauge('etcd_debugging_mvcc_pending_events_total'),
    };
  } catch {
    return undefined;
  }
}

/** The kinds of job in a mix: plain, forbid (fast or slow handler), retry (some fail). */
type JobKind = 'plain' | 'forbid' | 'forbid-slow' | 'retry';
const JOB_KINDS: JobKind[] = ['plain', 'forbid', 'forbid-slow', 'retry'];

/** Job `i`'s kind: all plain, or (policy) by thirds, a few of the forbid jobs slow. */
function jobKind(mix: Mix, i: number): JobKind {
  if (mix === 'plain' || i % 3 === 0) return 'plain';
  if (i % 3 === 2) return 'retry';
  return Math.floor(i / 3) % FORBID_SLOW_EVERY === 0 ? 'forbid-slow' : 'forbid';
}

/** A per-second job of `kind` as the API writes it (every default filled in). */
function jobRecord(id: string, kind: JobKind, now: string, activeSince: string): JobRecord {
  return {
    id,
    name: id,
    group: GROUP,
    schedule: { cron: '* * * * * *', timezone: 'UTC' },
    target: TARGET,
    // Read by the workers (paramsDriven): how long the handler runs, how often it fails.
    params:
      kind === 'forbid-slow'
        ? { sleepMs: SLOW_HANDLER_MS }
        : kind === 'retry'
          ? { failPercent: FAIL_PERCENT }
          : null,
    state: 'active',
    dispatch: { strategy: 'round-robin', options: {} },
    concurrency: kind === 'forbid' || kind === 'forbid-slow' ? 'forbid' : 'allow',
    timeoutMs: 0,
    retry:
      kind === 'retry'
        ? RETRY_POLICY
        : { maxAttempts: 0, backoff: 'exponential', initialDelayMs: 1000, maxDelayMs: 60_000 },
    misfire: { policy: 'fire_once', catchUpWindowMs: 3_600_000 },
    alerts: { channels: [], events: ['failed', 'timed_out', 'lost'] },
    remark: '',
    createdAt: now,
    updatedAt: now,
    activeSince,
  };
}

function groupRecord(now: string): GroupRecord {
  return { name: GROUP, remark: '', createdAt: now, updatedAt: now };
}

// ---------------------------------------------------------------------------------------------
// One rate
// ---------------------------------------------------------------------------------------------

interface Lag {
  p50: number;
  p99: number;
  max: number;
}

interface Figures {
  mix: Mix;
  rate: number;
  slots: number;
  /** Fires scheduled in the window: R x MEASURE_S. */
  expected: number;
  /** First attempts that exist for the window (skipped ones included). */
  created: number;
  /** Fires recorded `skipped` (the job was busy: forbid). */
  skipped: number;
  /** Fires whose last attempt ended `succeeded`. */
  succeeded: number;
  /** Fires neither succeeded nor skipped at the end, by their last attempt's status. */
  unfinished: Record<string, number>;
  /** First attempts that ended failed / timed out / lost. */
  firstFailed: number;
  retries: { created: number; succeeded: number; lag: Lag };
  executionsPerS: number;
  /** Handler starts of first attempts, and of retries. */
  starts: number;
  retryStarts: number;
  ranTwice: number;
  /** Handler starts before the scheduled time (the SDK must hold early assignments). */
  startedEarly: number;
  lag: Lag;
  /** Fire lag by kind of job (only the kinds the mix has). */
  lagByKind: Partial<Record<JobKind, Lag>>;
  lagP99PerSecond: number[];
  recorded: { p50: number; p99: number };
  ahead: { p50: number; min: number };
  /** % of one core over the window. */
  /** `other`: the rest of the host (other work on the machine: the run competed with it). */
  cpu: { service?: number; etcd?: number; workers?: number; bench?: number; other?: number };
  watchBacklog?: { slowWatchers: number; pendingEvents: number };
  drainMs: number;
}

function lagOf(sorted: number[]): Lag {
  return {
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    max: sorted.at(-1) ?? Number.NaN,
  };
}

/** The host's CPU less this run's processes (undefined if any is unknown). */
function otherCpu(host: number | undefined, ours: (number | undefined)[]): number | undefined {
  let other = host;
  for (const value of ours)
    other = other === undefined || value === undefined ? undefined : other - value;
  return other;
}

function ascending(values: number[]): number[] {
  return values.sort((a, b) => a - b);
}

async function runRate(mix: Mix, rate: number): Promise<Figures> {
  const etcd = await EtcdHarness.start();
  let node: NodeProcess | undefined;
  const workers: WorkerProcess[] = [];
  let store: EtcdStore | undefined;
  try {
    node = await NodeProcess.start({
      FOREST_ETCD_ENDPOINTS: etcd.endpoint,
      FOREST_NODE_ID: `bench-${mix}-${rate}`,
      FOREST_LOG_LEVEL: 'warn',
    });
    const baseUrl = node.baseUrl;
    const getJson = async <T>(path: string): Promise<T> =>
      (await (await fetch(`${baseUrl}${path}`)).json()) as T;
    await waitFor(
      'the node to lead',
      async () => (await getJson<{ leader: boolean }>('/api/nodes/self')).leader,
      20_000,
    );
    store = new EtcdStore({ endpoints: [etcd.endpoint], prefix: '/forest/' });
    await store.put(Keyspace.group(GROUP), JSON.stringify(groupRecord(new Date().toISOString())));

    const slots = slotsPerWorker(rate);
    const kindOf = new Map<string, JobKind>();
    const lags: number[] = [];
    const lagsByKind = new Map<JobKind, number[]>();
    const perSecond: number[][] = Array.from({ length: MEASURE_S }, () => []);
    const seen = new Set<string>();
    /** Retry id -> its handler start (ms). */
    const retryStarts = new Map<string, number>();
    let ranTwice = 0;
    let startedEarly = 0;
    let lastStartAt = 0;
    let from = Number.POSITIVE_INFINITY;
    let to = Number.POSITIVE_INFINITY;
    const started = await Promise.all(
      Array.from({ length: WORKERS }, (_, i) =>
        WorkerProcess.start({
          nodes: [baseUrl],
          group: GROUP,
          name: `w${i + 1}`,
          targets: [TARGET],
          concurrency: slots,
          record: 'start',
          keepRecords: false,
          paramsDriven: mix === 'policy',
        }),
      ),
    );
    workers.push(...started);
    for (const worker of workers) {
      worker.onRecord((record) => {
        if (record.ev !== 'start' || record.s < from || record.s >= to) return;
        lastStartAt = Date.now();
        if (record.a > 1) {
          if (retryStarts.has(record.id)) ranTwice++;
          else retryStarts.set(record.id, record.t);
          return;
        }
        if (seen.has(record.id)) ranTwice++;
        seen.add(record.id);
        const lag = record.t - record.s;
        if (lag < 0) startedEarly++;
        lags.push(lag);
        perSecond[Math.floor((record.s - from) / 1000)].push(lag);
        const kind = kindOf.get(record.job) ?? 'plain';
        let byKind = lagsByKind.get(kind);
        if (!byKind) lagsByKind.set(kind, (byKind = []));
        byKind.push(lag);
      });
    }

    // Active from a few seconds ahead: the node plans them all before the first fire, so the
    // run starts without a burst of misfire catch-ups.
    const activeSince = Date.now() + START_DELAY_MS;
    const firstFire = Math.floor(activeSince / 1000) * 1000 + 1000;
    const now = new Date().toISOString();
    const jobs: [string, string][] = [];
    for (let i = 0; i < rate; i++) {
      const id = `job-${String(i).padStart(5, '0')}`;
      const kind = jobKind(mix, i);
      kindOf.set(id, kind);
      const record = jobRecord(id, kind, now, new Date(activeSince).toISOString());
      jobs.push([Keyspace.job(id), JSON.stringify(record)]);
    }
    await putAll(store, jobs, PUTS_PER_TXN, WRITE_LANES);
    await waitFor(
      'every job in the plan',
      async () => {
        const plan = await getJson<{ total: number; firing: boolean }>('/api/plan?limit=1');
        return plan.firing && plan.total === rate;
      },
      30_000,
    );

    await sleep(firstFire + WARMUP_S * 1000 - Date.now());
    from = Math.ceil((Date.now() + 1) / 1000) * 1000;
    to = from + MEASURE_S * 1000;
    await sleep(from - Date.now());
    const cpu = () => ({
      service: processCpuMicros(node?.child.pid),
      etcd: processCpuMicros(etcd.pid),
      workers: workers
        .map((worker) => processCpuMicros(worker.pid))
        .reduce<number | undefined>(
          (sum, v) => (sum === undefined || v === undefined ? undefined : sum + v),
          0,
        ),
      bench: ((usage) => usage.user + usage.system)(process.cpuUsage()),
      host: hostCpuMicros(),
    });
    const cpuStart = cpu();
    await sleep(to - Date.now());
    const cpuEnd = cpu();
    const watchBacklog = await etcdWatchBacklog(etcd);
    const percent = (key: keyof ReturnType<typeof cpu>) => {
      const [a, b] = [cpuStart[key], cpuEnd[key]];
      return a === undefined || b === undefined ? undefined : ((b - a) / (MEASURE_S * 1e6)) * 100;
    };

    // Until every fire of the window has started (or DRAIN_MAX_MS), then its reports land.
    // The policy mix does not know ahead how many fires are skipped or retried: until no
    // handler of the window has started for DRAIN_QUIET_MS.
    const drainStart = Date.now();
    const expected = rate * MEASURE_S;
    const drained = () =>
      mix === 'plain'
        ? seen.size >= expected
        : Date.now() - Math.max(lastStartAt, drainStart) >= DRAIN_QUIET_MS;
    while (!drained() && Date.now() - drainStart < DRAIN_MAX_MS) await sleep(100);
    await sleep(1000);
    const drainMs = Date.now() - drainStart;

    // Stop the workers (they finish, report, leave) and the service: etcd's state is final.
    await Promise.all(workers.map((worker) => worker.stop('SIGTERM')));
    await node.stop('SIGTERM');

    let created = 0;
    let firstFailed = 0;
    let finishedInWindow = 0;
    const recorded: number[] = [];
    const ahead: number[] = [];
    /** Fire (first-attempt id) -> its last attempt so far: the attempt and its status. */
    const outcomes = new Map<string, { attempt: number; status: string }>();
    let retriesCreated = 0;
    let retriesSucceeded = 0;
    const retryLags: number[] = [];
    for await (const page of rangePages(store, Keyspace.executions)) {
      for (const kv of page.kvs) {
        const record = JSON.parse(kv.value) as ExecutionRecord;
        const finishedMs = record.finishedAt ? Date.parse(record.finishedAt) : Number.NaN;
        if (record.status === 'succeeded' && finishedMs >= from && finishedMs < to) {
          finishedInWindow++;
        }
        if (record.scheduledMs < from || record.scheduledMs >= to) continue;
        const fire = firstAttemptId(record.id);
        const last = outcomes.get(fire);
        if (!last || last.attempt < record.attempt) {
          outcomes.set(fire, { attempt: record.attempt, status: record.status });
        }
        if (record.attempt > 1) {
          retriesCreated++;
          if (record.status === 'succeeded') retriesSucceeded++;
          const startedAt = retryStarts.get(record.id);
          if (startedAt !== undefined && record.retryAtMs !== undefined) {
            retryLags.push(startedAt - record.retryAtMs);
          }
          continue;
        }
        created++;
        ahead.push(record.scheduledMs - Date.parse(record.firedAt));
        // Slow handlers would only add their own run time.
        if (record.status === 'succeeded' && kindOf.get(record.jobId) !== 'forbid-slow') {
          recorded.push(finishedMs - record.scheduledMs);
        }
        if (['failed', 'timed_out', 'lost'].includes(record.status)) firstFailed++;
      }
    }
    let succeeded = 0;
    let skipped = 0;
    const unfinished: Record<string, number> = {};
    for (const { status } of outcomes.values()) {
      if (status === 'succeeded') succeeded++;
      else if (status === 'skipped') skipped++;
      else unfinished[status] = (unfinished[status] ?? 0) + 1;
    }
    ascending(lags);
    ascending(recorded);
    ascending(ahead);
    ascending(retryLags);
    const lagByKind: Partial<Record<JobKind, Lag>> = {};
    for (const kind of JOB_KINDS) {
      const values = lagsByKind.get(kind);
      if (values) lagByKind[kind] = lagOf(ascending(values));
    }
    return {
      mix,
      rate,
      slots,
      expected,
      created,
      skipped,
      succeeded,
      unfinished,
      firstFailed,
      retries: { created: retriesCreated, succeeded: retriesSucceeded, lag: lagOf(retryLags) },
      executionsPerS: finishedInWindow / MEASURE_S,
      starts: seen.size,
      retryStarts: retryStarts.size,
      ranTwice,
      startedEarly,
      lag: lagOf(lags),
      lagByKind,
      lagP99PerSecond: perSecond.map((second) => percentile(ascending(second), 0.99)),
      recorded: { p50: percentile(recorded, 0.5), p99: percentile(recorded, 0.99) },
      ahead: { p50: percentile(ahead, 0.5), min: ahead[0] ?? NaN },
      cpu: {
        service: percent('service'),
        etcd: percent('etcd'),
        workers: percent('workers'),
        bench: percent('bench'),
        other: otherCpu(percent('host'), [
          percent('service'),
          percent('etcd'),
          percent('workers'),
          percent('bench'),
        ]),
      },
      watchBacklog,
      drainMs,
    };
  } catch (error) {
    console.error(`--- service output (tail) ---\n${node?.log.slice(-5000) ?? ''}`);
    for (const worker of workers) console.error(worker.describe().slice(-3000));
    throw error;
  } finally {
    await Promise.all(workers.map((worker) => worker.stop('SIGKILL')));
    await node?.stop('SIGKILL');
    await store?.close();
    await etcd.stop();
  }
}

// ---------------------------------------------------------------------------------------------

function printRate(f: Figures): void {
  const unfinished = Object.entries(f.unfinished)
    .map(([status, n]) => `${status} ${n}`)
    .join(', ');
  const backlog = f.watchBacklog
    ? `etcd slow watchers ${f.watchBacklog.slowWatchers}, pending watch events ${f.watchBacklog.pendingEvents}`
    : 'etcd watch backlog n/a';
  const policy =
    f.mix === 'policy'
      ? ` | first attempts failed ${f.firstFailed}, retries created ${f.retries.created}, ` +
        `succeeded ${f.retries.succeeded}, retry lag (start - backoff end) p50 ` +
        `${ms(f.retries.lag.p50)} p99 ${ms(f.retries.lag.p99)} max ${ms(f.retries.lag.max)}`
      : '';
  console.log(
    `e2e ${f.mix.padEnd(6)} ${f.rate} jobs x 1/s for ${MEASURE_S} s, ${WORKERS} workers x ${f.slots} slots: ` +
      `created ${f.created}/${f.expected} (missed ${f.expected - f.created}, skipped ${f.skipped}), ` +
      `succeeded ${f.succeeded}${unfinished ? ` (not: ${unfinished})` : ''}, ` +
      `${f.executionsPerS.toFixed(0)} executions/s${policy} | ` +
      `lag p50 ${ms(f.lag.p50)} p99 ${ms(f.lag.p99)} max ${ms(f.lag.max)} (${f.starts} handler ` +
      `starts, ${f.retryStarts} retry starts, ran twice ${f.ranTwice}, started early ${f.startedEarly}) | recorded p50 ${ms(f.recorded.p50)} p99 ${ms(f.recorded.p99)} ` +
      `| written ahead p50 ${ms(f.ahead.p50)} min ${ms(f.ahead.min)} | CPU service ` +
      `${pct(f.cpu.service)} etcd ${pct(f.cpu.etcd)} workers ${pct(f.cpu.workers)} bench ` +
      `${pct(f.cpu.bench)} other ${pct(f.cpu.other)} | ${backlog} | drained in ${f.drainMs} ms`,
  );
  if (f.mix === 'policy') {
    const byKind = Object.entries(f.lagByKind)
      .map(([kind, lag]) => `${kind} ${ms(lag.p50)} / ${ms(lag.p99)} / ${ms(lag.max)}`)
      .join(', ');
    console.log(`           lag p50 / p99 / max by job: ${byKind}`);
  }
  console.log(
    `           lag p99 per second: ${f.lagP99PerSecond.map((v) => (Number.isFinite(v) ? v.toFixed(0) : '-')).join(' ')} ms`,
  );
}

/** The closing table: a row per figure and rate, a column per mix. */
function printSummary(all: Figures[]): void {
  const rates = [...new Set(all.map((f) => f.rate))].sort((a, b) => a - b);
  const mixes = MIXES.filter((mix) => all.some((f) => f.mix === mix));
  const rows: string[][] = [];
  for (const rate of rates) {
    const at = `${rate} fires/s`;
    const runs = mixes.map((mix) => all.find((f) => f.mix === mix && f.rate === rate));
    const row = (
      name: string,
      value: (f: Figures) => string | undefined,
      target = '',
      always = true,
    ) => {
      const cells = runs.map((f) => (f ? (value(f) ?? '-') : 'n/a'));
      if (always || cells.some((cell) => cell !== '-' && cell !== 'n/a')) {
        rows.push([`${at}: ${name}`, ...cells, target]);
      }
    };
    const policyOnly = (value: (f: Figures) => string) => (f: Figures) =>
      f.mix === 'policy' ? value(f) : undefined;
    const lagTarget = TARGETS.lagP99Ms[rate];
    row('missed fires', (f) => `${f.expected - f.created}`, rate >= 1000 ? '0' : '');
    row(
      'skipped fires (forbid)',
      policyOnly((f) => `${f.skipped}`),
      '',
      false,
    );
    row('succeeded fires', (f) => `${f.succeeded}/${f.expected}`);
    row(
      'first attempts failed',
      policyOnly((f) => `${f.firstFailed}`),
      '',
      false,
    );
    row(
      'retries created / succeeded',
      policyOnly((f) => `${f.retries.created} / ${f.retries.succeeded}`),
      '',
      false,
    );
    row(
      'executions/s',
      (f) => `${f.executionsPerS.toFixed(0)}/s`,
      rate === 5000 ? `>= ${TARGETS.executionsPerS}/s` : '',
    );
    row('lag p50', (f) => ms(f.lag.p50));
    row('lag p99', (f) => ms(f.lag.p99), lagTarget ? `<= ${lagTarget} ms (plain)` : '');
    row('lag max', (f) => ms(f.lag.max));
    for (const kind of JOB_KINDS.filter((k) => k !== 'plain')) {
      row(
        `lag p99, ${kind} jobs`,
        policyOnly((f) => ms(f.lagByKind[kind]?.p99 ?? NaN)),
        '',
        false,
      );
    }
    row(
      'retry lag p50 / p99',
      policyOnly((f) => `${ms(f.retries.lag.p50)} / ${ms(f.retries.lag.p99)}`),
      '',
      false,
    );
    row('recorded p99', (f) => ms(f.recorded.p99));
    row('written ahead p50', (f) => ms(f.ahead.p50));
    row(
      'CPU service / etcd / workers',
      (f) => `${pct(f.cpu.service)} / ${pct(f.cpu.etcd)} / ${pct(f.cpu.workers)}`,
    );
    row('CPU of other processes', (f) => pct(f.cpu.other), 'about 0 (else: noisy)');
  }
  printColumns(['figure', ...mixes, 'target'], rows, [40, ...mixes.map(() => 18)]);
}

async function main(): Promise<void> {
  console.log(
    `end-to-end benchmark (${new Date().toISOString()}, node ${process.version}, ` +
      `${cpus().length} CPUs; etcd, the service, ${WORKERS} worker processes and this one share them)`,
  );
  const rates = [
    ...new Set([
      ...(MIXES.includes('plain') ? RATES : []),
      ...(MIXES.includes('policy') ? POLICY_RATES : []),
    ]),
  ].sort((a, b) => a - b);
  const all: Figures[] = [];
  for (const rate of rates) {
    for (const mix of MIXES) {
      if (!(mix === 'plain' ? RATES : POLICY_RATES).includes(rate)) continue;
      const figures = await runRate(mix, rate);
      printRate(figures);
      all.push(figures);
    }
  }
  printSummary(all);
}

runBenchmark(main);
