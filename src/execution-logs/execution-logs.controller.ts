import { Controller, Get, Headers, Param, Query, Res } from '@nestjs/common';
import {
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Principal, RequireAccess } from '../auth/access';
import { CurrentPrincipal } from '../auth/principal.decorator';
import { ApiErrors } from '../common/api-errors.decorator';
import { ErrorResponseDto } from '../common/error-response.dto';
import { openSseStream, parseLastEventId, sendSseStream } from '../http/sse-stream';
import { ExecutionIdPipe } from '../execution/execution-id.pipe';
import {
  LogFollowQueryDto,
  LogPageDto,
  LogPageQueryDto,
  MAX_LOG_SEQ,
} from './dto/execution-logs.dto';
import { ExecutionLogsService } from './execution-logs.service';
import { FOLLOW_RETRY_AFTER_S, TooManyLogStreamsError } from './execution-logs.errors';
import {
  FOLLOW_HEARTBEAT_MS,
  FOLLOW_POLL_MS,
  FOLLOW_STATUS_EVERY_MS,
  LogFollowHub,
} from './log-follow-hub.service';
import { LogFollow } from './log-follow';

const NOT_KEPT = {
  status: 409,
  description: 'LOGS_NOT_KEPT: this node keeps no execution logs (etcd without FOREST_HISTORY_URL)',
};
const NOT_FOUND = {
  status: 404,
  description: 'EXECUTION_NOT_FOUND (also for an execution of a group outside the token\u2019s)',
};

const FOLLOW_DESCRIPTION = `Server-sent events (\`text/event-stream\`) of the execution's log lines as its handler writes them.
Read it with \`fetch()\` and the \`Authorization\` header (EventSource cannot send headers).

- \`line\`: \`id:\` is the line's seq, \`data:\` the line \`{seq, atMs, level, text}\` (text "[redacted]" for a viewer
  token without revealData). Lines come oldest first, each once; those stored before the stream opened come first.
- \`end\`: \`{status, lastSeq}\` once the execution is final and every stored line was sent (\`status\` null when
  the execution was deleted meanwhile); then the stream closes. A finished execution's stream sends its lines and \`end\` at once.

A comment line (\`: heartbeat\`) comes every ${FOLLOW_HEARTBEAT_MS / 1000} s. The node reads new lines every
${FOLLOW_POLL_MS} ms and the execution's status every ${FOLLOW_STATUS_EVERY_MS / 1000} s. Resume with \`Last-Event-ID\`
(the last seq received) or \`after\`. Each node serves at most FOREST_LOG_FOLLOW_MAX_STREAMS streams at once
(then 429 with Retry-After).`;

@ApiTags('executions')
@Controller('api/executions')
export class ExecutionLogsController {
  constructor(
    private readonly logs: ExecutionLogsService,
    private readonly hub: LogFollowHub,
  ) {}

  @Get(':id/logs')
  @RequireAccess('read')
  @ApiOperation({
    summary: 'A page of the execution\u2019s log lines, oldest first',
    description:
      'The lines its handler wrote through `ctx.logger`, streamed by the worker while it ran ' +
      '(kept per execution up to FOREST_LOG_MAX_LINES_PER_EXECUTION / ' +
      'FOREST_LOG_MAX_BYTES_PER_EXECUTION; later lines are dropped). `after` (a seq) and ' +
      '`limit` page through them; `next` is the `after` of the next page. For a viewer ' +
      'without revealData each line\u2019s text reads "[redacted]".',
  })
  @ApiOkResponse({ type: LogPageDto })
  @ApiErrors(400, NOT_FOUND, NOT_KEPT, 503)
  page(
    @Param('id', ExecutionIdPipe) id: string,
    @Query() query: LogPageQueryDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<LogPageDto> {
    return this.logs.page(id, query, principal);
  }

  @Get(':id/logs/follow')
  @RequireAccess('read')
  @ApiProduces('text/event-stream')
  @ApiOperation({
    summary: 'Follow the execution\u2019s log lines live until it ends (SSE)',
    description: FOLLOW_DESCRIPTION,
  })
  // Named as the @Headers('last-event-id') parameter reads it, so the document lists one
  // optional header (a different spelling would add a second, required one).
  @ApiHeader({
    name: 'last-event-id',
    required: false,
    description: 'The last seq received: resume right after it (takes precedence over `after`)',
  })
  @ApiOkResponse({ description: 'An open `text/event-stream` (see above)' })
  @ApiErrors(400, NOT_FOUND, NOT_KEPT, 503)
  @ApiResponse({
    status: 429,
    type: ErrorResponseDto,
    description: 'This node serves FOREST_LOG_FOLLOW_MAX_STREAMS streams already; see Retry-After',
  })
  async follow(
    @Param('id', ExecutionIdPipe) id: string,
    @Query() query: LogFollowQueryDto,
    @Headers('last-event-id') lastEventId: string | undefined,
    @CurrentPrincipal() principal: Principal,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const afterSeq =
      parseLastEventId(lastEventId, MAX_LOG_SEQ, 'must be a line id (seq) this stream sent') ??
      query.after ??
      0;
    const source = await this.logs.followSource(id, principal);
    const { stream, sink } = openSseStream('forest logs');
    let follow: LogFollow;
    try {
      follow = this.hub.open(id, source, sink, afterSeq);
    } catch (error) {
      stream.destroy();
      if (error instanceof TooManyLogStreamsError) {
        void reply.header('retry-after', String(FOLLOW_RETRY_AFTER_S));
      }
      throw error;
    }
    sendSseStream(reply, stream, () => follow.disconnected());
  }
}
