import { Module } from '@nestjs/common';
import { ElectionModule } from '../election/election.module';
import { JobModule } from '../job/job.module';
import { ExecutionRepository } from './execution.repository';
import { ExecutionService } from './execution.service';
import { ExecutionsController } from './executions.controller';
import { JobTriggerController } from './job-trigger.controller';

/**
 * Executions: manual triggers, the executions query (live and finished) and cancel, on
 * any node. Exports ExecutionService and ExecutionRepository, the store I/O of live
 * execution records with their pending and assignment keys. Moving finished executions to
 * the history and its retention are the history module's (src/history).
 */
@Module({
  imports: [ElectionModule, JobModule],
  controllers: [ExecutionsController, JobTriggerController],
  providers: [ExecutionRepository, ExecutionService],
  exports: [ExecutionService, ExecutionRepository],
})
export class ExecutionModule {}
