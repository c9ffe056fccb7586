import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Post,
  Query,
  Req,
  UseFilters,
} from '@nestjs/common';
import {
  ApiBody,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { WorkerRecord } from '@forest/protocol';
import { FastifyRequest } from 'fastify';
import { mayAccessGroup, principalOf, RequireAccess } from '../auth/access';
import { ApiErrors } from '../common/api-errors.decorator';
import { KeySegmentPipe } from '../common/key-segment.pipe';
import { pageOf, sortedByKey } from '../common/paging';
import { ForestConfig } from '../config/forest.config';
import { AssignmentInbox } from './assignment-inbox.service';
import {
  HeartbeatDto,
  HeartbeatResponseDto,
  ListWorkersQueryDto,
  PollQueryDto,
  PollResponseDto,
  RegisterWorkerDto,
  RegisterWorkerResponseDto,
  ReportBatchDto,
  ReportBatchResponseDto,
  ReportBodyDto,
  ReportResultDto,
  WorkerDto,
  WorkerPageDto,
} from './dto/worker.dto';
import { ReportService } from './report.service';
import {
  ReportConflictError,
  ReportedExecutionNotFoundError,
  WorkerRegistrationRefusedError,
} from './worker.errors';
import { WorkerCredentialsFilter } from './worker-credentials.filter';
import { WorkerLogIntake } from './worker-log-intake.service';
import { WorkerRegistry } from './worker-registry.service';
import { WorkerSessions } from './worker-sessions.service';

const GROUP = new KeySegmentPipe('group');
const WORKER = new KeySegmentPipe('workerId');
const WORKER_GONE = {
  status: 404,
  description: 'WORKER_NOT_FOUND: the worker\u2019s lease expired or it left: register again',
};

/** Session calls: the worker's own secret, checked against its record (WorkerSessions). */
const SESSION_UNAUTHENTICATED = {
  status: 401,
  description:
    'WORKER_UNAUTHENTICATED: no `Authorization: Bearer <sessionSecret>` (the secret its ' +
    'registration returned); nothing changed',
};
const SESSION_FORBIDDEN = {
  status: 403,
  description:
    'WORKER_FORBIDDEN: the session secret is not this worker\u2019s (another worker\u2019s, or ' +
    'wrong); nothing changed',
};

/** What the API shows of a worker: never its lease nor the hash of its session secret. */
function toWorkerDto(
  record: WorkerRecord,
  load: WorkerDto['load'],
  lastHeartbeatAt: string | undefined,
): WorkerDto {
  return {
    id: record.id,
    group: record.group,
    targets: record.targets,
    capacity: record.capacity,
    host: record.host,
    pid: record.pid,
    labels: record.labels,
    registeredAt: record.registeredAt,
    node: record.node,
    ...(record.leavingAt ? { leavingAt: record.leavingAt } : {}),
    load,
    ...(lastHeartbeatAt ? { lastHeartbeatAt } : {}),
  };
}

/**
 * The worker protocol (see libs/protocol/src/worker-protocol.types.ts). Any node serves any
 * worker: presence is a lease in the store, assignments are keys in the worker's inbox.
 */
@ApiTags('worker protocol')
@Controller('api/workers')
@UseFilters(WorkerCredentialsFilter)
export class WorkersController {
  constructor(
    private readonly registry: WorkerRegistry,
    private readonly inbox: AssignmentInbox,
    private readonly reports: ReportService,
    private readonly sessions: WorkerSessions,
    private readonly config: ForestConfig,
    private readonly logIntake: WorkerLogIntake,
  ) {}

  @Post()
  @RequireAccess('worker-register')
  @ApiOperation({
    summary: 'Register a worker: returns its id, its session secret and lease TTL',
    description:
      'With FOREST_AUTH=on this needs a worker token of the group (or an admin token) as ' +
      '`Authorization: Bearer <token>`. The answer\u2019s `sessionSecret` is shown only here: ' +
      'every later call of the worker (heartbeat, poll, reports, leave) sends it as ' +
      '`Authorization: Bearer <sessionSecret>`, with or without FOREST_AUTH. The worker then ' +
      'heartbeats every `heartbeatIntervalMs`; silent for `leaseTtlS` it is dead: its ' +
      'unstarted executions move to other workers and its running ones become `lost`.',
  })
  @ApiCreatedResponse({ type: RegisterWorkerResponseDto })
  @ApiErrors(
    400,
    { status: 401, description: 'UNAUTHENTICATED: FOREST_AUTH=on and no valid token' },
    {
      status: 403,
      description:
        'FORBIDDEN: the token\u2019s role may not register workers (only worker and admin ' +
        'tokens); GROUP_OUT_OF_SCOPE: the token is limited to other groups',
    },
    404,
    503,
  )
  async register(
    @Body() body: RegisterWorkerDto,
    @Req() request: FastifyRequest,
  ): Promise<RegisterWorkerResponseDto> {
    this.checkRegistration(request, body.group);
    return { ...(await this.registry.register(body)), logs: this.logIntake.policy };
  }

  @Get()
  @RequireAccess('read')
  @ApiOperation({
    summary: 'Live workers, optionally of one group',
    description:
      'A token limited to groups sees the workers of those groups only. Never shows a ' +
      'worker\u2019s session secret (nor its hash).',
  })
  @ApiOkResponse({ type: WorkerPageDto })
  @ApiErrors(400)
  async list(
    @Query() query: ListWorkersQueryDto,
    @Req() request: FastifyRequest,
  ): Promise<WorkerPageDto> {
    const principal = principalOf(request);
    if (query.group !== undefined && !mayAccessGroup(principal, query.group)) {
      return { items: [] };
    }
    const workers = (await this.registry.list(query.group)).filter((worker) =>
      mayAccessGroup(principal, worker.group),
    );
    const page = pageOf(sortedByKey(workers, workerSortKey), workerSortKey, query, 'workers');
    // Load and last heartbeat only for the page shown: one lease read per worker.
    const items = await Promise.all(
      page.items.map(async (worker) => {
        const [load, lastHeartbeatAt] = await Promise.all([
          this.inbox.load(worker.group, worker.id),
          this.registry.lastHeartbeatAt(worker),
        ]);
        return toWorkerDto(worker, load, lastHeartbeatAt);
      }),
    );
    return { ...page, items };
  }

  @Post(':group/:workerId/heartbeat')
  @RequireAccess('worker-session')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Keep the worker alive (any node); learn which held executions to abort',
    description:
      'Refreshes the worker\u2019s lease. The optional body lists the executions the worker ' +
      'holds (running, or waiting for their scheduled time); the answer\u2019s `abort` names ' +
      'those that are no longer its own (moved to another worker, timed out, cancelled, ' +
      'replaced, lost): their handlers must be aborted, waiting ones never started, and no ' +
      'report sent for them. An absent or empty body keeps the lease only (`abort: []`).',
  })
  @ApiBody({ type: HeartbeatDto, required: false })
  @ApiOkResponse({ type: HeartbeatResponseDto })
  @ApiErrors(400, SESSION_UNAUTHENTICATED, SESSION_FORBIDDEN, WORKER_GONE, 503)
  async heartbeat(
    @Param('group', GROUP) group: string,
    @Param('workerId', WORKER) workerId: string,
    @Req() request: FastifyRequest,
    @Body() body?: HeartbeatDto,
  ): Promise<HeartbeatResponseDto> {
    await this.sessions.verify(group, workerId, request.headers.authorization);
    return this.registry.heartbeat(group, workerId, body?.held ?? [], (executionId) =>
      this.inbox.holds(group, workerId, executionId),
    );
  }

  @Get(':group/:workerId/assignments')
  @RequireAccess('worker-session')
  @ApiOperation({
    summary: 'Long-poll for assignments',
    description:
      'Returns at once the assignments newer than `after`; otherwise waits up to `waitMs` for ' +
      'one. A poll that waited its full time returns every assignment not yet reported ' +
      '`running` (delivery repeats until then): run each execution id once.',
  })
  @ApiOkResponse({ type: PollResponseDto })
  @ApiErrors(400, SESSION_UNAUTHENTICATED, SESSION_FORBIDDEN, WORKER_GONE, 503)
  async poll(
    @Param('group', GROUP) group: string,
    @Param('workerId', WORKER) workerId: string,
    @Query() query: PollQueryDto,
    @Req() request: FastifyRequest,
  ): Promise<PollResponseDto> {
    await this.sessions.verify(group, workerId, request.headers.authorization);
    const hangUp = new AbortController();
    request.raw.once('close', () => hangUp.abort());
    return this.inbox.poll({
      group,
      workerId,
      after: query.after ?? 0,
      waitMs: query.waitMs ?? 30_000,
      max: query.max ?? 100,
      signal: hangUp.signal,
    });
  }

  @Post(':group/:workerId/reports')
  @RequireAccess('worker-session')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Report several executions at once (running, succeeded, failed)',
    description:
      'Each report has its own outcome; `conflict` means the execution is no longer this worker\u2019s.',
  })
  @ApiOkResponse({ type: ReportBatchResponseDto })
  @ApiErrors(400, SESSION_UNAUTHENTICATED, SESSION_FORBIDDEN, WORKER_GONE, 413, 503)
  async reportBatch(
    @Param('group', GROUP) group: string,
    @Param('workerId', WORKER) workerId: string,
    @Body() body: ReportBatchDto,
    @Req() request: FastifyRequest,
  ): Promise<ReportBatchResponseDto> {
    await this.sessions.verify(group, workerId, request.headers.authorization);
    return { results: await this.reports.report(group, workerId, body.reports) };
  }

  @Post(':group/:workerId/executions/:executionId/report')
  @RequireAccess('worker-session')
  @HttpCode(200)
  @ApiOperation({ summary: 'Report one execution' })
  @ApiOkResponse({ type: ReportResultDto })
  @ApiErrors(
    400,
    SESSION_UNAUTHENTICATED,
    SESSION_FORBIDDEN,
    {
      status: 404,
      description: 'WORKER_NOT_FOUND (register again) or EXECUTION_NOT_FOUND',
    },
    {
      status: 409,
      description: 'EXECUTION_NOT_YOURS: it was moved, cancelled, declared lost or finished',
    },
  )
  async reportOne(
    @Param('group', GROUP) group: string,
    @Param('workerId', WORKER) workerId: string,
    @Param('executionId') executionId: string,
    @Body() body: ReportBodyDto,
    @Req() request: FastifyRequest,
  ): Promise<ReportResultDto> {
    await this.sessions.verify(group, workerId, request.headers.authorization);
    const [result] = await this.reports.report(group, workerId, [{ ...body, executionId }]);
    if (result.outcome === 'conflict') throw new ReportConflictError(executionId, result.message!);
    if (result.outcome === 'not_found') throw new ReportedExecutionNotFoundError(executionId);
    return result;
  }

  @Delete(':group/:workerId')
  @RequireAccess('worker-session')
  @HttpCode(204)
  @ApiOperation({ summary: 'Leave: the worker stops; its unstarted work moves elsewhere' })
  @ApiNoContentResponse()
  @ApiErrors(400, SESSION_UNAUTHENTICATED, SESSION_FORBIDDEN, WORKER_GONE, 503)
  async leave(
    @Param('group', GROUP) group: string,
    @Param('workerId', WORKER) workerId: string,
    @Req() request: FastifyRequest,
  ): Promise<void> {
    await this.sessions.verify(group, workerId, request.headers.authorization);
    await this.registry.leave(group, workerId);
    this.sessions.forget(workerId);
  }

  /**
   * The global auth guard lets `worker-register` through for worker and admin tokens (all
   * requests with FOREST_AUTH=off); checked again here, with the group scope the guard
   * cannot see: a worker token of group A must not register in group B.
   */
  private checkRegistration(request: FastifyRequest, group: string): void {
    const principal = principalOf(request);
    if (principal.kind === 'anonymous') {
      if (this.config.auth === 'on') {
        throw new WorkerRegistrationRefusedError(
          401,
          'UNAUTHENTICATED',
          'registering a worker needs a worker token of its group (or an admin token) as ' +
            '`Authorization: Bearer <token>`',
        );
      }
      return;
    }
    if (principal.role !== 'worker' && principal.role !== 'admin') {
      throw new WorkerRegistrationRefusedError(
        403,
        'FORBIDDEN',
        `token "${principal.name}" (${principal.role}) may not register workers: use a worker ` +
          `token of group "${group}" or an admin token`,
      );
    }
    if (!mayAccessGroup(principal, group)) {
      throw new WorkerRegistrationRefusedError(
        403,
        'GROUP_OUT_OF_SCOPE',
        `token "${principal.name}" is limited to group(s) ${(principal.groups ?? []).join(', ')}: ` +
          `it may not register workers in group "${group}"`,
      );
    }
  }
}

/** Workers sort by group, then id (their key order). */
function workerSortKey(worker: Pick<WorkerRecord, 'group' | 'id'>): string {
  return `${worker.group}/${worker.id}`;
}
