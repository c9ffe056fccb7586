import { Module } from '@nestjs/common';
import { DispatchModule } from '../dispatch/dispatch.module';
import { ElectionModule } from '../election/election.module';
import { JobModule } from '../job/job.module';
import { PlannerModule } from '../planner/planner.module';
import { WorkerGatewayModule } from '../worker-gateway/worker-gateway.module';
import { AlertService } from './alert.service';
import { AlertSources } from './alert-sources.service';
import { AlertsController } from './alerts.controller';

/** Alerts: from the modules' events to the alert channel plugins. */
@Module({
  imports: [DispatchModule, ElectionModule, JobModule, PlannerModule, WorkerGatewayModule],
  controllers: [AlertsController],
  providers: [AlertService, AlertSources],
  exports: [AlertService],
})
export class AlertingModule {}
