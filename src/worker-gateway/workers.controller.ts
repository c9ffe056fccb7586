import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
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
import { ApiErrors } from '../common/api-errors.decorator';
import { KeySegmentPipe } from '../common/key-segment.pipe';
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
} from './dto/worker.dto';
import { ReportService } from './report.service';
import { ReportConflictError, ReportedExecutionNotFoundError } from './worker.errors';
import { WorkerRegistry } from './worker-registry.service';

const GROUP = new KeySegmentPipe('group');
const WORKER = new KeySegmentPipe('workerId');
const WORKER_GONE = {
  status: 404,
  description: 'WORKER_NOT_FOUND: the worker\u2019s lease expired or it left: register again',
};

function toWorkerDto(record: WorkerRecord): WorkerDto {
  const { lease: _lease, ...view } = record;
  return view;
}

/**
 * The worker protocol (see libs/protocol/src/worker-protocol.types.ts). Any node serves any
 * worker: presence is a lease in the store, assignments are keys in the worker's inbox.
 */
@ApiTags('worker protocol')
@Controller('api/workers')
export class WorkersController {
  constructor(
    private readonly registry: WorkerRegistry,
    private readonly inbox: AssignmentInbox,
    private readonly reports: ReportService,
  ) {}

  @Post()
  @ApiOperation({
    summary: 'Register a worker: returns its id and lease TTL',
    description:
      'The worker then heartbeats every `heartbeatIntervalMs`; silent for `leaseTtlS` it is ' +
      'dead: its unstarted executions move to other workers and its running ones become `lost`.',
  })
  @ApiCreatedResponse({ type: RegisterWorkerResponseDto })
  @ApiErrors(400, 404, 503)
  register(@Body() body: RegisterWorkerDto): Promise<RegisterWorkerResponseDto> {
    return this.registry.register(body);
  }

  @Get()
  @ApiOperation({ summary: 'Live workers, optionally of one group' })
  @ApiOkResponse({ type: [WorkerDto] })
  @ApiErrors(400)
  async list(@Query() query: ListWorkersQueryDto): Promise<WorkerDto[]> {
    return (await this.registry.list(query.group)).map(toWorkerDto);
  }

  @Post(':group/:workerId/heartbeat')
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
  @ApiErrors(400, WORKER_GONE, 503)
  heartbeat(
    @Param('group', GROUP) group: string,
    @Param('workerId', WORKER) workerId: string,
    @Body() body?: HeartbeatDto,
  ): Promise<HeartbeatResponseDto> {
    return this.registry.heartbeat(group, workerId, body?.held ?? [], (executionId) =>
      this.inbox.holds(group, workerId, executionId),
    );
  }

  @Get(':group/:workerId/assignments')
  @ApiOperation({
    summary: 'Long-poll for assignments',
    description:
      'Returns at once the assignments newer than `after`; otherwise waits up to `waitMs` for ' +
      'one. A poll that waited its full time returns every assignment not yet reported ' +
      '`running` (delivery repeats until then): run each execution id once.',
  })
  @ApiOkResponse({ type: PollResponseDto })
  @ApiErrors(400, WORKER_GONE, 503)
  poll(
    @Param('group', GROUP) group: string,
    @Param('workerId', WORKER) workerId: string,
    @Query() query: PollQueryDto,
    @Req() request: FastifyRequest,
  ): Promise<PollResponseDto> {
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
  @HttpCode(200)
  @ApiOperation({
    summary: 'Report several executions at once (running, succeeded, failed)',
    description:
      'Each report has its own outcome; `conflict` means the execution is no longer this worker\u2019s.',
  })
  @ApiOkResponse({ type: ReportBatchResponseDto })
  @ApiErrors(400, 413, 503)
  async reportBatch(
    @Param('group', GROUP) group: string,
    @Param('workerId', WORKER) workerId: string,
    @Body() body: ReportBatchDto,
  ): Promise<ReportBatchResponseDto> {
    return { results: await this.reports.report(group, workerId, body.reports) };
  }

  @Post(':group/:workerId/executions/:executionId/report')
  @HttpCode(200)
  @ApiOperation({ summary: 'Report one execution' })
  @ApiOkResponse({ type: ReportResultDto })
  @ApiErrors(400, 404, {
    status: 409,
    description: 'EXECUTION_NOT_YOURS: it was moved, cancelled, declared lost or finished',
  })
  async reportOne(
    @Param('group', GROUP) group: string,
    @Param('workerId', WORKER) workerId: string,
    @Param('executionId') executionId: string,
    @Body() body: ReportBodyDto,
  ): Promise<ReportResultDto> {
    const [result] = await this.reports.report(group, workerId, [{ ...body, executionId }]);
    if (result.outcome === 'conflict') throw new ReportConflictError(executionId, result.message!);
    if (result.outcome === 'not_found') throw new ReportedExecutionNotFoundError(executionId);
    return result;
  }

  @Delete(':group/:workerId')
  @HttpCode(204)
  @ApiOperation({ summary: 'Leave: the worker stops; its unstarted work moves elsewhere' })
  @ApiNoContentResponse()
  @ApiErrors(400, WORKER_GONE, 503)
  async leave(
    @Param('group', GROUP) group: string,
    @Param('workerId', WORKER) workerId: string,
  ): Promise<void> {
    await this.registry.leave(group, workerId);
  }
}
