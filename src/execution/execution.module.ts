import { Module } from '@nestjs/common';
import { ElectionModule } from '../election/election.module';
import { JobModule } from '../job/job.module';
import { ExecutionRepository } from './execution.repository';
import { ExecutionService } from './execution.service';
import { ExecutionsController } from './executions.controller';
import { JobTriggerController } from './job-trigger.controller';
import { RetentionService } from './retention.service';

/**
 * Execution history: manual triggers, the executions query and cancel (any node), and
 * retention (leader only). Exports ExecutionService and ExecutionRepository, the store
 * I/O of execution records with their pending and assignment keys.
 */
@Module({
  imports: [ElectionModule, JobModule],
  controllers: [ExecutionsController, JobTriggerController],
  providers: [ExecutionRepository, ExecutionService, RetentionService],
  exports: [ExecutionService, ExecutionRepository],
})
export class ExecutionModule {}
