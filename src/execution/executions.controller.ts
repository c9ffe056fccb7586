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
import { ExecutionService } from './execution.service';

@ApiTags('executions')
@Controller('api/executions')
export class ExecutionsController {
  constructor(private readonly executions: ExecutionService) {}

  @Get()
  @RequireAccess('read')
  @ApiOperation({
    summary: 'List executions, live and finished, one page at a time (newest first by default)',
    description:
      'One listing of live executions (pending, assigned, running: in the coordination store) ' +
      'and finished ones (in the execution history: PostgreSQL with FOREST_HISTORY_URL, else ' +
      'the coordination store), in one order behind one cursor. Order: `order=desc` (default) ' +
      'newest first, `order=asc` oldest first, by key time (the scheduled time; for a manual ' +
      'trigger, when it was triggered; a retry sorts beside its fire) then id. `from`/`to` ' +
      'bound the key time; `q` searches output and error (case-insensitive, literal). ' +
      'Paging: `limit` (1-500, default 50) and `cursor` (the `next` of the previous page, ' +
      'with the same filters and order). The cursor is a position, not an offset: pages ' +
      'neither repeat nor skip executions while new ones arrive.\n\n' +
      'With history in the coordination store a request reads a bounded number of finished ' +
      'executions: a page can then hold fewer than `limit` items and still carry `next`. ' +
      'Keep passing `next` as `cursor` until it is absent.\n\n' +
      'Items leave out params, output and the timeline, and cut `error` to 256 bytes: ' +
      'GET /api/executions/{id} has everything. Finished executions are deleted by ' +
      'retention (FOREST_EXECUTION_KEEP_PER_JOB, FOREST_EXECUTION_MAX_AGE_H, and for history ' +
      'in the coordination store FOREST_HISTORY_STORE_MAX_MB). A token limited to groups ' +
      'sees only executions of its groups.',
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
