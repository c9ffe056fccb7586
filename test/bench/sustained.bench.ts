/*
 * Sustained-load benchmark (issue #13): what users run, for minutes, with execution history
 * in PostgreSQL. Prints figures; asserts nothing. Run with `npm run bench`, or alone:
 *
 *   node -r ./test/support/ts-register.js test/bench/sustained.bench.ts
 *
 * Every run starts its own stack: a real etcd (default quota), a real PostgreSQL
 * (test/support/postgres-harness.ts), one node as its own process (src/main.ts, with
 * FOREST_HISTORY_URL, otherwise its defaults: compaction, lookahead, retention), and
 * WORKERS worker processes running the real SDK (test/support/worker-main.ts; each handler
 * records when it started). The group and R per-second jobs are created through the API
 * (POST /api/groups, then POST /api/jobs/import: the route users call, which validates and
 * writes every job), then fires run for WARMUP_S seconds before the measured window of
 * WINDOW_S seconds (fires scheduled in [from, to)).
 *
 * Per rate R (BENCH_SUSTAINED_RATES, default 1000,5000):
 *   - handler-start lag (handler start - scheduled time, first attempts of the window's
 *     fires; one host, so the workers' clock is ours): p50 / p99 / max, p99 per 10 s slice;
 *   - missed fires: R x WINDOW_S - fires of the window that have a first-attempt execution
 *     (live in etcd or moved to PostgreSQL; read after the node stopped); and fires of the
 *     window whose handler had not started when the run ended;
 *   - executions/s end to end: executions that finished `succeeded` within the window, /s;
 *   - CPU, % of one core over the window: node, etcd, PostgreSQL (the postmaster, its live
 *     children and the children it reaped), the workers, this process, the rest of the host;
 *   - etcd bytes per fire: etcd_mvcc_db_total_size_in_use_in_bytes growth over the window
 *     / fires of the window, in this run (the node's default compaction) and in a separate
 *     short run of the same rate with the node's compaction off (nothing compacts: every
 *     revision stays, so the growth is what each fire writes into etcd's history), plus the
 *     logical bytes put per fire (etcd_debugging_mvcc_total_put_size_in_bytes) and the etcd
 *     revisions / key writes per fire;
 *   - etcd_mvcc_db_total_size_in_bytes and ..._in_use_in_bytes at the window's end;
 *   - at the highest rate (BENCH_SUSTAINED_PROFILE_RATE): a CPU profile of the node over
 *     PROFILE_S seconds right after the window (same load; the profiler stays off during
 *     the window so its figures are not skewed), top self-time functions and files.
 *
 * The long run (BENCH_SUSTAINED_LONG_MIN minutes, default 10, 0 skips; rate
 * BENCH_SUSTAINED_LONG_RATE, default 5000) prints etcd's database size (total, in use)
 * every minute and at the end, and per minute the missed fires, lag p99 and executions/s.
 * The closing table puts the figures next to the targets of issue #13.
 *
 * Overrides: BENCH_SUSTAINED_RATES=1000,5000 BENCH_SUSTAINED_WARMUP_S=30
 * BENCH_SUSTAINED_WINDOW_S=60 BENCH_SUSTAINED_WORKERS=4 BENCH_SUSTAINED_LONG_MIN=10
 * BENCH_SUSTAINED_LONG_RATE=5000 BENCH_SUSTAINED_NOCOMPACT_S=15 (window of the
 * compaction-off run; 0 skips it) BENCH_SUSTAINED_NOCOMPACT_WARMUP_S=10
 * BENCH_SUSTAINED_PROFILE_S=20 (0: no profile) BENCH_SUSTAINED_PROFILE_RATE=<rate>
 * BENCH_SUSTAINED_PROFILE_OUT=<file> (keep the .cpuprofile there) BENCH_SUSTAINED_SLOTS
 * (capacity per worker) BENCH_SUSTAINED_LOG_LEVEL=warn (the node's FOREST_LOG_LEVEL)
 * BENCH_SUSTAINED_NODE_ENV='FOREST_X=1 FOREST_Y=2' (node settings instead of the defaults).
 * BENCH_SUSTAINED_RATES=0: no rate runs (the long run only). A smoke run: BENCH_SUSTAINED_RATES=200 BENCH_SUSTAINED_WARMUP_S=3
 * BENCH_SUSTAINED_WINDOW_S=5 BENCH_SUSTAINED_NOCOMPACT_S=3 BENCH_SUSTAINED_LONG_MIN=0.
 *
 * Everything a run starts is stopped by pid and its temp dirs removed at its end, on a
 * failure, and on SIGINT / SIGTERM.
 */
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Client } from 'pg';
import { ExecutionRecord, Keyspace } from '@forest/protocol';
import { EtcdStore, rangePages } from '@forest/store';
import { EtcdHarness, removeOnExit } from '../support/etcd-harness';
import { NodeProcess } from '../support/node-process';
import { PostgresHarness } from '../support/postgres-harness';
import { WorkerProcess, WorkerRecord } from '../support/worker-process';
import {
  hostCpuMicros,
  printColumns,
  processCpuMicros,
  runBenchmark,
  sleep,
} from './bench-support';

// ---------------------------------------------------------------------------------------------
// Settings
// ---------------------------------------------------------------------------------------------

function numberFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name}=${raw}: not a number >= 0`);
  return value;
}

function listFromEnv(name: string, fallback: number[]): number[] {
  const value = process.env[name];
  return value ? value.split(',').map(Number).filter(Boolean) : fallback;
}

const RATES = listFromEnv('BENCH_SUSTAINED_RATES', [1000, 5000]);
const WARMUP_S = numberFromEnv('BENCH_SUSTAINED_WARMUP_S', 30);
const WINDOW_S = Math.max(1, Math.round(numberFromEnv('BENCH_SUSTAINED_WINDOW_S', 60)));
const WORKERS = Math.max(1, numberFromEnv('BENCH_SUSTAINED_WORKERS', 4));
const LONG_MIN = numberFromEnv('BENCH_SUSTAINED_LONG_MIN', 10);
const LONG_RATE = numberFromEnv('BENCH_SUSTAINED_LONG_RATE', 5000);
const NOCOMPACT_S = Math.round(numberFromEnv('BENCH_SUSTAINED_NOCOMPACT_S', 15));
const NOCOMPACT_WARMUP_S = numberFromEnv('BENCH_SUSTAINED_NOCOMPACT_WARMUP_S', 10);
const PROFILE_S = numberFromEnv('BENCH_SUSTAINED_PROFILE_S', 20);
const PROFILE_RATE = numberFromEnv(
  'BENCH_SUSTAINED_PROFILE_RATE',
  RATES.includes(5000) ? 5000 : Math.max(0, ...RATES),
);
const PROFILE_OUT = process.env.BENCH_SUSTAINED_PROFILE_OUT;
const LOG_LEVEL = process.env.BENCH_SUSTAINED_LOG_LEVEL || 'warn';
/**
 * Node settings to try instead of the defaults, e.g. `FOREST_ETCD_COMPACTION_MAX_MB=256
 * FOREST_ETCD_COMPACTION_REVISIONS=0` (space-separated FOREST_* assignments; the
 * compaction-off run still turns compaction off).
 */
const NODE_ENV = nodeSettingsFromEnv('BENCH_SUSTAINED_NODE_ENV');

function nodeSettingsFromEnv(name: string): Record<string, string> {
  const settings: Record<string, string> = {};
  for (const entry of (process.env[name] ?? '').split(/\s+/).filter(Boolean)) {
    const match = /^(FOREST_[A-Z0-9_]+)=(.*)$/.exec(entry);
    if (!match) throw new Error(`${name}: "${entry}" is not a FOREST_*=value setting`);
    settings[match[1]] = match[2];
  }
  return settings;
}
/** The slices lag p99 is printed per (rate runs), and the long run's slices. */
const SLICE_S = 10;
const MINUTE_S = 60;
/** After the window: at most this long for its last fires to start. */
const DRAIN_MAX_MS = 10_000;
/** Then this long for their reports to land and the node to move them into PostgreSQL. */
const SETTLE_MS = 3000;
/** Rough cost of starting and stopping one stack and creating its jobs, for the estimate. */
const SETUP_ESTIMATE_S = 40;

const GROUP = 'bench';
const TARGET = 'bench.noop';

const TARGETS = {
  lagP99Ms: { 1000: 20, 5000: 100 } as Record<number, number>,
  executionsPerS: 5000,
  etcdBytes: 1024 ** 3,
};

const root = join(__dirname, '..', '..');

// ---------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------

function ms(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(0)} ms` : 'n/a';
}

function pct(value: number | undefined): string {
  return value === undefined || !Number.isFinite(value) ? 'n/a' : `${value.toFixed(0)}%`;
}

