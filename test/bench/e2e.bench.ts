/*
 * End-to-end benchmark: fire -> worker handler -> recorded, on a real etcd, with the
 * service as its own process (src/main.ts, as deployed: one node that leads, fires with its
 * default 1 s lookahead, dispatches and serves the worker protocol) and several worker
 * processes running the real SDK (test/support/worker-main.ts; the handler only records
 * when it started). Prints; asserts nothing. Run with `npm run bench`.
 *
 * For each rate R (100, 1,000, 5,000 fires/s): R per-second jobs written straight into the
 * store, WARMUP_S seconds of fires, then MEASURE_S seconds measured (scheduled times in
 * [from, to)):
 *
 *   - missed fires: R x MEASURE_S minus the executions that exist for the window
 *   - executions/s: executions that reached `succeeded` with finishedAt in the window, per
 *     second; and how many of the window's executions ended `succeeded` (the rest by status)
 *   - fire lag: handler start - scheduled time (one host: the workers' clock is ours),
 *     p50/p99/max, p99 per second, and handler starts that repeated an execution id
 *   - recorded: finishedAt (the node committed `succeeded`) - scheduled time, p50/p99
 *   - written ahead: scheduled time - firedAt (the lookahead at work; < 0: written late)
 *   - CPU of the service, etcd, the workers and this process, % of one core over the window
 *   - etcd's slow watchers and pending watch events at the window's end: a watch that
 *     cannot keep up delays every assignment (and slot release) behind it
 *
 * Each rate runs on its own etcd, service and workers, all stopped (data dirs removed) at
 * its end, also on failure. Overrides for quick runs: BENCH_E2E_RATES=100,1000
 * BENCH_E2E_WORKERS=4 BENCH_E2E_MEASURE_S=10 BENCH_E2E_SLOTS=<capacity per worker>.
 */
import { cpus } from 'node:os';
import { ExecutionRecord, GroupRecord, JobRecord, Keyspace } from '@forest/protocol';
import { EtcdStore, rangePages } from '@forest/store';
import { EtcdHarness } from '../support/etcd-harness';
import {
  percentile,
  printTable,
  processCpuMicros,
  putAll,
  runBenchmark,
  sleep,
} from './bench-support';
import { NodeProcess } from '../support/node-process';
import { WorkerProcess } from '../support/worker-process';

const RATES = listFromEnv('BENCH_E2E_RATES', [100, 1000, 5000]);
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

