import { Module } from '@nestjs/common';
import { AssignmentInbox } from './assignment-inbox.service';
import { ReportService } from './report.service';
import { WorkerRegistry } from './worker-registry.service';
import { WorkerSessions } from './worker-sessions.service';
import { WorkersController } from './workers.controller';

/** The HTTP side of the worker protocol, on every node. */
@Module({
  controllers: [WorkersController],
  providers: [WorkerRegistry, WorkerSessions, AssignmentInbox, ReportService],
  exports: [WorkerRegistry, ReportService],
})
export class WorkerGatewayModule {}