function mib(bytes: number | undefined): string {
  return bytes === undefined || !Number.isFinite(bytes)
    ? 'n/a'
    : `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

function perFire(value: number | undefined): string {
  return value === undefined || !Number.isFinite(value) ? 'n/a' : `${value.toFixed(0)} B`;
}

function count(n: number): string {
  return n.toLocaleString('en-US');
}

function duration(seconds: number): string {
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds % 60);
  return m > 0 ? `${m} min ${s} s` : `${s} s`;
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** Slots per worker: room for several seconds of backlog, so capacity is not measured. */
function slotsPerWorker(rate: number): number {
  const override = numberFromEnv('BENCH_SUSTAINED_SLOTS', 0);
  return override || Math.min(10_000, Math.max(100, Math.ceil((rate * 8) / WORKERS)));
}

function jobId(i: number): string {
  return `job-${String(i).padStart(5, '0')}`;
}

function jobIndex(id: string): number {
  return id.startsWith('job-') ? Number(id.slice(4)) : -1;
}

interface Lag {
  p50: number;
  p99: number;
  max: number;
  n: number;
}

/** p50 / p99 / max of `values` (copied, then sorted numerically: a typed array's sort). */
function lagOf(values: Float64Array): Lag {
  const sorted = values.slice().sort();
  const at = (q: number) =>
    sorted.length === 0
      ? Number.NaN
      : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))];
  return { p50: at(0.5), p99: at(0.99), max: sorted.at(-1) ?? Number.NaN, n: sorted.length };
}

/** A growable list of numbers (millions of lags without millions of boxed values). */
class Numbers {
  private data = new Float64Array(1024);
  length = 0;
  push(value: number): void {
    if (this.length === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = value;
  }
  values(): Float64Array {
    return this.data.subarray(0, this.length);
  }
}

function concat(parts: Numbers[]): Float64Array {
  const out = new Float64Array(parts.reduce((sum, p) => sum + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part.values(), at);
    at += part.length;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// CPU from /proc: a process, and PostgreSQL's whole process tree
// ---------------------------------------------------------------------------------------------

interface ProcStat {
  ppid: number;
  /** utime + stime, and cutime + cstime (children it waited for), in µs. */
  own: number;
  reaped: number;
}

const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK']).stdout?.toString().trim()) || 100;

function procStat(pid: number): ProcStat | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = (i: number) => Number(fields[i]);
    return {
      ppid: ticks(1),
      own: ((ticks(11) + ticks(12)) * 1e6) / CLOCK_TICKS,
      reaped: ((ticks(13) + ticks(14)) * 1e6) / CLOCK_TICKS,
    };
  } catch {
    return undefined;
  }
}

/**
 * CPU (µs) a process and every process below it used: its own, what it reaped from exited
 * children, and its live children's (recursively). PostgreSQL forks a backend per
 * connection and its helpers (checkpointer, WAL writer, ...) from the postmaster.
 */
function treeCpuMicros(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  const top = procStat(pid);
  if (!top) return undefined;
  const children = new Map<number, number[]>();
  const stats = new Map<number, ProcStat>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = procStat(Number(entry));
    if (!stat) continue;
    stats.set(Number(entry), stat);
    const siblings = children.get(stat.ppid) ?? [];
    siblings.push(Number(entry));
    children.set(stat.ppid, siblings);
  }
  let total = 0;
  const visit = (at: number, stat: ProcStat) => {
    total += stat.own + stat.reaped;
    for (const child of children.get(at) ?? []) visit(child, stats.get(child)!);
  };
  visit(pid, top);
  return total;
}

/** The postmaster's pid: the harness's child, else postmaster.pid's first line. */
function postmasterPid(pg: PostgresHarness): number | undefined {
  if (pg.pid !== undefined) return pg.pid;
  const file = join(pg.dataDir, 'postmaster.pid');
  try {
    const pid = Number(readFileSync(file, 'utf8').split('\n')[0]);
    return pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// etcd's /metrics
// ---------------------------------------------------------------------------------------------

interface EtcdGauges {
  totalBytes: number;
  inUseBytes: number;
  quotaBytes: number;
  revision: number;
  compactRevision: number;
  compactions: number;
  puts: number;
  deletes: number;
  putBytes: number;
  keys: number;
  slowWatchers: number;
  pendingEvents: number;
}

async function etcdGauges(etcd: EtcdHarness): Promise<EtcdGauges | undefined> {
  try {
    const response = await fetch(`${etcd.url}/metrics`, { signal: AbortSignal.timeout(5000) });
    const text = await response.text();
    const gauge = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
    return {
      totalBytes: gauge('etcd_mvcc_db_total_size_in_bytes'),
      inUseBytes: gauge('etcd_mvcc_db_total_size_in_use_in_bytes'),
      quotaBytes: gauge('etcd_server_quota_backend_bytes'),
      revision: gauge('etcd_debugging_mvcc_current_revision'),
      compactRevision: gauge('etcd_debugging_mvcc_compact_revision'),
      compactions: gauge('etcd_debugging_mvcc_db_compaction_total_duration_milliseconds_count'),
      puts: gauge('etcd_debugging_mvcc_put_total'),
      deletes: gauge('etcd_debugging_mvcc_delete_total'),
      putBytes: gauge('etcd_debugging_mvcc_total_put_size_in_bytes'),
      keys: gauge('etcd_debugging_mvcc_keys_total'),
      slowWatchers: gauge('etcd_debugging_mvcc_slow_watcher_total'),
      pendingEvents: gauge('etcd_debugging_mvcc_pending_events_total'),
    };
  } catch {
    return undefined;
  }
}

/** What etcd's history grew by between two readings, per fire. */
interface EtcdGrowth {
  inUsePerFire: number;
  putBytesPerFire: number;
  revisionsPerFire: number;
  keyWritesPerFire: number;
  compactions: number;
}

function etcdGrowth(a: EtcdGauges | undefined, b: EtcdGauges | undefined, fires: number) {
  if (!a || !b || fires <= 0) return undefined;
  return {
    inUsePerFire: (b.inUseBytes - a.inUseBytes) / fires,
    putBytesPerFire: (b.putBytes - a.putBytes) / fires,
    revisionsPerFire: (b.revision - a.revision) / fires,
    keyWritesPerFire: (b.puts - a.puts + (b.deletes - a.deletes)) / fires,
    compactions: b.compactions - a.compactions,
  } satisfies EtcdGrowth;
}

// ---------------------------------------------------------------------------------------------
// One stack: etcd, PostgreSQL, the node, the workers
// ---------------------------------------------------------------------------------------------

/** Stop functions of the stacks alive now, for SIGINT / SIGTERM. */
const liveStacks = new Set<Stack>();

interface StackOptions {
  label: string;
  rate: number;
  /** `default`: the node's own settings; `off`: FOREST_ETCD_COMPACTION_* = 0. */
  compaction: 'default' | 'off';
  /** Preload the profiler (test/bench/cpu-profile-preload.js), writing here. */
  profileFile?: string;
}

type CpuSnapshot = Record<
  'node' | 'etcd' | 'postgres' | 'workers' | 'bench' | 'host',
  number | undefined
>;

type Cpu = Partial<Record<'node' | 'etcd' | 'postgres' | 'workers' | 'bench' | 'other', number>>;

class Stack {
  etcd?: EtcdHarness;
  pg?: PostgresHarness;
  node?: NodeProcess;
  workers: WorkerProcess[] = [];
  store?: EtcdStore;
  private listeners = new Set<(record: WorkerRecord) => void>();
  private stopped?: Promise<void>;
  /** Seconds the import took, and the plan's load after it. */
  importS = 0;
  planS = 0;

  constructor(readonly options: StackOptions) {
    liveStacks.add(this);
  }

  onRecord(listener: (record: WorkerRecord) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async start(): Promise<void> {
    const { rate, label, compaction, profileFile } = this.options;
    [this.etcd, this.pg] = await Promise.all([EtcdHarness.start(), PostgresHarness.start()]);
    this.node = await NodeProcess.start({
      FOREST_ETCD_ENDPOINTS: this.etcd.endpoint,
      FOREST_NODE_ID: `bench-${label}`,
      FOREST_LOG_LEVEL: LOG_LEVEL,
      FOREST_HISTORY_URL: this.pg.url,
      ...NODE_ENV,
      ...(compaction === 'off'
        ? {
            FOREST_ETCD_COMPACTION_INTERVAL_S: '0',
            FOREST_ETCD_COMPACTION_REVISIONS: '0',
            FOREST_ETCD_COMPACTION_MAX_MB: '0',
          }
        : {}),
      ...(profileFile
        ? {
            FOREST_BENCH_CPU_PROFILE: profileFile,
            NODE_OPTIONS: `--require ${join(root, 'test/bench/cpu-profile-preload.js')}`,
          }
        : {}),
    });
    const baseUrl = this.node.baseUrl;
    await waitFor(
      'the node to lead',
      async () =>
        ((await (await fetch(`${baseUrl}/api/nodes/self`)).json()) as { leader: boolean }).leader,
      30_000,
    );
    this.store = new EtcdStore({ endpoints: [this.etcd.endpoint], prefix: '/forest/' });
    // The group, then its workers, then the jobs: all through the API, as a user does it.
    await this.api('POST', '/api/groups', { name: GROUP }, 201);
    const slots = slotsPerWorker(rate);
    this.workers = await Promise.all(
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
    for (const worker of this.workers) {
      worker.onRecord((record) => this.listeners.forEach((listener) => listener(record)));
    }

    const jobs = Array.from({ length: rate }, (_, i) => ({
      id: jobId(i),
      name: jobId(i),
      group: GROUP,
      schedule: { cron: '* * * * * *', timezone: 'UTC' },
      target: TARGET,
    }));
    const importStart = performance.now();
    await this.api('POST', '/api/jobs/import', { version: 1, mode: 'create', jobs }, 200);
    this.importS = (performance.now() - importStart) / 1000;
    const planStart = performance.now();
    await waitFor(
      'every job in the plan',
      async () => {
        const plan = (await (await fetch(`${baseUrl}/api/plan?limit=1`)).json()) as {
          total: number;
          firing: boolean;
        };
        return plan.firing && plan.total === rate;
      },
      60_000,
    );
    this.planS = (performance.now() - planStart) / 1000;
  }

  private async api(method: string, path: string, body: unknown, expected: number) {
    const response = await fetch(`${this.node!.baseUrl}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (response.status !== expected) {
      throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
    }
  }

  cpu(): CpuSnapshot {
    const sum = (values: (number | undefined)[]) =>
      values.reduce<number | undefined>(
        (total, v) => (total === undefined || v === undefined ? undefined : total + v),
        0,
      );
    return {
      node: processCpuMicros(this.node?.child.pid),
      etcd: processCpuMicros(this.etcd?.pid),
      postgres: this.pg ? treeCpuMicros(postmasterPid(this.pg)) : undefined,
      workers: sum(this.workers.map((worker) => processCpuMicros(worker.pid))),
      bench: ((usage) => usage.user + usage.system)(process.cpuUsage()),
      host: hostCpuMicros(),
    };
  }

  gauges(): Promise<EtcdGauges | undefined> {
    return this.etcd ? etcdGauges(this.etcd) : Promise.resolve(undefined);
  }

  /** Starts (`start`), or stops and writes (`stop`), the node's CPU profile. */
  profiler(step: 'start' | 'stop'): void {
    if (this.options.profileFile) writeFileSync(`${this.options.profileFile}.${step}`, '');
  }

  /** Stops the workers and the node gracefully, so the stored state is final. */
  async quiesce(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.stop('SIGTERM')));
    await this.node?.stop('SIGTERM');
  }

  /** Stops everything by pid and removes the temp dirs; once. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      await Promise.allSettled(this.workers.map((worker) => worker.stop('SIGKILL')));
      await this.node?.stop('SIGKILL').catch(() => undefined);
      await this.store?.close().catch(() => undefined);
      await Promise.allSettled([this.etcd?.stop(), this.pg?.stop()]);
      liveStacks.delete(this);
    })();
    return this.stopped;
  }

  describeFailure(): string {
    return [
      `--- node output (tail) ---\n${this.node?.log.slice(-5000) ?? ''}`,
      ...this.workers.map((worker) => worker.describe().slice(-2000)),
    ].join('\n');
  }
}

function cpuPercent(a: CpuSnapshot, b: CpuSnapshot, seconds: number): Cpu {
  const percent = (key: keyof CpuSnapshot) => {
    const [x, y] = [a[key], b[key]];
    return x === undefined || y === undefined ? undefined : ((y - x) / (seconds * 1e6)) * 100;
  };
  const cpu: Cpu = {
    node: percent('node'),
    etcd: percent('etcd'),
    postgres: percent('postgres'),
    workers: percent('workers'),
    bench: percent('bench'),
  };
  let other = percent('host');
  for (const value of Object.values(cpu)) {
    other = other === undefined || value === undefined ? undefined : other - value;
  }
  return { ...cpu, other };
}

function cpuText(cpu: Cpu): string {
  return (
    `node ${pct(cpu.node)}, etcd ${pct(cpu.etcd)}, PostgreSQL ${pct(cpu.postgres)}, ` +
    `workers ${pct(cpu.workers)}, bench ${pct(cpu.bench)}, rest of the host ${pct(cpu.other)}`
  );
}

// ---------------------------------------------------------------------------------------------
// Handler starts of a window's fires
// ---------------------------------------------------------------------------------------------

/**
 * The first-attempt handler starts of the fires scheduled in [from, to): one bit per fire
 * (second x job), lags per slice. Retries and fires outside the window are ignored.
 */