/** A per-second job as the API writes it (every default filled in). */
function jobRecord(id: string, now: string, activeSince: string): JobRecord {
  return {
    id,
    name: id,
    group: GROUP,
    schedule: { cron: '* * * * * *', timezone: 'UTC' },
    target: TARGET,
    params: null,
    state: 'active',
    dispatch: { strategy: 'round-robin', options: {} },
    concurrency: 'allow',
    timeoutMs: 0,
    retry: { maxAttempts: 0, backoff: 'exponential', initialDelayMs: 1000, maxDelayMs: 60_000 },
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

interface Figures {
  rate: number;
  slots: number;
  expected: number;
  created: number;
  succeeded: number;
  /** Window executions not succeeded at the end, by status. */
  unfinished: Record<string, number>;
  executionsPerS: number;
  starts: number;
  ranTwice: number;
  /** Handler starts before the scheduled time (the SDK must hold early assignments). */
  startedEarly: number;
  lag: { p50: number; p99: number; max: number };
  lagP99PerSecond: number[];
  recorded: { p50: number; p99: number };
  ahead: { p50: number; min: number };
  /** % of one core over the window. */
  cpu: { service?: number; etcd?: number; workers?: number; bench?: number };
  watchBacklog?: { slowWatchers: number; pendingEvents: number };
  drainMs: number;
}

async function runRate(rate: number): Promise<Figures> {
  const etcd = await EtcdHarness.start();
  let node: NodeProcess | undefined;
  const workers: WorkerProcess[] = [];
  let store: EtcdStore | undefined;
  try {
    node = await NodeProcess.start({
      FOREST_ETCD_ENDPOINTS: etcd.endpoint,
      FOREST_NODE_ID: `bench-${rate}`,
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
    const lags: number[] = [];
    const perSecond: number[][] = Array.from({ length: MEASURE_S }, () => []);
    const seen = new Set<string>();
    let ranTwice = 0;
    let startedEarly = 0;
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
        }),
      ),
    );
    workers.push(...started);
    for (const worker of workers) {
      worker.onRecord((record) => {
        if (record.ev !== 'start' || record.s < from || record.s >= to) return;
        if (seen.has(record.id)) ranTwice++;
        seen.add(record.id);
        const lag = record.t - record.s;
        if (lag < 0) startedEarly++;
        lags.push(lag);
        perSecond[Math.floor((record.s - from) / 1000)].push(lag);
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
      const record = jobRecord(id, now, new Date(activeSince).toISOString());
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
    const drainStart = Date.now();
    const expected = rate * MEASURE_S;
    while (seen.size < expected && Date.now() - drainStart < DRAIN_MAX_MS) await sleep(100);
    await sleep(1000);
    const drainMs = Date.now() - drainStart;

    // Stop the workers (they finish, report, leave) and the service: etcd's state is final.
    await Promise.all(workers.map((worker) => worker.stop('SIGTERM')));
    await node.stop('SIGTERM');

    let created = 0;
    let succeeded = 0;
    let finishedInWindow = 0;
    const unfinished: Record<string, number> = {};
    const recorded: number[] = [];
    const ahead: number[] = [];
    for await (const page of rangePages(store, Keyspace.executions)) {
      for (const kv of page.kvs) {
        const record = JSON.parse(kv.value) as ExecutionRecord;
        const finishedMs = record.finishedAt ? Date.parse(record.finishedAt) : Number.NaN;
        if (record.status === 'succeeded' && finishedMs >= from && finishedMs < to) {
          finishedInWindow++;
        }
        if (record.scheduledMs < from || record.scheduledMs >= to) continue;
        created++;
        ahead.push(record.scheduledMs - Date.parse(record.firedAt));
        if (record.status === 'succeeded') {
          succeeded++;
          recorded.push(finishedMs - record.scheduledMs);
        } else {
          unfinished[record.status] = (unfinished[record.status] ?? 0) + 1;
        }
      }
    }
    const sort = (values: number[]) => values.sort((a, b) => a - b);
    sort(lags);
    sort(recorded);
    sort(ahead);
    return {
      rate,
      slots,
      expected,
      created,
      succeeded,
      unfinished,
      executionsPerS: finishedInWindow / MEASURE_S,
      starts: seen.size,
      ranTwice,
      startedEarly,
      lag: { p50: percentile(lags, 0.5), p99: percentile(lags, 0.99), max: lags.at(-1) ?? NaN },
      lagP99PerSecond: perSecond.map((second) => percentile(sort(second), 0.99)),
      recorded: { p50: percentile(recorded, 0.5), p99: percentile(recorded, 0.99) },
      ahead: { p50: percentile(ahead, 0.5), min: ahead[0] ?? NaN },
      cpu: {
        service: percent('service'),
        etcd: percent('etcd'),
        workers: percent('workers'),
        bench: percent('bench'),
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
  console.log(
    `e2e      ${f.rate} jobs x 1/s for ${MEASURE_S} s, ${WORKERS} workers x ${f.slots} slots: ` +
      `created ${f.created}/${f.expected} (missed ${f.expected - f.created}), succeeded ${f.succeeded}` +
      `${unfinished ? ` (not: ${unfinished})` : ''}, ${f.executionsPerS.toFixed(0)} executions/s | ` +
      `lag p50 ${ms(f.lag.p50)} p99 ${ms(f.lag.p99)} max ${ms(f.lag.max)} (${f.starts} handler ` +
      `starts, ran twice ${f.ranTwice}, started early ${f.startedEarly}) | recorded p50 ${ms(f.recorded.p50)} p99 ${ms(f.recorded.p99)} ` +
      `| written ahead p50 ${ms(f.ahead.p50)} min ${ms(f.ahead.min)} | CPU service ` +
      `${pct(f.cpu.service)} etcd ${pct(f.cpu.etcd)} workers ${pct(f.cpu.workers)} bench ` +
      `${pct(f.cpu.bench)} | ${backlog} | drained in ${f.drainMs} ms`,
  );
  console.log(
    `         lag p99 per second: ${f.lagP99PerSecond.map((v) => v.toFixed(0)).join(' ')} ms`,
  );
}

async function main(): Promise<void> {
  console.log(
    `end-to-end benchmark (${new Date().toISOString()}, node ${process.version}, ` +
      `${cpus().length} CPUs; etcd, the service, ${WORKERS} worker processes and this one share them)`,
  );
  const all: Figures[] = [];
  for (const rate of RATES) {
    const figures = await runRate(rate);
    printRate(figures);
    all.push(figures);
  }
  const rows: [string, string, string][] = [];
  for (const f of all) {
    const at = `${f.rate} fires/s`;
    const lagTarget = TARGETS.lagP99Ms[f.rate];
    rows.push(
      [`${at}: missed fires`, `${f.expected - f.created}`, f.rate >= 1000 ? '0' : ''],
      [`${at}: succeeded`, `${f.succeeded}/${f.expected}`, ''],
      [
        `${at}: executions/s`,
        `${f.executionsPerS.toFixed(0)}/s`,
        f.rate === 5000 ? `>= ${TARGETS.executionsPerS}/s` : '',
      ],
      [`${at}: lag p50`, ms(f.lag.p50), ''],
      [`${at}: lag p99`, ms(f.lag.p99), lagTarget ? `<= ${lagTarget} ms` : ''],
      [`${at}: lag max`, ms(f.lag.max), ''],
      [`${at}: recorded p99`, ms(f.recorded.p99), ''],
      [
        `${at}: CPU service / etcd / workers`,
        `${pct(f.cpu.service)} / ${pct(f.cpu.etcd)} / ${pct(f.cpu.workers)}`,
        '',
      ],
    );
  }
  printTable(rows, 40, 18);
}

runBenchmark(main);
