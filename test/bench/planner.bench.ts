/*
 * Planner benchmark on a real etcd: the figures behind the planner's targets. Prints;
 * asserts nothing. Run with `npm run bench` (needs `node --expose-gc` for heap figures).
 *
 *   - load: 100,000 jobs (and a `jobstate` per job, as after they have all fired once)
 *     loaded into a Plan by a PlanFeed: load time, heap bytes per job, rebaseAll time
 *   - fire: 1,000 and 5,000 per-second jobs on one leader node (the real app, in this
 *     process): fire lag (execution committed - scheduled time) p50/p99/max, fires/s
 *     achieved, missed fires, CPU per fire of this process and of etcd; once with fires
 *     written at their scheduled time (lookahead 0) and once with the default 1 s lookahead
 *     (negative lag: committed that long before the scheduled time)
 *
 * Every section runs on its own etcd, which is stopped (and its data dir removed) at the
 * end of the section, also on failure.
 */
import { randomUUID } from 'node:crypto';
import { cpus } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Logger } from '@nestjs/common';
import { GroupRecord, JobRecord, JobStateRecord, Keyspace } from '@forest/protocol';
import { CoordinationStore, EtcdStore } from '@forest/store';
import { systemClock } from '../../src/planner/clock';
import { latestFires } from '../../src/planner/due-fires';
import { Plan } from '../../src/planner/plan';
import { PlanFeed } from '../../src/planner/plan-feed';
import { PlannerService } from '../../src/planner/planner.service';
import { CronSchedule } from '../../src/schedule/cron-schedule';
import { startTestApp, TestApp } from '../support/app-harness';
import { EtcdHarness } from '../support/etcd-harness';
import {
  percentile,
  printTable,
  processCpuMicros,
  putAll,
  runBenchmark,
  sleep,
} from './bench-support';

const LOAD_JOBS = 100_000;
const LOAD_GROUPS = 50;
const PUTS_PER_TXN = 100;
/** PlanFeed's page size (plan-feed.ts). */
const PAGE_SIZE = 1000;
const WRITE_LANES = 8;
const FIRE_RATES = [1000, 5000];
/**
 * 0: each fire is written at its scheduled time (lag = the cost of committing a burst);
 * 1000 (the default): written up to 1 s ahead, so lag is negative while bursts keep up.
 */
const LOOKAHEADS_MS = [0, 1000];
const WARMUP_S = 3;
const MEASURE_S = 10;
/** After the last measured second: time for its fires to commit. */
const DRAIN_MS = 2000;

const TARGETS = {
  loadS: 5,
  bytesPerJob: 1024,
  lagP99Ms: 20,
};

/** A few dozen schedules, 5- and 6-field, macros included: what 100k real jobs look like. */
const CRONS = [
  '* * * * *',
  '*/5 * * * *',
  '*/10 * * * *',
  '*/15 * * * *',
  '*/30 * * * *',
  '0 * * * *',
  '15 * * * *',
  '30 */2 * * *',
  '0 */6 * * *',
  '0 0 * * *',
  '30 2 * * *',
  '0 3 * * *',
  '45 4 * * *',
  '0 9 * * 1-5',
  '30 17 * * 1-5',
  '0 12 * * 6,0',
  '0 0 * * 0',
  '0 6 1 * *',
  '0 0 1 1 *',
  '0 8-18 * * 1-5',
  '*/20 9-17 * * 1-5',
  '5,35 * * * *',
  '0 1 15 * *',
  '0 22 * * 5',
  '*/30 * * * * *',
  '0 */5 * * * *',
  '10 * * * * *',
  '@hourly',
  '@daily',
  '@weekly',
  '@monthly',
  '0 0 L * *',
];
const TIMEZONES = [
  'UTC',
  'Europe/Berlin',
  'America/New_York',
  'Asia/Shanghai',
  'Asia/Kolkata',
  'Australia/Sydney',
];
const TARGET_NAMES = ['billing.invoice', 'reports.daily', 'sync.crm', 'cleanup.tmp', 'mail.digest'];
const MISFIRE_POLICIES = ['fire_once', 'fire_once', 'fire_once', 'skip', 'fire_all'] as const;