class Starts {
  private readonly seen: Uint8Array;
  readonly lags: Numbers[];
  started = 0;
  ranTwice = 0;
  early = 0;

  constructor(
    readonly rate: number,
    readonly from: number,
    readonly to: number,
    readonly sliceMs: number,
  ) {
    this.seen = new Uint8Array(((to - from) / 1000) * rate);
    this.lags = Array.from({ length: Math.ceil((to - from) / sliceMs) }, () => new Numbers());
  }

  get expected(): number {
    return this.seen.length;
  }

  record(record: WorkerRecord): void {
    if (record.ev !== 'start' || record.a !== 1 || record.s < this.from || record.s >= this.to) {
      return;
    }
    const job = jobIndex(record.job);
    if (job < 0 || job >= this.rate) return;
    const index = Math.floor((record.s - this.from) / 1000) * this.rate + job;
    if (this.seen[index]) {
      this.ranTwice++;
      return;
    }
    this.seen[index] = 1;
    this.started++;
    const lag = record.t - record.s;
    if (lag < 0) this.early++;
    this.lags[Math.floor((record.s - this.from) / this.sliceMs)].push(lag);
  }

  /** Fires of slice i not started (yet). */
  notStartedIn(slice: number): number {
    const perSlice = (this.sliceMs / 1000) * this.rate;
    return perSlice - this.lags[slice].length;
  }

  lag(): Lag {
    return lagOf(concat(this.lags));
  }

  sliceLag(slice: number): Lag {
    return lagOf(this.lags[slice].values());
  }
}

// ---------------------------------------------------------------------------------------------
// What was recorded: live executions in etcd + history in PostgreSQL
// ---------------------------------------------------------------------------------------------

interface Recorded {
  /** First attempts of the window's fires, per slice (scheduled time). */
  createdPerSlice: number[];
  /** Executions that finished `succeeded` in the window, per slice (finish time). */
  succeededPerSlice: number[];
  /** First attempts of the window's fires by status. */
  byStatus: Record<string, number>;
  /** Of the first attempts: live in etcd, moved to PostgreSQL. */
  live: number;
  history: number;
}

/**
 * Reads the window's executions after the node stopped: every live one in etcd, the
 * history rows in PostgreSQL counted there (per slice, in SQL); a record in both places
 * (moved but not yet deleted from etcd) counts once.
 */
