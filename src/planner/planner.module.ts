import { Module } from '@nestjs/common';
import { DispatchModule } from '../dispatch/dispatch.module';
import { ElectionModule } from '../election/election.module';
import { PlanController } from './plan.controller';
import { PlannerService } from './planner.service';

/** The warm plan on every node and exactly-once firing on the leader. */
@Module({
  imports: [ElectionModule, DispatchModule],
  controllers: [PlanController],
  providers: [PlannerService],
  exports: [PlannerService],
})
export class PlannerModule {}
