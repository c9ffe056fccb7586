import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  MAX_HELD_PER_HEARTBEAT,
  MAX_REPORT_TEXT_BYTES,
  REPORT_STATUSES,
  type AbortNotice,
  type Assignment,
  type ExecutionReport,
  type HeartbeatResponse,
  type PollResponse,
  type RegisterWorkerRequest,
  type RegisterWorkerResponse,
  type ReportBatchResponse,
  type ReportResult,
} from '@forest/protocol';

/**
 * A scheduler node for the worker SDK's tests: the worker protocol's endpoints
 * (libs/protocol/src/worker-protocol.types.ts) over node:http with in-memory state, plus
 * knobs to assign work, expire leases, hold or fail requests. Not the real server.
 *
 * Like the real node it issues a session secret at registration and checks it on every
 * later call (`Authorization: Bearer <secret>`): none is 401 WORKER_UNAUTHENTICATED, a wrong
 * one 403 WORKER_FORBIDDEN; with `token` set, registration needs that bearer token.
 */

export type FakeExecutionStatus =
  'assigned' | 'running' | 'succeeded' | 'failed' | 'timed_out' | 'lost' | 'cancelled';

export interface FakeExecution {
  assignment: Assignment;
  /** The worker that holds it; undefined once it was taken away (lost). */
  workerId: string | undefined;
  status: FakeExecutionStatus;
  revision: number;
  /** How many poll answers carried it. */
  deliveries: number;
  /** Accepted reports, in order. */
  reports: ExecutionReport[];
  output?: string;
  error?: string;
}

export interface FakeWorker extends RegisterWorkerRequest {
  id: string;
  heartbeats: number;
  /** The session secret its registration returned. */
  secret: string;
}

export interface FakeRequest {
  method: string;
  path: string;
  status: number;
  /** The bearer token or secret the request carried (`Authorization: Bearer …`). */
  bearer: string | undefined;
}

export interface FakePoll {
  workerId: string;
  after: number;
  waitMs: number;
  max: number;
}

export interface FakeNodeOptions {
  name?: string;
  leaseTtlS?: number;
  heartbeatIntervalMs?: number;
  /** Groups that exist; default: any group exists. */
  groups?: string[];
  /**
   * Another fake node of the same cluster: both serve the same workers and executions (as
   * two real nodes share the store), each with its own requests, knobs and freeze.
   */
  peer?: FakeNode;
  /**
   * FOREST_AUTH=on: registration needs `Authorization: Bearer <token>` (none: 401
   * UNAUTHORIZED, another: 403 FORBIDDEN). Default: registration needs no token.
   */
  token?: string;
}

export interface FakeHeartbeat {
  workerId: string;
  /** The body's held list (undefined when the body had none). */
  held: string[] | undefined;
  abort: AbortNotice[];
}

export interface AssignInput {
  target: string;
  workerId?: string;
  group?: string;
  jobId?: string;
  jobName?: string;
  params?: unknown;
  attempt?: number;
  trigger?: Assignment['trigger'];
  timeoutMs?: number;
  scheduledMs?: number;
}

interface PollWaiter {
  node: FakeNode;
  workerId: string;
  after: number;
  max: number;
  timer: NodeJS.Timeout;
  answer: (timedOut: boolean) => boolean;
}

interface Answer {
  status: number;
  body?: unknown;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const BODY_LIMIT = 1024 * 1024;

/** What the nodes of one fake cluster share (the store, for real nodes). */
interface SharedState {
  workers: Map<string, FakeWorker>;
  executions: Map<string, FakeExecution>;
  waiters: Set<PollWaiter>;
  revision: number;
  nextWorker: number;
  nextExecution: number;
}

export class FakeNode {
  readonly requests: FakeRequest[] = [];
  readonly polls: FakePoll[] = [];
  readonly reportBatches: ExecutionReport[][] = [];
  readonly registrations: RegisterWorkerRequest[] = [];
  /** While set, every request is answered with this status (say 503). */
  failAll: number | undefined;
  /** While above 0, that many report requests are answered 503 (then it counts down). */
  failReports = 0;
  /** While set, heartbeats are answered with this status (say 503). */
  failHeartbeats: number | undefined;
  /** Heartbeats answered 200, with what they held and what they were told to abort. */
  readonly heartbeats: FakeHeartbeat[] = [];

  private held: Array<() => void> | undefined;
  /** While set, requests get no answer (a SIGSTOPped node): they wait for close(). */
  private frozen: Promise<void> | undefined;
  private thaw: () => void = () => undefined;
  private readonly shared: SharedState;