async function readRecorded(
  stack: Stack,
  from: number,
  to: number,
  sliceMs: number,
): Promise<Recorded> {
  const slices = Math.ceil((to - from) / sliceMs);
  const createdPerSlice = new Array<number>(slices).fill(0);
  const succeededPerSlice = new Array<number>(slices).fill(0);
  const byStatus: Record<string, number> = {};

  // Live in etcd.
  const liveFirst = new Map<string, { slice: number; status: string }>();
  const liveSucceeded = new Map<string, number>();
  for await (const page of rangePages(stack.store!, Keyspace.executions)) {
    for (const kv of page.kvs) {
      const record = JSON.parse(kv.value) as ExecutionRecord;
      const finishedMs = record.finishedAt ? Date.parse(record.finishedAt) : Number.NaN;
      if (record.status === 'succeeded' && finishedMs >= from && finishedMs < to) {
        liveSucceeded.set(record.id, Math.floor((finishedMs - from) / sliceMs));
      }
      if (record.attempt === 1 && record.scheduledMs >= from && record.scheduledMs < to) {
        liveFirst.set(record.id, {
          slice: Math.floor((record.scheduledMs - from) / sliceMs),
          status: record.status,
        });
      }
    }
  }

  // History in PostgreSQL.
  const client = new Client({ connectionString: stack.pg!.url });
  await client.connect();
  let history = 0;
  try {
    const first = await client.query<{ slice: string; status: string; n: string }>(
      `SELECT (scheduled_ms - $1::bigint) / $3::bigint AS slice, status, count(*) AS n
         FROM forest_executions
        WHERE scheduled_ms >= $1 AND scheduled_ms < $2 AND id = first_attempt_id
        GROUP BY 1, 2`,
      [from, to, sliceMs],
    );
    for (const row of first.rows) {
      createdPerSlice[Number(row.slice)] += Number(row.n);
      byStatus[row.status] = (byStatus[row.status] ?? 0) + Number(row.n);
      history += Number(row.n);
    }
    const succeeded = await client.query<{ slice: string; n: string }>(
      `SELECT (finished_ms - $1::bigint) / $3::bigint AS slice, count(*) AS n
         FROM forest_executions
        WHERE status = 'succeeded' AND finished_ms >= $1 AND finished_ms < $2
        GROUP BY 1`,
      [from, to, sliceMs],
    );
    for (const row of succeeded.rows) succeededPerSlice[Number(row.slice)] += Number(row.n);
    // Live records already in the history were counted there.
    const ids = [...new Set([...liveFirst.keys(), ...liveSucceeded.keys()])];
    for (let i = 0; i < ids.length; i += 10_000) {
      const stored = await client.query<{ id: string }>(
        'SELECT id FROM forest_executions WHERE id = ANY($1::text[])',
        [ids.slice(i, i + 10_000)],
      );
      for (const { id } of stored.rows) {
        liveFirst.delete(id);
        liveSucceeded.delete(id);
      }
    }
  } finally {
    await client.end();
  }
  for (const { slice, status } of liveFirst.values()) {
    createdPerSlice[slice]++;
    byStatus[status] = (byStatus[status] ?? 0) + 1;
  }
  for (const slice of liveSucceeded.values()) succeededPerSlice[slice]++;
  return { createdPerSlice, succeededPerSlice, byStatus, live: liveFirst.size, history };
}

function statusText(byStatus: Record<string, number>): string {
  return Object.entries(byStatus)
    .sort((a, b) => b[1] - a[1])
    .map(([status, n]) => `${status} ${count(n)}`)
    .join(', ');
}

const sum = (values: number[]) => values.reduce((total, v) => total + v, 0);

// ---------------------------------------------------------------------------------------------
// CPU profile summary
// ---------------------------------------------------------------------------------------------

interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
  }[];
  samples: number[];
  startTime: number;
  endTime: number;
}

/** Where a script is: a package of node_modules, a node internal, or a repo path. */
function fileOf(url: string, functionName: string): string {
  if (!url) return `(${functionName.replace(/[()]/g, '') || 'native'})`;
  if (url.startsWith('node:')) return url;
  const path = url.replace(/^file:\/\//, '');
  const modules = path.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const parts = path.slice(modules + 'node_modules/'.length).split('/');
    return `npm ${parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]}`;
  }
  return path.startsWith('/') ? relative(root, path) : path;
}

function summariseProfile(file: string, seconds: number, rate: number): string[] {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile & { error?: string };
  if (profile.error) return [`CPU profile failed: ${profile.error}`];
  const byId = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const functions = new Map<string, number>();
  const files = new Map<string, number>();
  let idle = 0;
  for (const id of profile.samples) {
    const frame = byId.get(id);
    if (!frame) continue;
    if (frame.functionName === '(idle)') {
      idle++;
      continue;
    }
    const where = fileOf(frame.url, frame.functionName);
    const name = frame.url
      ? `${frame.functionName || '(anonymous)'}  ${where}:${frame.lineNumber + 1}`
      : where;
    functions.set(name, (functions.get(name) ?? 0) + 1);
    files.set(where, (files.get(where) ?? 0) + 1);
  }
  const busy = profile.samples.length - idle;
  const wallS = (profile.endTime - profile.startTime) / 1e6;
  const sampleMs = (wallS * 1000) / Math.max(1, profile.samples.length);
  const lines = [
    `CPU profile of the node at ${count(rate)} fires/s, ${wallS.toFixed(1)} s right after the window ` +
      `(asked ${seconds} s; ${count(profile.samples.length)} samples, main thread busy ` +
      `${((busy / Math.max(1, profile.samples.length)) * 100).toFixed(0)}% of the time, about ` +
      `${((busy * sampleMs * 1000) / Math.max(1, rate * wallS)).toFixed(0)} µs of main-thread CPU per fire). ` +
      'Self time, % of the busy samples:',
  ];
  const top = (map: Map<string, number>, n: number) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(
        ([name, hits]) =>
          `  ${((hits / Math.max(1, busy)) * 100).toFixed(1).padStart(5)}%  ${name}`,
      );
  lines.push(' by file / package:', ...top(files, 15), ' by function:', ...top(functions, 25));
  return lines;
}

// ---------------------------------------------------------------------------------------------
// A rate run
// ---------------------------------------------------------------------------------------------

interface RateFigures {
  rate: number;
  compaction: 'default' | 'off';
  windowS: number;
  expected: number;
  created: number;
  notStarted: number;
  ranTwice: number;
  early: number;
  lag: Lag;
  sliceP99: number[];
  executionsPerS: number;
  byStatus: Record<string, number>;
  live: number;
  history: number;
  cpu: Cpu;
  start?: EtcdGauges;
  end?: EtcdGauges;
  growth?: EtcdGrowth;
  importS: number;
  planS: number;
  profile?: string[];
}

