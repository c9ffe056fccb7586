import { Module } from '@nestjs/common';
import { ElectionModule } from '../election/election.module';
import { FIRE_PLACEMENT } from './fire-placement';
import { Dispatcher } from './dispatcher.service';

/** Assigns executions to workers on the leader. */
@Module({
  imports: [ElectionModule],
  providers: [Dispatcher, { provide: FIRE_PLACEMENT, useExisting: Dispatcher }],
  exports: [Dispatcher, FIRE_PLACEMENT],
})
export class DispatchModule {}