  private constructor(
    private readonly server: Server,
    readonly url: string,
    private readonly options: FakeNodeOptions,
  ) {
    this.shared = options.peer?.shared ?? {
      workers: new Map(),
      executions: new Map(),
      waiters: new Set(),
      revision: 0,
      nextWorker: 1,
      nextExecution: 1,
    };
  }

  get workers(): Map<string, FakeWorker> {
    return this.shared.workers;
  }

  get executions(): Map<string, FakeExecution> {
    return this.shared.executions;
  }

  private get waiters(): Set<PollWaiter> {
    return this.shared.waiters;
  }

  static async start(options: FakeNodeOptions = {}): Promise<FakeNode> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const node = new FakeNode(server, `http://127.0.0.1:${port}`, options);
    server.on('request', (req, res) => void node.handle(req, res));
    return node;
  }

  /** A base URL where nothing listens (a dead node). */
  static async deadUrl(): Promise<string> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return `http://127.0.0.1:${port}`;
  }

  async close(): Promise<void> {
    this.releaseReports();
    this.thaw();
    for (const waiter of [...this.waiters]) {
      if (waiter.node !== this) continue;
      clearTimeout(waiter.timer);
      this.waiters.delete(waiter);
    }
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ---- test knobs --------------------------------------------------------------------

  /**
   * The node stops answering, as a SIGSTOPped process does: connections still open, but
   * no request (nor a waiting long poll) gets an answer until close().
   */
  freeze(): void {
    this.frozen ??= new Promise<void>((resolve) => (this.thaw = resolve));
  }

  /** Report requests wait until releaseReports(). */
  holdReports(): void {
    this.held ??= [];
  }

  releaseReports(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const release of held) release();
  }

  /** Puts an execution into a worker's inbox, as the leader's dispatch would. */
  assign(input: AssignInput): Assignment {
    const worker = input.workerId
      ? this.workers.get(input.workerId)
      : [...this.workers.values()].find(
          (w) => w.targets.includes(input.target) && (!input.group || w.group === input.group),
        );
    if (!worker) throw new Error(`fake node: no worker for target ${input.target}`);
    const jobId = input.jobId ?? `job-${input.target}`;
    const scheduledMs = input.scheduledMs ?? Date.now();
    const assignment: Assignment = {
      executionId: `${jobId}~${String(this.shared.nextExecution++).padStart(6, '0')}`,
      jobId,
      jobName: input.jobName ?? `Job ${input.target}`,
      group: worker.group,
      target: input.target,
      params: input.params ?? {},
      trigger: input.trigger ?? 'schedule',
      attempt: input.attempt ?? 1,
      scheduledMs,
      scheduledAt: new Date(scheduledMs).toISOString(),
      timeoutMs: input.timeoutMs ?? 0,
      workerId: worker.id,
      assignedAt: new Date().toISOString(),
      state: 'assigned',
    };
    this.executions.set(assignment.executionId, {
      assignment,
      workerId: worker.id,
      status: 'assigned',
      revision: ++this.shared.revision,
      deliveries: 0,
      reports: [],
    });
    this.wake(worker.id);
    return assignment;
  }

  /** The leader moves an unstarted execution to another worker (say after a lost lease). */
  move(executionId: string, workerId: string): void {
    const execution = this.executions.get(executionId);
    const worker = this.workers.get(workerId);
    if (!execution || !worker) throw new Error(`fake node: cannot move ${executionId}`);
    execution.workerId = workerId;
    execution.status = 'assigned';
    execution.revision = ++this.shared.revision;
    execution.assignment = { ...execution.assignment, workerId, state: 'assigned' };
    this.wake(workerId);
  }

  /** The worker's lease runs out: it is gone, and so is its work. */
  expireWorker(workerId: string): void {
    this.removeWorker(workerId);
  }

  /** The execution is taken away from its worker (timed out, cancelled, lost). */
  revoke(executionId: string, status: FakeExecutionStatus = 'lost'): void {
    const execution = this.executions.get(executionId);
    if (execution) {
      execution.workerId = undefined;
      execution.status = status;
    }
  }

  async waitFor(predicate: () => boolean, what = 'a condition', timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`fake node: timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  count(method: string, pattern: RegExp): number {
    return this.requests.filter((r) => r.method === method && pattern.test(r.path)).length;
  }

  // ---- HTTP ----------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const method = req.method ?? 'GET';
    const bearer = bearerOf(req.headers.authorization);
    let answer: Answer | undefined;
    if (this.frozen) await this.frozen;
    try {
      const body = await readBody(req);
      if (this.failAll !== undefined) {
        throw new HttpError(this.failAll, 'STORE_UNAVAILABLE', 'fake node: failing on purpose');
      }
      answer = await this.route(method, url, body, res, bearer);
    } catch (error) {
      answer =
        error instanceof HttpError
          ? {
              status: error.status,
              body: { status: error.status, code: error.code, message: error.message },
            }
          : { status: 500, body: { status: 500, code: 'INTERNAL', message: String(error) } };
    }
    if (answer === undefined) return; // a long poll answers later
    this.respond(method, url.pathname, res, answer, bearer);
  }

  private respond(
    method: string,
    path: string,
    res: ServerResponse,
    answer: Answer,
    bearer: string | undefined,
  ): void {
    this.requests.push({ method, path, status: answer.status, bearer });
    if (res.writableEnded || res.destroyed) return;
    if (answer.body === undefined) {
      res.writeHead(answer.status).end();
      return;
    }
    res
      .writeHead(answer.status, { 'content-type': 'application/json' })
      .end(JSON.stringify(answer.body));
  }

  /** The worker's session secret changes on the node: its next calls get 403 WORKER_FORBIDDEN. */
  forgetSession(workerId: string): void {
    const worker = this.workers.get(workerId);
    if (worker) worker.secret = newSecret();
  }

  private async route(
    method: string,
    url: URL,
    body: unknown,
    res: ServerResponse,
    bearer: string | undefined,
  ): Promise<Answer | undefined> {
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    if (parts[0] !== 'api' || parts[1] !== 'workers') throw notFound();
    if (parts.length === 2 && method === 'POST') return this.register(body, bearer);
    const [group, workerId, action, executionId, sub] = parts.slice(2);
    if (group === undefined || workerId === undefined) throw notFound();
    // As the real node: no secret 401, no such worker 404, not its secret 403.
    if (bearer === undefined) {
      throw new HttpError(401, 'WORKER_UNAUTHENTICATED', `no session secret for ${workerId}`);
    }
    const worker = this.workers.get(workerId);
    if (!worker || worker.group !== group) {
      throw new HttpError(404, 'WORKER_NOT_FOUND', `no worker ${workerId} in group ${group}`);
    }
    if (bearer !== worker.secret) {
      throw new HttpError(403, 'WORKER_FORBIDDEN', `not the session secret of ${workerId}`);
    }
    if (action === undefined && method === 'DELETE') {
      this.removeWorker(workerId);
      return { status: 204 };
    }
    if (action === 'heartbeat' && method === 'POST' && executionId === undefined) {
      if (this.failHeartbeats !== undefined) {
        throw new HttpError(this.failHeartbeats, 'STORE_UNAVAILABLE', 'fake node: heartbeats fail');
      }
      worker.heartbeats++;
      const held = validHeld(body);
      const abort = (held ?? []).flatMap((id) => this.abortNotice(workerId, id));
      this.heartbeats.push({ workerId, held, abort });
      const answer: HeartbeatResponse & { workerId: string } = {
        workerId,
        leaseTtlS: this.options.leaseTtlS ?? 10,
        abort,
      };
      return { status: 200, body: answer };
    }
    if (action === 'assignments' && method === 'GET' && executionId === undefined) {
      return this.poll(worker, url, res, bearer);
    }
    if (action === 'reports' && method === 'POST' && executionId === undefined) {
      const reports = validReports(body);
      await this.whileHeld();
      if (this.failReports > 0) {
        this.failReports--;
        throw new HttpError(503, 'STORE_UNAVAILABLE', 'fake node: reports failing on purpose');
      }
      // The lease may have run out while the request waited.
      if (!this.workers.has(workerId)) throw new HttpError(404, 'WORKER_NOT_FOUND', 'gone');
      this.reportBatches.push(reports);
      const answer: ReportBatchResponse = { results: reports.map((r) => this.apply(workerId, r)) };
      return { status: 200, body: answer };
    }
    if (action === 'executions' && sub === 'report' && method === 'POST' && executionId) {
      const [report] = validReports({ reports: [{ ...(body as object), executionId }] });
      await this.whileHeld();
      const result = this.apply(workerId, report);
      if (result.outcome === 'not_found')
        throw new HttpError(404, 'EXECUTION_NOT_FOUND', result.message ?? '');
      if (result.outcome === 'conflict')
        throw new HttpError(409, 'EXECUTION_CONFLICT', result.message ?? '');
      return { status: 200, body: result };
    }
    throw notFound();
  }

  private register(body: unknown, bearer: string | undefined): Answer {
    if (this.options.token !== undefined && bearer !== this.options.token) {
      throw bearer === undefined
        ? new HttpError(401, 'UNAUTHORIZED', 'fake node: registration needs a token')
        : new HttpError(403, 'FORBIDDEN', 'fake node: not a token that may register here');
    }
    const r = body as Partial<RegisterWorkerRequest> | undefined;
    const problems: string[] = [];
    if (typeof r?.group !== 'string' || r.group === '') problems.push('group');
    if (
      !Array.isArray(r?.targets) ||
      r.targets.length === 0 ||
      r.targets.some((t) => typeof t !== 'string')
    ) {
      problems.push('targets');
    }
    if (typeof r?.capacity !== 'number' || !Number.isInteger(r.capacity) || r.capacity < 1) {
      problems.push('capacity');
    }
    if (typeof r?.host !== 'string') problems.push('host');
    if (typeof r?.pid !== 'number') problems.push('pid');
    if (problems.length > 0) {
      throw new HttpError(400, 'VALIDATION_FAILED', `invalid: ${problems.join(', ')}`);
    }
    const request = r as RegisterWorkerRequest;
    if (this.options.groups && !this.options.groups.includes(request.group)) {
      throw new HttpError(404, 'GROUP_NOT_FOUND', `no group ${request.group}`);
    }
    this.registrations.push(request);
    const id = `w${this.shared.nextWorker++}`;
    const secret = newSecret();
    this.workers.set(id, { ...request, labels: request.labels ?? {}, id, heartbeats: 0, secret });
    const answer: RegisterWorkerResponse = {
      workerId: id,
      sessionSecret: secret,
      group: request.group,
      leaseTtlS: this.options.leaseTtlS ?? 10,
      heartbeatIntervalMs: this.options.heartbeatIntervalMs ?? 3000,
      node: this.options.name ?? 'fake-node',
    };
    return { status: 201, body: answer };
  }

  private poll(
    worker: FakeWorker,
    url: URL,
    res: ServerResponse,
    bearer: string,
  ): Answer | undefined {
    const after = intParam(url, 'after', 0, Number.MAX_SAFE_INTEGER, 0);
    const waitMs = intParam(url, 'waitMs', 0, 60_000, 30_000);
    const max = intParam(url, 'max', 1, 1000, 100);
    this.polls.push({ workerId: worker.id, after, waitMs, max });
    const path = url.pathname;
    const waiter: PollWaiter = {
      node: this,
      workerId: worker.id,
      after,
      max,
      timer: setTimeout(() => waiter.answer(true), waitMs),
      answer: (timedOut) => {
        if (this.frozen) return false;
        const body = this.workers.has(worker.id)
          ? this.pollAnswer(worker.id, after, max, timedOut)
          : undefined;
        if (body === undefined && this.workers.has(worker.id)) return false;
        clearTimeout(waiter.timer);
        this.waiters.delete(waiter);
        this.respond(
          'GET',
          path,
          res,
          body
            ? { status: 200, body }
            : {
                status: 404,
                body: { status: 404, code: 'WORKER_NOT_FOUND', message: `no worker ${worker.id}` },
              },
          bearer,
        );
        return true;
      },
    };
    this.waiters.add(waiter);
    res.on('close', () => {
      clearTimeout(waiter.timer);
      this.waiters.delete(waiter);
    });
    waiter.answer(waitMs === 0);
    return undefined;
  }

  /** What a poll returns now: newer assignments at once; after a full wait, the undelivered ones again. */
  private pollAnswer(
    workerId: string,
    after: number,
    max: number,
    timedOut: boolean,
  ): PollResponse | undefined {
    const inbox = [...this.executions.values()]
      .filter((e) => e.workerId === workerId && e.status === 'assigned')
      .sort((a, b) => a.revision - b.revision);
    const fresh = inbox.filter((e) => e.revision > after);
    if (fresh.length === 0 && !timedOut) return undefined;
    const list = (fresh.length > 0 ? fresh : inbox).slice(0, max);
    const revision = fresh.length > max ? list[list.length - 1].revision : this.shared.revision;
    for (const e of list) e.deliveries++;
    return {
      assignments: list.map((e) => ({ ...e.assignment, state: 'assigned' })),
      revision: Math.max(revision, after),
    };
  }

  private wake(workerId: string): void {
    for (const waiter of [...this.waiters]) {
      if (waiter.workerId === workerId) waiter.answer(false);
    }
  }

  private removeWorker(workerId: string): void {
    this.workers.delete(workerId);
    for (const e of this.executions.values()) {
      if (e.workerId === workerId && (e.status === 'assigned' || e.status === 'running')) {
        e.workerId = undefined;
        e.status = 'lost';
      }
    }
  }

  /** What the real node answers for a held id: nothing while it is the worker's. */
  private abortNotice(workerId: string, executionId: string): AbortNotice[] {
    const e = this.executions.get(executionId);
    if (!e) return [{ executionId, status: 'not_found', reason: 'no such execution' }];
    if (e.workerId === workerId) return [];
    const open = e.status === 'assigned' || e.status === 'running';
    return [
      {
        executionId,
        status: open ? 'moved' : e.status,
        reason: open ? `assigned to worker ${e.workerId} now` : `fake node: it is ${e.status}`,
      },
    ];
  }

  private apply(workerId: string, report: ExecutionReport): ReportResult {
    const { executionId } = report;
    const e = this.executions.get(executionId);
    if (!e) return { executionId, outcome: 'not_found', message: 'no such execution' };
    if (e.workerId !== workerId) {
      return { executionId, outcome: 'conflict', message: 'the execution is not this worker’s' };
    }
    const open = e.status === 'assigned' || e.status === 'running';
    if (report.status === 'running') {
      if (!open) return { executionId, outcome: 'conflict', message: `already ${e.status}` };
      e.status = 'running';
    } else if (open) {
      e.status = report.status;
      e.output = report.output;
      e.error = report.error;
    } else if (e.status !== report.status) {
      return { executionId, outcome: 'conflict', message: `already ${e.status}` };
    }
    e.reports.push(report);
    return { executionId, outcome: 'accepted' };
  }

  private async whileHeld(): Promise<void> {
    const held = this.held;
    if (held) await new Promise<void>((resolve) => held.push(resolve));
  }
}

function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

function bearerOf(authorization: string | undefined): string | undefined {
  return /^Bearer (\S+)$/.exec(authorization ?? '')?.[1];
}

function notFound(): HttpError {
  return new HttpError(404, 'NOT_FOUND', 'no such route');
}

function intParam(url: URL, name: string, min: number, max: number, fallback: number): number {
  const raw = url.searchParams.get(name);
  if (raw === null) return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max) {
    throw new HttpError(400, 'VALIDATION_FAILED', `${name} must be an integer in ${min}..${max}`);
  }
  return value;
}

function validHeld(body: unknown): string[] | undefined {
  if (body === undefined) return undefined;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new HttpError(400, 'VALIDATION_FAILED', 'the heartbeat body must be an object');
  }
  const held = (body as { held?: unknown }).held;
  const extra = Object.keys(body).filter((key) => key !== 'held');
  if (
    extra.length > 0 ||
    (held !== undefined &&
      (!Array.isArray(held) ||
        held.length > MAX_HELD_PER_HEARTBEAT ||
        held.some((id) => typeof id !== 'string' || !/^[A-Za-z0-9._-]+~[A-Za-z0-9._-]+$/.test(id))))
  ) {
    throw new HttpError(400, 'VALIDATION_FAILED', 'held must be a list of execution ids');
  }
  return held as string[] | undefined;
}

function validReports(body: unknown): ExecutionReport[] {
  const reports = (body as { reports?: unknown } | undefined)?.reports;
  if (!Array.isArray(reports) || reports.length === 0 || reports.length > 500) {
    throw new HttpError(400, 'VALIDATION_FAILED', 'reports must hold 1..500 reports');
  }
  for (const r of reports as Partial<ExecutionReport>[]) {
    const tooLong = (text: unknown) =>
      text !== undefined &&
      (typeof text !== 'string' || Buffer.byteLength(text, 'utf8') > MAX_REPORT_TEXT_BYTES);
    if (
      typeof r?.executionId !== 'string' ||
      !REPORT_STATUSES.includes(r.status as ExecutionReport['status']) ||
      tooLong(r.output) ||
      tooLong(r.error)
    ) {
      throw new HttpError(
        400,
        'VALIDATION_FAILED',
        `bad report ${JSON.stringify(r).slice(0, 200)}`,
      );
    }
  }
  return reports as ExecutionReport[];
}

/** Reads a JSON body as Fastify would: empty JSON bodies and bodies over 1 MiB are refused. */
async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    chunks.push(chunk as Buffer);
  }
  if (size > BODY_LIMIT) throw new HttpError(413, 'PAYLOAD_TOO_LARGE', 'body too large');
  const isJson = (req.headers['content-type'] ?? '').includes('application/json');
  if (!isJson) return undefined;
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.length === 0) {
    throw new HttpError(
      400,
      'BAD_REQUEST',
      "Body cannot be empty when content-type is set to 'application/json'",
    );
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HttpError(400, 'BAD_REQUEST', 'body is not JSON');
  }
}