async function runRate(
  rate: number,
  compaction: 'default' | 'off',
  warmupS: number,
  windowS: number,
): Promise<RateFigures> {
  const profiling = compaction === 'default' && rate === PROFILE_RATE && PROFILE_S > 0;
  const profileDir = profiling ? mkdtempSync(join(tmpdir(), 'forest-bench-prof-')) : undefined;
  if (profileDir) removeOnExit.add(profileDir);
  const profileFile = profileDir ? join(profileDir, 'node.cpuprofile') : undefined;
  const label = `${rate}-${compaction}`;
  const stack = new Stack({ label, rate, compaction, profileFile });
  try {
    await stack.start();
    const firstFire = Math.ceil(Date.now() / 1000) * 1000;
    const from = firstFire + Math.ceil(warmupS) * 1000;
    const to = from + windowS * 1000;
    const starts = new Starts(rate, from, to, SLICE_S * 1000);
    stack.onRecord((record) => starts.record(record));
    await sleep(from - Date.now());
    const cpuStart = stack.cpu();
    const gaugesStart = await stack.gauges();
    await sleep(to - Date.now());
    const cpuEnd = stack.cpu();
    const gaugesEnd = await stack.gauges();

    // Profile the load right after the window; meanwhile its last fires start.
    if (profiling) stack.profiler('start');
    const drainStart = Date.now();
    while (starts.started < starts.expected && Date.now() - drainStart < DRAIN_MAX_MS) {
      await sleep(100);
    }
    let profile: string[] | undefined;
    if (profiling && profileFile) {
      await sleep(drainStart + PROFILE_S * 1000 - Date.now());
      stack.profiler('stop');
      await waitFor('the CPU profile', () => Promise.resolve(existsSync(profileFile)), 30_000);
      profile = summariseProfile(profileFile, PROFILE_S, rate);
      if (PROFILE_OUT) {
        copyFileSync(profileFile, PROFILE_OUT);
        profile.push(`  (profile kept in ${PROFILE_OUT}: open it in Chrome DevTools)`);
      }
    }
    await sleep(SETTLE_MS);
    await stack.quiesce();
    const recorded = await readRecorded(stack, from, to, SLICE_S * 1000);
    const created = sum(recorded.createdPerSlice);
    return {
      rate,
      compaction,
      windowS,
      expected: starts.expected,
      created,
      notStarted: starts.expected - starts.started,
      ranTwice: starts.ranTwice,
      early: starts.early,
      lag: starts.lag(),
      sliceP99: starts.lags.map((_, i) => starts.sliceLag(i).p99),
      executionsPerS: sum(recorded.succeededPerSlice) / windowS,
      byStatus: recorded.byStatus,
      live: recorded.live,
      history: recorded.history,
      cpu: cpuPercent(cpuStart, cpuEnd, windowS),
      start: gaugesStart,
      end: gaugesEnd,
      growth: etcdGrowth(gaugesStart, gaugesEnd, rate * windowS),
      importS: stack.importS,
      planS: stack.planS,
      profile,
    };
  } catch (error) {
    console.error(stack.describeFailure());
    throw error;
  } finally {
    await stack.stop();
    if (profileDir) {
      rmSync(profileDir, { recursive: true, force: true });
      removeOnExit.delete(profileDir);
    }
  }
}

function printRate(f: RateFigures): void {
  const title =
    f.compaction === 'default'
      ? `sustained ${count(f.rate)} fires/s, ${f.windowS} s window (node defaults)`
      : `  same rate, node compaction OFF, ${f.windowS} s window`;
  const growth = f.growth;
  console.log(
    `${title}: ${count(f.rate)} jobs imported through the API in ${f.importS.toFixed(1)} s ` +
      `(in the plan ${f.planS.toFixed(1)} s later)`,
  );
  console.log(
    `  fires ${count(f.expected)}, with a first-attempt execution ${count(f.created)} ` +
      `(missed ${count(f.expected - f.created)}; ${count(f.history)} in PostgreSQL, ` +
      `${count(f.live)} live in etcd), handler not started by the end ${count(f.notStarted)}, ` +
      `ran twice ${f.ranTwice}, started early ${f.early}`,
  );
  console.log(`  first attempts by status: ${statusText(f.byStatus) || 'none'}`);
  console.log(
    `  handler-start lag p50 ${ms(f.lag.p50)}, p99 ${ms(f.lag.p99)}, max ${ms(f.lag.max)} ` +
      `(${count(f.lag.n)} starts); p99 per ${SLICE_S} s: ` +
      `${f.sliceP99.map((v) => (Number.isFinite(v) ? v.toFixed(0) : '-')).join(' ')} ms`,
  );
  console.log(
    `  executions/s end to end (succeeded within the window): ${f.executionsPerS.toFixed(0)}`,
  );
  console.log(`  CPU, % of one core: ${cpuText(f.cpu)}`);
  if (growth && f.end) {
    console.log(
      `  etcd over the window: in-use growth ${perFire(growth.inUsePerFire)}/fire, ` +
        `logical bytes put ${perFire(growth.putBytesPerFire)}/fire, ` +
        `${growth.revisionsPerFire.toFixed(2)} revisions and ${growth.keyWritesPerFire.toFixed(2)} ` +
        `key writes/fire, ${growth.compactions} compaction(s); at the window's end db total ` +
        `${mib(f.end.totalBytes)}, in use ${mib(f.end.inUseBytes)} (quota ${mib(f.end.quotaBytes)}), ` +
        `${count(f.end.keys)} keys, slow watchers ${f.end.slowWatchers}, pending watch events ` +
        `${f.end.pendingEvents}`,
    );
    if (f.end.totalBytes >= f.end.quotaBytes * 0.95) {
      console.log('  etcd is at its quota: past it etcd raises NOSPACE and refuses every write');
    }
  }
  for (const line of f.profile ?? []) console.log(line);
}

// ---------------------------------------------------------------------------------------------
// The long run
// ---------------------------------------------------------------------------------------------

interface Minute {
  expected: number;
  created: number;
  notStarted: number;
  lag: Lag;
  executionsPerS: number;
  totalBytes?: number;
  inUseBytes?: number;
  /** In-use growth over the minute / its fires (negative: compaction freed more). */
  inUsePerFire?: number;
  compactions?: number;
  cpu: Cpu;
}

interface LongFigures {
  rate: number;
  minutes: Minute[];
  maxTotalBytes: number;
  maxInUseBytes: number;
  end?: EtcdGauges;
  lag: Lag;
  missed: number;
  notStarted: number;
  executionsPerS: number;
  cpu: Cpu;
}

