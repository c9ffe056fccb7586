import { Module } from '@nestjs/common';
import { ExecutionModule } from '../execution/execution.module';
import { ExecutionLogsController } from './execution-logs.controller';
import { ExecutionLogsService } from './execution-logs.service';
import { LogFollowHub } from './log-follow-hub.service';

/**
 * Reading live execution logs: GET /api/executions/{id}/logs (pages) and …/logs/follow
 * (server-sent events until the execution ends). Workers post the lines through the worker
 * gateway; both sides use the EXECUTION_LOGS store of the history module.
 */
@Module({
  imports: [ExecutionModule],
  controllers: [ExecutionLogsController],
  providers: [ExecutionLogsService, LogFollowHub],
})
export class ExecutionLogsModule {}