const DAY_MS = 86_400_000;
const FSYNC_METRIC = 'etcd_disk_wal_fsync_duration_seconds';

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

function gc(): void {
  // Twice: the first pass may only finalize what the second frees.
  globalThis.gc?.();
  globalThis.gc?.();
}

function heapUsed(): number {
  gc();
  return process.memoryUsage().heapUsed;
}

function jobRecord(fields: {
  id: string;
  name: string;
  group: string;
  cron: string;
  timezone: string;
  target: string;
  params: unknown;
  policy: JobRecord['misfire']['policy'];
  remark: string;
  createdAt: string;
  activeSince: string;
}): JobRecord {
  // The shape JobService writes: every default filled in (see withDefaults).
  return {
    id: fields.id,
    name: fields.name,
    group: fields.group,
    schedule: { cron: fields.cron, timezone: fields.timezone },
    target: fields.target,
    params: fields.params,
    state: 'active',
    dispatch: { strategy: 'round-robin', options: {} },
    concurrency: 'allow',
    timeoutMs: 0,
    retry: { maxAttempts: 0, backoff: 'exponential', initialDelayMs: 1000, maxDelayMs: 60_000 },
    misfire: { policy: fields.policy, catchUpWindowMs: 3_600_000 },
    alerts: { channels: [], events: ['failed', 'timed_out', 'lost'] },
    remark: fields.remark,
    createdAt: fields.createdAt,
    updatedAt: fields.activeSince,
    activeSince: fields.activeSince,
  };
}

function groupRecord(name: string, now: string): GroupRecord {
  return { name, remark: '', createdAt: now, updatedAt: now };
}

/** A histogram of etcd's /metrics: cumulative bucket counts by upper bound, sum and count. */
interface Histogram {
  buckets: Map<number, number>;
  sum: number;
  count: number;
}

async function etcdHistogram(etcd: EtcdHarness, name: string): Promise<Histogram | undefined> {
  try {
    const text = await (await fetch(`http://${etcd.endpoint}/metrics`)).text();
    const histogram: Histogram = { buckets: new Map(), sum: 0, count: 0 };
    for (const line of text.split('\n')) {
      if (!line.startsWith(name)) continue;
      const [series, value] = line.split(' ');
      const le = /_bucket\{le="([^"]+)"\}/.exec(series);
      if (le) histogram.buckets.set(Number(le[1]), Number(value));
      else if (series === `${name}_sum`) histogram.sum = Number(value);
      else if (series === `${name}_count`) histogram.count = Number(value);
    }
    return histogram;
  } catch {
    return undefined;
  }
}

/** Mean and p99 (as the bucket's upper bound) in ms of what was observed between two reads. */
function histogramDelta(
  before: Histogram | undefined,
  after: Histogram | undefined,
): { count: number; meanMs: number; p99Ms: number } | undefined {
  if (!before || !after) return undefined;
  const count = after.count - before.count;
  let p99Ms = Number.NaN;
  for (const [le, cumulative] of [...after.buckets].sort((a, b) => a[0] - b[0])) {
    if (cumulative - (before.buckets.get(le) ?? 0) >= 0.99 * count) {
      p99Ms = le * 1000;
      break;
    }
  }
  return { count, meanMs: ((after.sum - before.sum) * 1000) / Math.max(count, 1), p99Ms };
}