async function runLong(rate: number, minutes: number): Promise<LongFigures> {
  const stack = new Stack({ label: `long-${rate}`, rate, compaction: 'default' });
  try {
    await stack.start();
    const firstFire = Math.ceil(Date.now() / 1000) * 1000;
    const from = firstFire + Math.ceil(WARMUP_S) * 1000;
    const windowS = Math.max(1, Math.round(minutes * 60));
    const to = from + windowS * 1000;
    const sliceMs = MINUTE_S * 1000;
    const starts = new Starts(rate, from, to, sliceMs);
    stack.onRecord((record) => starts.record(record));
    let maxTotalBytes = 0;
    let maxInUseBytes = 0;
    // The database size every 5 s, for its peak between the minute marks.
    const poll = setInterval(() => {
      void stack.gauges().then((gauges) => {
        if (!gauges) return;
        maxTotalBytes = Math.max(maxTotalBytes, gauges.totalBytes);
        maxInUseBytes = Math.max(maxInUseBytes, gauges.inUseBytes);
      });
    }, 5000);
    try {
      await sleep(from - Date.now());
      const cpuStart = stack.cpu();
      let cpuMark = cpuStart;
      let markAt = from;
      const gaugesStart = await stack.gauges();
      let gaugesMark = gaugesStart;
      const marks: { gauges?: EtcdGauges; cpu: Cpu }[] = [];
      const slices = Math.ceil(windowS / MINUTE_S);
      for (let m = 1; m <= slices; m++) {
        const at = Math.min(to, from + m * sliceMs);
        await sleep(at - Date.now());
        const cpu = stack.cpu();
        const gauges = await stack.gauges();
        const cpuOfMinute = cpuPercent(cpuMark, cpu, (at - markAt) / 1000);
        markAt = at;
        marks.push({ gauges, cpu: cpuOfMinute });
        if (gauges) {
          maxTotalBytes = Math.max(maxTotalBytes, gauges.totalBytes);
          maxInUseBytes = Math.max(maxInUseBytes, gauges.inUseBytes);
        }
        // The minute's lag so far (its last second's fires may still be starting).
        const lag = starts.sliceLag(m - 1);
        console.log(
          `  long run minute ${m}: etcd db total ${mib(gauges?.totalBytes)}, in use ` +
            `${mib(gauges?.inUseBytes)}, compactions ` +
            `${gauges && gaugesMark ? gauges.compactions - gaugesMark.compactions : 'n/a'}; ` +
            `lag p99 so far ${ms(lag.p99)} (${count(lag.n)} starts); CPU ${cpuText(cpuOfMinute)}`,
        );
        cpuMark = cpu;
        gaugesMark = gauges;
      }
      const cpuEnd = stack.cpu();
      const drainStart = Date.now();
      while (starts.started < starts.expected && Date.now() - drainStart < DRAIN_MAX_MS) {
        await sleep(100);
      }
      await sleep(SETTLE_MS);
      clearInterval(poll);
      const end = await stack.gauges();
      await stack.quiesce();
      const recorded = await readRecorded(stack, from, to, sliceMs);
      const minuteRows: Minute[] = marks.map((mark, i) => {
        const sliceS = Math.min(MINUTE_S, windowS - i * MINUTE_S);
        const growth = etcdGrowth(
          i === 0 ? gaugesStart : marks[i - 1].gauges,
          mark.gauges,
          rate * sliceS,
        );
        return {
          expected: rate * sliceS,
          created: recorded.createdPerSlice[i],
          notStarted: starts.notStartedIn(i) - (MINUTE_S - sliceS) * rate,
          lag: starts.sliceLag(i),
          executionsPerS: recorded.succeededPerSlice[i] / sliceS,
          totalBytes: mark.gauges?.totalBytes,
          inUseBytes: mark.gauges?.inUseBytes,
          inUsePerFire: growth?.inUsePerFire,
          compactions: growth?.compactions,
          cpu: mark.cpu,
        };
      });
      return {
        rate,
        minutes: minuteRows,
        maxTotalBytes,
        maxInUseBytes,
        end,
        lag: starts.lag(),
        missed: starts.expected - sum(recorded.createdPerSlice),
        notStarted: starts.expected - starts.started,
        executionsPerS: sum(recorded.succeededPerSlice) / windowS,
        cpu: cpuPercent(cpuStart, cpuEnd, windowS),
      };
    } finally {
      clearInterval(poll);
    }
  } catch (error) {
    console.error(stack.describeFailure());
    throw error;
  } finally {
    await stack.stop();
  }
}

function printLong(f: LongFigures): void {
  console.log(
    `long run ${count(f.rate)} fires/s for ${LONG_MIN} min (node defaults): missed ` +
      `${count(f.missed)}, handler not started by the end ${count(f.notStarted)}, lag p50 ` +
      `${ms(f.lag.p50)} p99 ${ms(f.lag.p99)} max ${ms(f.lag.max)}, ` +
      `${f.executionsPerS.toFixed(0)} executions/s; etcd db peak total ${mib(f.maxTotalBytes)}, ` +
      `peak in use ${mib(f.maxInUseBytes)}; at the end total ${mib(f.end?.totalBytes)}, in use ` +
      `${mib(f.end?.inUseBytes)}; CPU ${cpuText(f.cpu)}`,
  );
  printColumns(
    [
      'minute',
      'missed',
      'not started',
      'lag p50',
      'lag p99',
      'lag max',
      'exec/s',
      'db total',
      'db in use',
      'in use +/fire',
      'compactions',
      'CPU node/etcd/pg',
    ],
    f.minutes.map((m, i) => [
      String(i + 1),
      count(m.expected - m.created),
      count(m.notStarted),
      ms(m.lag.p50),
      ms(m.lag.p99),
      ms(m.lag.max),
      m.executionsPerS.toFixed(0),
      mib(m.totalBytes),
      mib(m.inUseBytes),
      perFire(m.inUsePerFire),
      m.compactions === undefined ? '-' : String(m.compactions),
      `${pct(m.cpu.node)} / ${pct(m.cpu.etcd)} / ${pct(m.cpu.postgres)}`,
    ]),
    [6, 8, 11, 9, 9, 9, 7, 12, 12, 13, 11, 18],
  );
}

// ---------------------------------------------------------------------------------------------

