import { Injectable } from '@nestjs/common';
import { mayRevealData, Principal } from '../auth/access';
import { REDACTED } from '../auth/scope';
import { ExecutionNotFoundError } from '../execution/execution.errors';
import { ExecutionService } from '../execution/execution.service';
import { ExecutionLogs, LogLine } from '../history/history.port';
import { InjectLogs } from '../history/history.tokens';
import { LOG_PAGE_DEFAULT, LogLineDto, LogPageDto } from './dto/execution-logs.dto';
import { LogsNotKeptError } from './execution-logs.errors';
import { LogFollowSource } from './log-follow';

/**
 * Reading an execution's live logs through the API. Access is that of the execution itself
 * (ExecutionService.get: unknown or outside the caller's groups is 404), and a viewer
 * without revealData sees each line's text as "[redacted]", as it sees the output.
 */
@Injectable()
export class ExecutionLogsService {
  constructor(
    @InjectLogs() private readonly logs: ExecutionLogs | null,
    private readonly executions: ExecutionService,
  ) {}

  /** One page of lines after `after`, oldest first; `next` when more are stored. */
  async page(
    id: string,
    query: { after?: number; limit?: number },
    principal: Principal,
  ): Promise<LogPageDto> {
    const logs = this.requireLogs();
    await this.executions.get(id, principal);
    const limit = query.limit ?? LOG_PAGE_DEFAULT;
    const lines = await logs.read(id, query.after ?? 0, limit + 1);
    const items = lines.slice(0, limit).map((line) => this.view(line, principal));
    return lines.length > limit ? { items, next: items[items.length - 1].seq } : { items };
  }

  /** What a follow stream of execution `id` reads; 404/409 before the stream opens. */
  async followSource(id: string, principal: Principal): Promise<LogFollowSource> {
    const logs = this.requireLogs();
    await this.executions.get(id, principal);
    return {
      read: async (afterSeq, limit) =>
        (await logs.read(id, afterSeq, limit)).map((line) => this.view(line, principal)),
      status: async () => {
        try {
          return (await this.executions.get(id, principal)).status;
        } catch (error) {
          // Deleted by retention while followed: nothing more will come.
          if (error instanceof ExecutionNotFoundError) return undefined;
          throw error;
        }
      },
    };
  }

  private requireLogs(): ExecutionLogs {
    if (this.logs === null) throw new LogsNotKeptError();
    return this.logs;
  }

  private view(line: LogLine, principal: Principal): LogLineDto {
    const { seq, atMs, level, text } = line;
    return { seq, atMs, level, text: mayRevealData(principal) ? text : REDACTED };
  }
}
