import { Body, Controller, Param, Post } from '@nestjs/common';
import { ApiBody, ApiCreatedResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Principal, RequireAccess } from '../auth/access';
import { CurrentPrincipal } from '../auth/principal.decorator';
import { redactData } from '../auth/scope';
import { ApiErrors } from '../common/api-errors.decorator';
import { KeySegmentPipe } from '../common/key-segment.pipe';
import { ExecutionDto, TriggerJobDto } from './dto/execution.dto';
import { ExecutionService } from './execution.service';

@ApiTags('jobs')
@Controller('api/jobs')
export class JobTriggerController {
  constructor(private readonly executions: ExecutionService) {}

  @Post(':id/trigger')
  @RequireAccess('operate')
  @ApiOperation({
    summary: 'Run a job now, once (also a paused job)',
    description:
      'Creates a pending execution with trigger `manual` (scheduled time = now, attempt 1, ' +
      "the job's timeout) and queues it for a worker of the job's group, in one write. Any " +
      "node accepts it. `params` replaces the job's params for this run only. The job's " +
      'concurrency policy applies (`forbid`: 409 while one is active; `replace`: the active ' +
      'one is cancelled) unless `force`; its retry policy applies unless `retry: false`. The ' +
      'answer carries the execution id for GET /api/executions/{id}.',
  })
  @ApiBody({ type: TriggerJobDto, required: false })
  @ApiCreatedResponse({ type: ExecutionDto })
  @ApiErrors(400, 404, 413, {
    status: 409,
    description:
      'JOB_ACTIVE: the job has concurrency `forbid` and an execution of it is active ' +
      '(details.activeExecution; pass `force: true` to run anyway); JOB_BUSY: the job kept ' +
      'changing while it was being triggered, retry',
  })
  async trigger(
    @Param('id', new KeySegmentPipe('id')) id: string,
    @Body() dto: TriggerJobDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<ExecutionDto> {
    return redactData(principal, await this.executions.trigger(id, dto, principal));
  }
}
