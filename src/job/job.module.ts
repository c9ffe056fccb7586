import { Module } from '@nestjs/common';
import { GroupService } from './group.service';
import { GroupsController } from './groups.controller';
import { JobRepository } from './job.repository';
import { JobService } from './job.service';
import { JobTransferService } from './job-transfer.service';
import { JobsController } from './jobs.controller';
import { SchedulesController } from './schedules.controller';

/** Groups and jobs as a REST API; the store is the only state. Exports JobService. */
@Module({
  controllers: [GroupsController, JobsController, SchedulesController],
  providers: [JobRepository, JobService, GroupService, JobTransferService],
  exports: [JobService],
})
export class JobModule {}
