import { ForestWorker, type ForestJobContext } from '@forest/worker/client';
import { eventually } from './wait';

/**
 * In-process ForestWorker SDK workers for e2e tests against an app listening on a real
 * port. Every worker of a fleet serves the same targets; what each handler saw is recorded
 * in `runs`, and each worker's concurrency is tracked so a test can check capacity held.
 */

/** What a fleet handler does; it gets the context and the name of the worker running it. */
export type FleetHandler = (ctx: ForestJobContext, worker: string) => unknown;

/** One handler run, as the handler saw it. */
export interface FleetRun {
  /** The fleet name of the worker (its declared host, so its id is `{name}-{random}-{lease}`). */
  worker: string;
  workerId: string;
  executionId: string;
  jobId: string;
  target: string;
  params: unknown;
  shard?: { index: number; total: number };
  startedMs: number;
  endedMs?: number;
  ok?: boolean;
}

export interface FleetWorkerSpec {
  name: string;
  labels?: Record<string, string>;
  /** The SDK's concurrency, declared as the worker's capacity. Default 2. */
  concurrency?: number;
}

export interface FleetWorker {
  name: string;
  id: string;
  labels: Record<string, string>;
  concurrency: number;
  sdk: ForestWorker;
  /** Handlers of this worker running now, and the most that ever ran at once. */
  running: number;
  maxRunning: number;
}

export interface WorkerFleetOptions {
  /**
   * The token the workers register with (FOREST_AUTH=on: a worker token of the group, or an
   * admin token). Default none: an app with auth off.
   */
  token?: string;
  /** The token that lists them (GET /api/workers needs `read`). Default `token`. */
  readToken?: string;
}

export class WorkerFleet {
  readonly runs: FleetRun[] = [];
  readonly workers: FleetWorker[] = [];

  constructor(
    private readonly baseUrl: string,
    readonly group: string,
    private readonly handlers: Record<string, FleetHandler>,
    private readonly pollWaitMs = 500,
    private readonly options: WorkerFleetOptions = {},
  ) {}

  /**
   * Starts a worker and resolves once GET /api/workers lists it, so workers added one after
   * another register (and are ordered by registration time) in the order they were added.
   */
  async add(spec: FleetWorkerSpec): Promise<FleetWorker> {
    const concurrency = spec.concurrency ?? 2;
    const labels = spec.labels ?? {};
    // `sdk` and `id` are filled in below.
    const worker = {
      name: spec.name,
      labels,
      concurrency,
      running: 0,
      maxRunning: 0,
    } as FleetWorker;
    const handlers = Object.fromEntries(
      Object.entries(this.handlers).map(([target, handle]) => [
        target,
        async (ctx: ForestJobContext) => {
          const run: FleetRun = {
            worker: spec.name,
            workerId: worker.sdk.status.workerId ?? worker.id,
            executionId: ctx.executionId,
            jobId: ctx.jobId,
            target: ctx.target,
            params: ctx.params,
            ...(ctx.shard ? { shard: { ...ctx.shard } } : {}),
            startedMs: Date.now(),
          };
          this.runs.push(run);
          worker.running++;
          worker.maxRunning = Math.max(worker.maxRunning, worker.running);
          try {
            const result = await handle(ctx, spec.name);
            run.ok = true;
            return result;
          } catch (error) {
            run.ok = false;
            throw error;
          } finally {
            run.endedMs = Date.now();
            worker.running--;
          }
        },
      ]),
    );
    const sdk = new ForestWorker({
      nodes: [this.baseUrl],
      group: this.group,
      handlers,
      concurrency,
      labels,
      host: spec.name,
      pollWaitMs: this.pollWaitMs,
      requestTimeoutMs: 5000,
      retry: { initialMs: 50, maxMs: 500 },
      logger: false,
      // Explicit, so a FOREST_WORKER_TOKEN of the test's environment is never picked up.
      token: this.options.token ?? '',
    });
    worker.sdk = sdk;
    this.workers.push(worker);
    await sdk.start();
    const id = sdk.status.workerId;
    if (id === undefined) throw new Error(`worker ${spec.name} did not register`);
    worker.id = id;
    await eventually(async () => {
      const listed = await this.listWorkers();
      if (!listed.some((w) => w.id === id)) throw new Error(`worker ${id} is not listed yet`);
    }, 10_000);
    return worker;
  }

  /** GET /api/workers?group=... of the fleet's group. */
  async listWorkers(): Promise<
    { id: string; labels: Record<string, string>; registeredAt: string }[]
  > {
    const readToken = this.options.readToken ?? this.options.token;
    const response = await fetch(
      `${this.baseUrl}/api/workers?group=${encodeURIComponent(this.group)}`,
      readToken ? { headers: { authorization: `Bearer ${readToken}` } } : {},
    );
    if (!response.ok) throw new Error(`GET /api/workers answered ${response.status}`);
    const page = (await response.json()) as {
      items: { id: string; labels: Record<string, string>; registeredAt: string }[];
    };
    return page.items;
  }

  /** The fleet worker with this id. */
  byId(id: string | undefined): FleetWorker | undefined {
    return this.workers.find((w) => w.id === id);
  }

  runsOf(jobId: string): FleetRun[] {
    return this.runs.filter((run) => run.jobId === jobId);
  }

  /** Stops every worker (gracefully: each leaves the group). */
  async stopAll(): Promise<void> {
    const workers = this.workers.splice(0);
    await Promise.allSettled(
      workers.map((w) => w.sdk.stop({ timeoutMs: 2000, abortGraceMs: 200, flushTimeoutMs: 2000 })),
    );
  }
}