function printSummary(rates: RateFigures[], offRuns: RateFigures[], long?: LongFigures): void {
  const rows: string[][] = [];
  for (const f of rates) {
    const at = `${count(f.rate)}/s`;
    const off = offRuns.find((o) => o.rate === f.rate);
    const lagTarget = TARGETS.lagP99Ms[f.rate];
    rows.push([`${at}: lag p99`, ms(f.lag.p99), lagTarget ? `<= ${lagTarget} ms` : '']);
    rows.push([`${at}: lag p50 / max`, `${ms(f.lag.p50)} / ${ms(f.lag.max)}`, '']);
    rows.push([`${at}: missed fires`, count(f.expected - f.created), '0']);
    rows.push([`${at}: handler not started by the end`, count(f.notStarted), '0']);
    rows.push([
      `${at}: executions/s end to end`,
      f.executionsPerS.toFixed(0),
      f.rate >= TARGETS.executionsPerS ? `>= ${TARGETS.executionsPerS}` : '',
    ]);
    rows.push([
      `${at}: CPU node / etcd / PostgreSQL / workers`,
      `${pct(f.cpu.node)} / ${pct(f.cpu.etcd)} / ${pct(f.cpu.postgres)} / ${pct(f.cpu.workers)}`,
      '',
    ]);
    rows.push([
      `${at}: etcd bytes/fire, compaction off`,
      off?.growth ? perFire(off.growth.inUsePerFire) : 'n/a',
      '',
    ]);
    rows.push([
      `${at}: etcd bytes/fire, node defaults`,
      `${perFire(f.growth?.inUsePerFire)} (${f.growth?.compactions ?? '?'} compactions)`,
      '',
    ]);
    rows.push([
      `${at}: etcd db total / in use at the end`,
      `${mib(f.end?.totalBytes)} / ${mib(f.end?.inUseBytes)}`,
      '',
    ]);
  }
  if (long) {
    const at = `long ${count(long.rate)}/s ${LONG_MIN} min`;
    rows.push([
      `${at}: etcd db peak total / in use`,
      `${mib(long.maxTotalBytes)} / ${mib(long.maxInUseBytes)}`,
      '< 1024 MiB',
    ]);
    rows.push([`${at}: missed fires`, count(long.missed), '0']);
    rows.push([
      `${at}: lag p99 (worst minute)`,
      ms(Math.max(...long.minutes.map((m) => m.lag.p99).filter(Number.isFinite))),
      TARGETS.lagP99Ms[long.rate] ? `<= ${TARGETS.lagP99Ms[long.rate]} ms` : '',
    ]);
    rows.push([
      `${at}: executions/s`,
      long.executionsPerS.toFixed(0),
      long.rate >= TARGETS.executionsPerS ? `>= ${TARGETS.executionsPerS}` : '',
    ]);
  }
  printColumns(['figure', 'measured', 'target (issue #13)'], rows, [52, 30]);
}

function estimateS(): number {
  let total = 0;
  for (const rate of RATES) {
    total += SETUP_ESTIMATE_S + WARMUP_S + WINDOW_S + SETTLE_MS / 1000 + 5;
    if (rate === PROFILE_RATE && PROFILE_S > 0) total += PROFILE_S;
    if (NOCOMPACT_S > 0) total += SETUP_ESTIMATE_S + NOCOMPACT_WARMUP_S + NOCOMPACT_S + 5;
  }
  if (LONG_MIN > 0) total += SETUP_ESTIMATE_S + WARMUP_S + LONG_MIN * 60 + 10;
  return total;
}

async function main(): Promise<void> {
  console.log(
    `sustained-load benchmark (${new Date().toISOString()}, node ${process.version}, ` +
      `${cpus().length} CPUs shared by etcd, PostgreSQL, the node, ${WORKERS} worker processes ` +
      `and this one; node log level ${LOG_LEVEL})`,
  );
  if (Object.keys(NODE_ENV).length > 0) {
    console.log(
      `node settings instead of the defaults: ${Object.entries(NODE_ENV)
        .map(([name, value]) => `${name}=${value}`)
        .join(' ')}`,
    );
  }
  console.log(
    'plan: ' +
      (RATES.length === 0
        ? 'no rate runs'
        : `rates ${RATES.join(', ')} fires/s, each ${WARMUP_S} s warm-up + ${WINDOW_S} s window`) +
      (NOCOMPACT_S > 0 && RATES.length > 0
        ? `, then a compaction-off run (${NOCOMPACT_WARMUP_S} s + ${NOCOMPACT_S} s)`
        : '') +
      (PROFILE_S > 0 && RATES.includes(PROFILE_RATE)
        ? `; node CPU profile ${PROFILE_S} s at ${PROFILE_RATE}/s`
        : '') +
      (LONG_MIN > 0 ? `; long run ${LONG_RATE}/s for ${LONG_MIN} min` : '; no long run') +
      `. Expected duration about ${duration(estimateS())}.`,
  );
  console.log(
    'etcd bytes/fire: growth of etcd_mvcc_db_total_size_in_use_in_bytes over the window divided ' +
      'by the fires of the window. "compaction off" runs the node with ' +
      'FOREST_ETCD_COMPACTION_INTERVAL_S=0, FOREST_ETCD_COMPACTION_REVISIONS=0 and ' +
      'FOREST_ETCD_COMPACTION_MAX_MB=0 (etcd itself ' +
      'does not auto-compact), so every revision stays: what one fire adds to etcd history. ' +
      '"node defaults" is the same reading with the node compacting as it does by default (the ' +
      'compactions etcd ran in the window are counted; with none it equals the first figure). ' +
      'PostgreSQL runs as test/support/postgres-harness.ts starts it (fsync=off).',
  );
  const rates: RateFigures[] = [];
  const offRuns: RateFigures[] = [];
  for (const rate of RATES) {
    const figures = await runRate(rate, 'default', WARMUP_S, WINDOW_S);
    rates.push(figures);
    printRate(figures);
    if (NOCOMPACT_S > 0) {
      const off = await runRate(rate, 'off', NOCOMPACT_WARMUP_S, NOCOMPACT_S);
      offRuns.push(off);
      printRate(off);
    }
  }
  let long: LongFigures | undefined;
  if (LONG_MIN > 0) {
    console.log(`long run: ${count(LONG_RATE)} fires/s, ${WARMUP_S} s warm-up, ${LONG_MIN} min`);
    long = await runLong(LONG_RATE, LONG_MIN);
    printLong(long);
  }
  printSummary(rates, offRuns, long);
}

/** Ctrl-C / SIGTERM: stop every stack (by pid, temp dirs removed), then exit. */
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) return;
    interrupted = true;
    console.error(`\n${signal}: stopping every process this benchmark started...`);
    const stops = Promise.allSettled([...liveStacks].map((stack) => stack.stop()));
    void Promise.race([stops, sleep(20_000)]).finally(() => process.exit(130));
  });
}

runBenchmark(main);
