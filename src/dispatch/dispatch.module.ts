import { Module } from '@nestjs/common';
import { AssignmentMirrorModule } from '../assignments/assignment-mirror.module';
import { ElectionModule } from '../election/election.module';
import { FIRE_PLACEMENT } from './fire-placement';
import { DispatchEventBus } from './dispatch.events';
import { DispatchState } from './dispatch-state';
import { DispatchMetricsFeed } from './dispatch.metrics';
import { Dispatcher } from './dispatcher.service';
import { DeadlineTracker } from './deadline-tracker';
import { LongWaitSweep } from './long-wait-sweep';
import { PendingDrain } from './pending-drain';
import { WorkerRecovery } from './worker-recovery';

/** Assigns executions to workers on the leader. */
@Module({
  imports: [ElectionModule, AssignmentMirrorModule],
  providers: [
    DispatchEventBus,
    DispatchState,
    PendingDrain,
    WorkerRecovery,
    LongWaitSweep,
    DeadlineTracker,
    Dispatcher,
    DispatchMetricsFeed,
    { provide: FIRE_PLACEMENT, useExisting: Dispatcher },
  ],
  exports: [Dispatcher, FIRE_PLACEMENT],
})
export class DispatchModule {}
