import { Controller, Get, Headers, Query, Res } from '@nestjs/common';
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
import { scopeGroups } from '../auth/scope';
import { ApiErrors } from '../common/api-errors.decorator';
import { ErrorResponseDto } from '../common/error-response.dto';
import { openSseStream, parseLastEventId, sendSseStream } from '../http/sse-stream';
import { EventsQueryDto } from './dto/events-query.dto';
import { EventClient } from './event-client';
import { EventHub, HEARTBEAT_MS } from './event-hub.service';
import { STREAMS_RETRY_AFTER_S, TooManyStreamsError } from './events.errors';
import { STREAM_TYPES, StreamType } from './stream-event';

const DESCRIPTION = `Server-sent events (\`text/event-stream\`) of execution and cluster changes, as they happen.
Read it with \`fetch()\` and the \`Authorization\` header (EventSource cannot send headers; tokens never go in the URL).

Each event has \`id:\` (the store revision of the change), \`event:\` (its type) and one \`data:\` line of JSON:

- \`execution\`: an execution record was written (created, assigned, started, finished):
  \`{id, jobId, jobName, group, status, worker?, trigger, attempt, scheduledAt, startedAt?, finishedAt?}\`;
  never params or output (GET /api/executions/{id} has them).
- \`node\`: \`{change: joined | left | leader, nodeId, leader, version?, startedAt?}\`; \`leader\` says whether
  the node leads after the change (a \`leader\` change names the new leader).
- \`worker\`: \`{change: registered | left, group, workerId, host?, capacity?, labels?}\`.

Control events, without \`id:\`: \`reset\` (changes were missed, for example the resume point is no longer
in the store: reload the state you show, then keep reading) and \`overflow\` (this client fell too far
behind and is disconnected: reconnect). A comment line (\`: heartbeat\`) comes every ${HEARTBEAT_MS / 1000} s.

Resume: send \`Last-Event-ID\` (the last \`id\` you got) to get every change after it, while the store
still holds that history; otherwise the stream starts with \`reset\`.

A token limited to groups sees only its groups' executions and workers (nodes are cluster-wide).
Each node serves at most FOREST_EVENTS_MAX_STREAMS streams at once (then 429 with Retry-After).`;

@ApiTags('events')
@Controller('api/events')
export class EventsController {
  constructor(private readonly hub: EventHub) {}

  @Get()
  @RequireAccess('read')
  @ApiProduces('text/event-stream')
  @ApiOperation({
    summary: 'Live stream of execution, node and worker changes (SSE)',
    description: DESCRIPTION,
  })
  // Named as the @Headers('last-event-id') parameter reads it, so the document lists one
  // optional header (a different spelling would add a second, required one).
  @ApiHeader({
    name: 'last-event-id',
    required: false,
    description: 'The last event id received: resume right after it',
  })
  @ApiOkResponse({ description: 'An open `text/event-stream` (see above)' })
  @ApiErrors(400, 503)
  @ApiResponse({
    status: 429,
    type: ErrorResponseDto,
    description: 'This node serves FOREST_EVENTS_MAX_STREAMS streams already; see Retry-After',
  })
  async stream(
    @Query() query: EventsQueryDto,
    @Headers('last-event-id') lastEventId: string | undefined,
    @CurrentPrincipal() principal: Principal,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const resumeAfter = parseLastEventId(
      lastEventId,
      Number.MAX_SAFE_INTEGER,
      'must be an event id this stream sent',
    );
    const { stream, sink } = openSseStream('forest events');
    let client: EventClient;
    try {
      client = await this.hub.open(
        {
          types: query.types
            ? ([...new Set(query.types.split(','))] as StreamType[])
            : [...STREAM_TYPES],
          group: query.group,
          jobId: query.jobId,
          scope: scopeGroups(principal),
        },
        sink,
        resumeAfter,
      );
    } catch (error) {
      stream.destroy();
      if (error instanceof TooManyStreamsError) {
        void reply.header('retry-after', String(STREAMS_RETRY_AFTER_S));
      }
      throw error;
    }
    sendSseStream(reply, stream, () => client.disconnected());
  }
}