function ms(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(1)} ms` : 'n/a';
}

// ---------------------------------------------------------------------------------------------
// Load: 100,000 jobs into a Plan
// ---------------------------------------------------------------------------------------------

interface LoadFigures {
  jobs: number;
  writeS: number;
  rangeS: number;
  firstPageMs: number;
  lastPageMs: number;
  loadS: number;
  bytesPerJob: number;
  retainedBytesPerJob: number;
  rebaseMs: number;
  schedules: number;
}

function loadDataset(now: number): [string, string][] {
  const kvs: [string, string][] = [];
  const lastFired = new Map<string, number>();
  const nowIso = new Date(now).toISOString();
  for (let g = 0; g < LOAD_GROUPS; g++) {
    kvs.push([Keyspace.group(`group-${g}`), JSON.stringify(groupRecord(`group-${g}`, nowIso))]);
  }
  for (let i = 0; i < LOAD_JOBS; i++) {
    const cron = CRONS[i % CRONS.length];
    const timezone = TIMEZONES[Math.floor(i / CRONS.length) % TIMEZONES.length];
    const created = now - 90 * DAY_MS + ((i * 7919) % (89 * DAY_MS));
    const activeSince = i % 10 === 0 ? created + DAY_MS / 2 : created; // some were resumed
    const params =
      i % 3 === 0
        ? null
        : i % 3 === 1
          ? { tenant: `t${i % 500}` }
          : { batch: i % 100, dryRun: false };
    const job = jobRecord({
      id: randomUUID(),
      name: `job-${i}`,
      group: `group-${i % LOAD_GROUPS}`,
      cron,
      timezone,
      target: TARGET_NAMES[i % TARGET_NAMES.length],
      params,
      policy: MISFIRE_POLICIES[i % MISFIRE_POLICIES.length],
      remark: i % 4 === 0 ? `owned by team ${i % 20}` : '',
      createdAt: new Date(created).toISOString(),
      activeSince: new Date(activeSince).toISOString(),
    });
    kvs.push([Keyspace.job(job.id), JSON.stringify(job)]);
    // Every job has fired: its jobstate holds its latest scheduled time up to now.
    const pair = `${timezone}\u0000${cron}`;
    let last = lastFired.get(pair);
    if (last === undefined) {
      const schedule = CronSchedule.compile({ cron, timezone });
      last = latestFires(schedule, now - 400 * DAY_MS, now, 1)[0] ?? now - DAY_MS;
      lastFired.set(pair, last);
    }
    const state: JobStateRecord = {
      jobId: job.id,
      lastScheduledMs: last,
      lastFiredAt: new Date(last + 7).toISOString(),
      node: 'node-a',
    };
    kvs.push([Keyspace.jobState(job.id), JSON.stringify(state)]);
  }
  return kvs;
}

/** Reads a prefix in pages of PAGE_SIZE as PlanFeed does; times the first and last page. */
async function pagedRead(
  store: CoordinationStore,
  prefix: string,
): Promise<{ keys: number; firstPageMs: number; lastPageMs: number }> {
  let after: string | undefined;
  let keys = 0;
  const times: number[] = [];
  for (;;) {
    const start = performance.now();
    const page = await store.range(prefix, { after, limit: PAGE_SIZE });
    times.push(performance.now() - start);
    keys += page.kvs.length;
    if (!page.more) return { keys, firstPageMs: times[0], lastPageMs: times[times.length - 1] };
    after = page.next;
  }
}

async function loadBench(): Promise<LoadFigures> {
  const etcd = await EtcdHarness.start();
  const prefix = `/bench-planner/${randomUUID()}/`;
  const writer = new EtcdStore({ endpoints: [etcd.endpoint], prefix });
  try {
    let kvs: [string, string][] | undefined = loadDataset(Date.now());
    const writeStart = performance.now();
    await putAll(writer, kvs, PUTS_PER_TXN, WRITE_LANES);
    const writeS = (performance.now() - writeStart) / 1000;
    kvs = undefined;

    // The reads alone (what the load cannot go below), also warming etcd's caches.
    const rangeStart = performance.now();
    const jobPages = await pagedRead(writer, Keyspace.jobs);
    const statePages = await pagedRead(writer, Keyspace.jobStates);
    const rangeS = (performance.now() - rangeStart) / 1000;
    if (jobPages.keys !== LOAD_JOBS || statePages.keys !== LOAD_JOBS) {
      throw new Error(`wrote ${jobPages.keys} jobs and ${statePages.keys} states`);
    }
    await writer.close();

    const before = heapUsed();
    let loaded: { plan: Plan; feed: PlanFeed; store: EtcdStore } | undefined = {
      plan: new Plan(),
      feed: undefined as unknown as PlanFeed,
      store: new EtcdStore({ endpoints: [etcd.endpoint], prefix }),
    };
    loaded.feed = new PlanFeed(loaded.store, loaded.plan, systemClock, () => undefined);
    const loadStart = performance.now();
    await loaded.feed.start();
    const loadS = (performance.now() - loadStart) / 1000;
    const jobs = loaded.plan.size;
    const afterLoad = heapUsed();

    const rebaseStart = performance.now();
    loaded.plan.rebaseAll();
    const rebaseMs = performance.now() - rebaseStart;
    const schedules = new Set([...loaded.plan.values()].map((entry) => entry.schedule)).size;

    // What the plan itself holds: the heap with it minus the heap once it is garbage.
    await loaded.feed.stop();
    await loaded.store.close();
    // Closed clients and cancelled watches let go of their callbacks a tick later.
    await sleep(200);
    const withPlan = heapUsed();
    loaded = undefined;
    await sleep(200);
    const withoutPlan = heapUsed();
    return {
      jobs,
      writeS,
      rangeS,
      firstPageMs: jobPages.firstPageMs,
      lastPageMs: jobPages.lastPageMs,
      loadS,
      bytesPerJob: (afterLoad - before) / LOAD_JOBS,
      retainedBytesPerJob: (withPlan - withoutPlan) / LOAD_JOBS,
      rebaseMs,
      schedules,
    };
  } finally {
    await writer.close();
    await etcd.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// Fire: N per-second jobs on one leader
// ---------------------------------------------------------------------------------------------

interface FireFigures {
  jobs: number;
  lookaheadMs: number;
  /** Fires committed after their scheduled time. */
  late: number;
  expected: number;
  created: number;
  catchUps: number;
  existing: number;
  misfires: number;
  writeErrors: number;
  firesPerS: number;
  lag: { p50: number; p99: number; max: number };
  /** Lag p99 of each measured second: shows whether lag is steady or spiky. */
  lagP99PerSecond: number[];
  nodeCpuUsPerFire: number;
  etcdCpuUsPerFire: number | undefined;
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  /** etcd's WAL fsyncs during the window (p99 is a histogram bucket bound). */
  fsync?: { count: number; meanMs: number; p99Ms: number };
}

async function waitFor(what: string, condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

async function fireBench(jobCount: number, lookaheadMs: number): Promise<FireFigures> {
  const etcd = await EtcdHarness.start();
  let app: TestApp | undefined;
  let writer: EtcdStore | undefined;
  try {
    app = await startTestApp({
      store: 'etcd',
      etcdEndpoint: etcd.endpoint,
      env: {
        FOREST_NODE_ID: `bench-${jobCount}`,
        FOREST_FIRE_LOOKAHEAD_MS: String(lookaheadMs),
      },
    });
    const planner = app.app.get(PlannerService);
    await waitFor('the node to lead and fire', () => planner.isFiring, 20_000);

    // Records as the API writes them, straight into the node's keyspace.
    writer = new EtcdStore({ endpoints: [etcd.endpoint], prefix: `${app.config.keyPrefix}/` });
    const now = new Date().toISOString();
    const kvs: [string, string][] = [
      [Keyspace.group('bench'), JSON.stringify(groupRecord('bench', now))],
    ];
    for (let i = 0; i < jobCount; i++) {
      const job = jobRecord({
        id: `job-${String(i).padStart(5, '0')}`,
        name: `every-second-${i}`,
        group: 'bench',
        cron: '* * * * * *',
        timezone: 'UTC',
        target: 'bench.noop',
        params: null,
        policy: 'fire_once',
        remark: '',
        createdAt: now,
        activeSince: now,
      });
      kvs.push([Keyspace.job(job.id), JSON.stringify(job)]);
    }
    await putAll(writer, kvs, PUTS_PER_TXN, WRITE_LANES);
    await waitFor('every job in the plan', () => planner.plan.size === jobCount, 20_000);

    // Measure whole seconds: scheduled times in [from, to).
    await sleep(WARMUP_S * 1000);
    // Fires are committed up to the lookahead early: start the window after it, so every
    // fire of the window's first second is committed after the listener below is added.
    const from = Math.ceil((Date.now() + 1 + lookaheadMs) / 1000) * 1000;
    const to = from + MEASURE_S * 1000;
    const lags: number[] = [];
    const perSecond: number[][] = Array.from({ length: MEASURE_S }, () => []);
    let created = 0;
    let catchUps = 0;
    let existing = 0;
    let committedInWindow = 0;
    let misfires = 0;
    const unsubscribe = planner.addFiredListener((_entry, outcome) => {
      if (outcome.committedAt >= from && outcome.committedAt < to) {
        committedInWindow += outcome.created.length;
      }
      for (const fire of outcome.created) {
        if (fire.scheduledMs < from || fire.scheduledMs >= to) continue;
        const lag = outcome.committedAt - fire.scheduledMs;
        created++;
        if (fire.catchUp) catchUps++;
        lags.push(lag);
        perSecond[Math.floor((fire.scheduledMs - from) / 1000)].push(lag);
      }
      for (const fire of outcome.existing) {
        if (fire.scheduledMs >= from && fire.scheduledMs < to) existing++;
      }
    });
    const misfireSubscription = planner.misfires$.subscribe((event) => {
      if (event.at >= from && event.at < to + DRAIN_MS) misfires++;
    });
    const writeErrorsBefore = (await planner.metrics.writeErrors.get()).values[0]?.value ?? 0;

    await sleep(from - Date.now());
    const loopDelay = monitorEventLoopDelay({ resolution: 1 });
    loopDelay.enable();
    const cpuStart = process.cpuUsage();
    const etcdStart = processCpuMicros(etcd.pid);
    const fsyncStart = await etcdHistogram(etcd, FSYNC_METRIC);
    await sleep(to - Date.now());
    const fsyncEnd = await etcdHistogram(etcd, FSYNC_METRIC);
    const cpu = process.cpuUsage(cpuStart);
    const etcdEnd = processCpuMicros(etcd.pid);
    loopDelay.disable();
    await sleep(DRAIN_MS);
    unsubscribe();
    misfireSubscription.unsubscribe();
    const writeErrors =
      ((await planner.metrics.writeErrors.get()).values[0]?.value ?? 0) - writeErrorsBefore;

    lags.sort((a, b) => a - b);
    const fired = Math.max(committedInWindow, 1);
    return {
      jobs: jobCount,
      lookaheadMs,
      late: lags.filter((lag) => lag > 0).length,
      expected: jobCount * MEASURE_S,
      created,
      catchUps,
      existing,
      misfires,
      writeErrors,
      firesPerS: created / MEASURE_S,
      lag: { p50: percentile(lags, 0.5), p99: percentile(lags, 0.99), max: lags.at(-1) ?? NaN },
      lagP99PerSecond: perSecond.map((second) =>
        percentile(
          second.sort((a, b) => a - b),
          0.99,
        ),
      ),
      nodeCpuUsPerFire: (cpu.user + cpu.system) / fired,
      etcdCpuUsPerFire:
        etcdStart !== undefined && etcdEnd !== undefined
          ? (etcdEnd - etcdStart) / fired
          : undefined,
      loopDelayP99Ms: loopDelay.percentile(99) / 1e6,
      loopDelayMaxMs: loopDelay.max / 1e6,
      fsync: histogramDelta(fsyncStart, fsyncEnd),
    };
  } finally {
    await writer?.close();
    await app?.close();
    await etcd.stop();
  }
}

// ---------------------------------------------------------------------------------------------

function printLoad(figures: LoadFigures): void {
  console.log(
    `load     ${figures.jobs} jobs (+${LOAD_JOBS} jobstate, ${figures.schedules} schedules): ` +
      `written in ${figures.writeS.toFixed(1)} s | range reads alone ${figures.rangeS.toFixed(2)} s ` +
      `(${PAGE_SIZE}-key pages of jobs/: first ${ms(figures.firstPageMs)}, last ${ms(figures.lastPageMs)}) | ` +
      `PlanFeed.start ${figures.loadS.toFixed(2)} s | heap ${figures.bytesPerJob.toFixed(0)} B/job ` +
      `(plan retained ${figures.retainedBytesPerJob.toFixed(0)} B/job) | rebaseAll ${figures.rebaseMs.toFixed(0)} ms`,
  );
}

function printFire(figures: FireFigures): void {
  const etcdCpu =
    figures.etcdCpuUsPerFire === undefined ? 'n/a' : `${figures.etcdCpuUsPerFire.toFixed(0)} µs`;
  console.log(
    `fire     ${figures.jobs} jobs x 1/s for ${MEASURE_S} s, lookahead ${figures.lookaheadMs} ms: ` +
      `${figures.firesPerS.toFixed(0)} fires/s, committed late ${figures.late}, ` +
      `created ${figures.created}/${figures.expected} (missed ${figures.expected - figures.created}, ` +
      `catch-up ${figures.catchUps}, existing ${figures.existing}, misfires ${figures.misfires}, ` +
      `write errors ${figures.writeErrors}) | lag p50 ${ms(figures.lag.p50)} p99 ${ms(figures.lag.p99)} ` +
      `max ${ms(figures.lag.max)} | CPU/fire node ${figures.nodeCpuUsPerFire.toFixed(0)} µs ` +
      `etcd ${etcdCpu} | event loop delay p99 ${ms(figures.loopDelayP99Ms)} max ${ms(figures.loopDelayMaxMs)}`,
  );
  const fsync = figures.fsync;
  console.log(
    `         lag p99 per second: ${figures.lagP99PerSecond.map((v) => v.toFixed(0)).join(' ')} ms` +
      (fsync
        ? ` | etcd WAL fsyncs ${fsync.count} (${(fsync.count / MEASURE_S).toFixed(0)}/s), ` +
          `mean ${ms(fsync.meanMs)}, p99 <= ${ms(fsync.p99Ms)}`
        : ''),
  );
}

async function main(): Promise<void> {
  if (typeof globalThis.gc !== 'function') {
    throw new Error('run with node --expose-gc (npm run bench does)');
  }
  // The planner logs through Nest's Logger: keep warnings and errors, drop the chatter.
  Logger.overrideLogger(['error', 'warn']);
  console.log(
    `planner benchmark (${new Date().toISOString()}, node ${process.version}, ` +
      `${cpus().length} CPUs, etcd on this host)`,
  );
  const load = await loadBench();
  printLoad(load);
  const fires: FireFigures[] = [];
  for (const rate of FIRE_RATES) {
    for (const lookaheadMs of LOOKAHEADS_MS) {
      const figures = await fireBench(rate, lookaheadMs);
      printFire(figures);
      fires.push(figures);
    }
  }

  const rows: [string, string, string][] = [
    [`${LOAD_JOBS} jobs: load time`, `${load.loadS.toFixed(2)} s`, `< ${TARGETS.loadS} s`],
    [
      `${LOAD_JOBS} jobs: heap per job`,
      `${load.bytesPerJob.toFixed(0)} B`,
      `< ${TARGETS.bytesPerJob} B`,
    ],
    [`${LOAD_JOBS} jobs: rebaseAll`, `${load.rebaseMs.toFixed(0)} ms`, ''],
  ];
  for (const figures of fires) {
    const at = `${figures.jobs}/s, lookahead ${figures.lookaheadMs}`;
    rows.push(
      [`${at}: achieved`, `${figures.firesPerS.toFixed(0)}/s`, ''],
      [`${at}: missed fires`, `${figures.expected - figures.created}`, ''],
      [`${at}: lag p50`, ms(figures.lag.p50), ''],
      [
        `${at}: lag p99`,
        ms(figures.lag.p99),
        figures.jobs === 1000 ? `<= ${TARGETS.lagP99Ms} ms` : '',
      ],
      [`${at}: committed late`, `${figures.late}`, ''],
      [`${at}: CPU per fire (node)`, `${figures.nodeCpuUsPerFire.toFixed(0)} µs`, ''],
      [
        `${at}: CPU per fire (etcd)`,
        figures.etcdCpuUsPerFire === undefined
          ? 'n/a'
          : `${figures.etcdCpuUsPerFire.toFixed(0)} µs`,
        '',
      ],
    );
  }
  printTable(rows, 44, 10);
}

runBenchmark(main);
