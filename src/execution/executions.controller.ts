import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Principal, RequireAccess } from '../auth/access';
import { CurrentPrincipal } from '../auth/principal.decorator';
import { redactData } from '../auth/scope';
import { ApiErrors } from '../common/api-errors.decorator';
import {
  CancelExecutionDto,
  ExecutionDto,
  ExecutionPageDto,
  ListExecutionsQueryDto,
} from './dto/execution.dto';
import { ExecutionIdPipe } from './execution-id.pipe';
import { ExecutionService, MAX_SCANNED_PER_REQUEST } from './execution.service';

@ApiTags('executions')
@Controller('api/executions')
export class ExecutionsController {
  constructor(private readonly executions: ExecutionService) {}

  @Get()
  @RequireAccess('read')
  @ApiOperation({
    summary: 'List executions, filtered, one page at a time (newest first by default)',
    description:
      'Order: `order=desc` (default) newest first, `order=asc` oldest first; within a job by ' +
      'scheduled time (for a manual trigger: when it was triggered), across jobs job by job ' +
      'in job id order. `from`/`to` bound the scheduled time. Paging: `limit` (1-500, default ' +
      '50) and `cursor` (the `next` of the previous page, with the same filters and order).\n\n' +
      "With `jobId` only that job's executions are read (newest first: its keys backwards in " +
      'time windows): use it whenever you can. Without it every execution is examined in ' +
      `turn, job by job, at most ${MAX_SCANNED_PER_REQUEST} keys per request (newest first, ` +
      'each job visited also costs a few count-only reads and counts as at least one key): a ' +
      'page can then hold fewer than `limit` items, or none, and still carry `next`. Keep ' +
      'passing `next` as `cursor` until it is absent.\n\n' +
      'Items leave out params, output and the timeline, and cut `error` to 256 bytes: ' +
      'GET /api/executions/{id} has everything. Finished executions are deleted by ' +
      'retention (FOREST_EXECUTION_KEEP_PER_JOB, FOREST_EXECUTION_MAX_AGE_H). A token ' +
      'limited to groups sees only executions of its groups.',
  })
  @ApiOkResponse({ type: ExecutionPageDto })
  @ApiErrors(400)
  list(
    @Query() query: ListExecutionsQueryDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<ExecutionPageDto> {
    return this.executions.list(query, principal);
  }

  @Get(':id')
  @RequireAccess('read')
  @ApiOperation({
    summary: 'Get an execution with its params, output and timeline',
    description: 'For a viewer token without revealData, params and output read "[redacted]".',
  })
  @ApiOkResponse({ type: ExecutionDto })
  @ApiErrors(400, { status: 404, description: 'EXECUTION_NOT_FOUND' })
  async get(
    @Param('id', ExecutionIdPipe) id: string,
    @CurrentPrincipal() principal: Principal,
  ): Promise<ExecutionDto> {
    return redactData(principal, await this.executions.get(id, principal));
  }

  @Post(':id/cancel')
  @RequireAccess('operate')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Cancel an execution that has not finished',
    description:
      "A `pending` execution leaves the queue; an `assigned` or `running` one leaves its worker's " +
      'inbox, and the worker aborts its handler (the AbortSignal fires) when its next heartbeat ' +
      'answer says so. It becomes `cancelled` with `cancelledBy`, atomically with respect to ' +
      'dispatch, worker reports and the leader; it is never retried and releases its ' +
      "job's concurrency marker. A finished execution cannot be cancelled (409).",
  })
  @ApiBody({ type: CancelExecutionDto, required: false })
  @ApiOkResponse({ type: ExecutionDto, description: 'The cancelled execution' })
  @ApiErrors(
    400,
    { status: 404, description: 'EXECUTION_NOT_FOUND' },
    {
      status: 409,
      description:
        'EXECUTION_NOT_CANCELLABLE: it already finished (details.status); ' +
        'EXECUTION_BUSY: it kept changing while this request ran, retry',
    },
  )
  async cancel(
    @Param('id', ExecutionIdPipe) id: string,
    @Body() dto: CancelExecutionDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<ExecutionDto> {
    return redactData(principal, await this.executions.cancel(id, dto?.reason, principal));
  }
}
