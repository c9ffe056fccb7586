import { Module } from '@nestjs/common';
import { AssignmentMirrorModule } from '../assignments/assignment-mirror.module';
import { AssignmentInbox } from './assignment-inbox.service';
import { ReportService } from './report.service';
import { WorkerLogIntake } from './worker-log-intake.service';
import { WorkerLogsController } from './worker-logs.controller';
import { WorkerRegistry } from './worker-registry.service';
import { WorkerSessions } from './worker-sessions.service';
import { WorkersController } from './workers.controller';

/** The HTTP side of the worker protocol, on every node. */
@Module({
  imports: [AssignmentMirrorModule],
  controllers: [WorkersController, WorkerLogsController],
  providers: [WorkerRegistry, WorkerSessions, AssignmentInbox, ReportService, WorkerLogIntake],
  exports: [WorkerRegistry, ReportService],
})
export class WorkerGatewayModule {}
