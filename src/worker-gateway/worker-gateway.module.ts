import { Module } from '@nestjs/common';
import { AssignmentInbox } from './assignment-inbox.service';
import { ReportService } from './report.service';
import { WorkerRegistry } from './worker-registry.service';
import { WorkersController } from './workers.controller';

/** The HTTP side of the worker protocol, on every node. */
@Module({
  controllers: [WorkersController],
  providers: [WorkerRegistry, AssignmentInbox, ReportService],
  exports: [WorkerRegistry, ReportService],
})
export class WorkerGatewayModule {}
