import { randomUUID } from 'node:crypto';
import { ExecutionRecord } from '@forest/protocol';
import { EtcdHarness } from './etcd-harness';
import { NodeProcess } from './node-process';
import { waitForSingleLeader } from './node-api';
import { eventually, sleep } from './wait';
import { WorkerProcess, WorkerProcessOptions } from './worker-process';

/** An execution as the API answers it: the stored record's fields plus the API's own. */
export type ApiExecution = ExecutionRecord & { retryAt?: string };

interface ExecutionPage {
  items: ApiExecution[];
  next?: string;
}

export const SECOND = 1000;

/**
 * A real etcd, Forest nodes as processes on one fresh key prefix, and worker processes
 * (test/support/worker-main.ts): the execution-lifecycle cluster tests' rig. Workers get
 * every node's URL, so they fail over when one is killed. `close()` SIGKILLs every process
 * it started and removes etcd's data dir.
 */
export class LifecycleRig {
  /** Nodes not killed, in start order. */
  nodes: NodeProcess[] = [];
  /** Every node process started, also the killed ones: their output explains a failure. */
  readonly started: NodeProcess[] = [];
  readonly workers: WorkerProcess[] = [];
  readonly prefix = `/forest-life-${randomUUID().slice(0, 8)}`;

  private constructor(
    readonly etcd: EtcdHarness,
    private readonly nodeEnv: Record<string, string>,
  ) {}

  /** Starts etcd and `nodeIds` nodes one after another, and waits for one leader. */
  static async start(nodeIds: string[], nodeEnv: Record<string, string>): Promise<LifecycleRig> {
    const rig = new LifecycleRig(await EtcdHarness.start(), nodeEnv);
    try {
      // One after another: nodes transpiling at once on two cores only slow each other down.
      for (const id of nodeIds) await rig.startNode(id);
      await rig.leader();
    } catch (error) {
      await rig.close();
      throw error;
    }
    return rig;
  }

  async startNode(id: string): Promise<NodeProcess> {
    const node = await NodeProcess.start({
      FOREST_ETCD_ENDPOINTS: this.etcd.endpoint,
      FOREST_KEY_PREFIX: this.prefix,
      FOREST_NODE_ID: id,
      FOREST_LOG_LEVEL: 'warn',
      ...this.nodeEnv,
    });
    this.started.push(node);
    this.nodes.push(node);
    return node;
  }

  /** The node all live nodes agree leads. */
  async leader(timeoutMs = 15_000): Promise<NodeProcess> {
    const id = await waitForSingleLeader(this.nodes, timeoutMs);
    return this.nodes.find((node) => node.nodeId === id)!;
  }

  /**
   * SIGKILLs the leader and waits until the survivors agree on a new one. Returns the
   * killed id, when it died, and the new leader's id.
   */
  async killLeader(
    failoverTimeoutMs = 15_000,
  ): Promise<{ killed: string; at: number; newLeader: string; failoverMs: number }> {
    const leader = await this.leader();
    const at = Date.now();
    await leader.stop('SIGKILL');
    this.nodes = this.nodes.filter((node) => node !== leader);
    const newLeader = await waitForSingleLeader(this.nodes, failoverTimeoutMs);
    return { killed: leader.nodeId!, at, newLeader, failoverMs: Date.now() - at };
  }

  async startWorker(options: Omit<WorkerProcessOptions, 'nodes'>): Promise<WorkerProcess> {
    const worker = await WorkerProcess.start({
      nodes: this.nodes.map((node) => node.baseUrl),
      ...options,
    });
    this.workers.push(worker);
    return worker;
  }

  /** Waits until GET /api/workers?group= lists exactly these worker ids. */
  async waitListed(group: string, ...ids: string[]): Promise<void> {
    await eventually(async () => {
      const listed = (
        await this.api<{ items: { id: string }[] }>('GET', `/api/workers?group=${group}`)
      ).items;
      expect(listed.map((w) => w.id).sort()).toEqual([...ids].sort());
    }, 15_000);
  }

  /** A JSON request to a live node (the next one if a node does not answer); throws unless 2xx. */
  async api<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const response = await this.raw(method, path, body);
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path} -> ${response.status} ${text}`);
    return JSON.parse(text) as T;
  }

  async raw(method: 'GET' | 'POST', path: string, body?: unknown): Promise<Response> {
    let lastError: unknown;
    for (const node of this.nodes) {
      try {
        return await fetch(`${node.baseUrl}${path}`, {
          method,
          headers: body === undefined ? {} : { 'content-type': 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(5000),
        });
      } catch (error) {
        lastError = error;
      }
    }
    throw lastError instanceof Error ? lastError : new Error(`no live node: ${String(lastError)}`);
  }

  getExecution(id: string): Promise<ApiExecution> {
    return this.api<ApiExecution>('GET', `/api/executions/${encodeURIComponent(id)}`);
  }

  /** Every execution of a job through the list API, following `next`, in its order. */
  async listExecutions(jobId: string): Promise<ApiExecution[]> {
    return this.pages(new URLSearchParams({ jobId, limit: '100', order: 'asc' }));
  }

  /** GET /api/executions?attemptsOf=id: the attempts of that fire, in the API's order. */
  attemptsOf(id: string): Promise<ApiExecution[]> {
    return this.pages(new URLSearchParams({ attemptsOf: id, limit: '100' }));
  }

  /** Runs a test body; on failure prints what the nodes and the workers said. */
  async explained(body: () => Promise<void>): Promise<void> {
    try {
      await body();
    } catch (error) {
      console.log(
        this.started
          .map((node) => `--- node ${node.nodeId} (tail) ---\n${node.log.slice(-6000)}`)
          .join('\n') +
          '\n' +
          this.workers.map((w) => w.describe().slice(-4000)).join('\n'),
      );
      throw error;
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.stop('SIGKILL')));
    await Promise.all(this.started.map((node) => node.stop('SIGKILL')));
    await this.etcd.stop();
  }

  private async pages(query: URLSearchParams): Promise<ApiExecution[]> {
    const all: ApiExecution[] = [];
    for (;;) {
      const page = await this.api<ExecutionPage>('GET', `/api/executions?${query.toString()}`);
      all.push(...page.items);
      if (!page.next) return all;
      query.set('cursor', page.next);
    }
  }
}

/** Waits until the wall clock reaches `ms`. */
export async function sleepUntil(ms: number): Promise<void> {
  const left = ms - Date.now();
  if (left > 0) await sleep(left);
}

/** A cron (6 fields, UTC) that fires once a minute, at the second of `ms`. */
export function cronAtSecondOf(ms: number): string {
  return `${new Date(ms).getUTCSeconds()} * * * * *`;
}

/** The time of a timeline entry with this status (the first one), epoch ms. */
export function timelineAt(record: ExecutionRecord, status: string): number | undefined {
  const entry = record.timeline.find((t) => t.status === status);
  return entry ? Date.parse(entry.at) : undefined;
}
