import { Body, Controller, HttpCode, Param, Post, Req, UseFilters } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { MAX_LOG_LINE_BYTES, MAX_LOG_LINES_PER_BATCH } from '@forest/protocol';
import { FastifyRequest } from 'fastify';
import { RequireAccess } from '../auth/access';
import { ApiErrors } from '../common/api-errors.decorator';
import { KeySegmentPipe } from '../common/key-segment.pipe';
import { LogBatchDto, LogBatchResponseDto } from './dto/worker-logs.dto';
import { WorkerCredentialsFilter } from './worker-credentials.filter';
import { WorkerLogIntake } from './worker-log-intake.service';
import { WorkerSessions } from './worker-sessions.service';

/** The worker protocol's live-log call; the rest of the protocol is WorkersController's. */
@ApiTags('worker protocol')
@Controller('api/workers')
@UseFilters(WorkerCredentialsFilter)
export class WorkerLogsController {
  constructor(
    private readonly intake: WorkerLogIntake,
    private readonly sessions: WorkerSessions,
  ) {}

  @Post(':group/:workerId/logs')
  @RequireAccess('worker-session')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Post handler log lines while executions run (live logs)',
    description:
      'Only when the registration answer said `logs.enabled`. Lines carry the worker\u2019s seq ' +
      '(1, 2, 3, … per execution): a resent batch stores nothing twice. Taken only for ' +
      'executions in this worker\u2019s inbox (`conflict` otherwise: send no more of them), so ' +
      'post an execution\u2019s last lines before its final report. Lines past the execution\u2019s ' +
      'bound (FOREST_LOG_MAX_LINES_PER_EXECUTION, FOREST_LOG_MAX_BYTES_PER_EXECUTION) are ' +
      `counted as \`dropped\`. At most ${MAX_LOG_LINES_PER_BATCH} lines per batch and ` +
      `${MAX_LOG_LINE_BYTES} UTF-8 bytes per line (longer: 400; cut lines before sending).`,
  })
  @ApiOkResponse({ type: LogBatchResponseDto })
  @ApiErrors(
    400,
    {
      status: 401,
      description: 'WORKER_UNAUTHENTICATED: no `Authorization: Bearer <sessionSecret>`',
    },
    { status: 403, description: 'WORKER_FORBIDDEN: the session secret is not this worker\u2019s' },
    {
      status: 404,
      description: 'WORKER_NOT_FOUND: the worker\u2019s lease expired or it left: register again',
    },
    {
      status: 409,
      description:
        'LOGS_NOT_KEPT: this node keeps no execution logs (etcd without FOREST_HISTORY_URL)',
    },
    413,
    503,
  )
  async post(
    @Param('group', new KeySegmentPipe('group')) group: string,
    @Param('workerId', new KeySegmentPipe('workerId')) workerId: string,
    @Body() body: LogBatchDto,
    @Req() request: FastifyRequest,
  ): Promise<LogBatchResponseDto> {
    await this.sessions.verify(group, workerId, request.headers.authorization);
    return { results: await this.intake.accept(group, workerId, body.executions) };
  }
}
