import { Global, Module } from '@nestjs/common';
import { ElectionModule } from '../election/election.module';
import { HistoryMover } from './history-mover';
import { HistoryRetentionService } from './history-retention.service';
import { HistorySweeper } from './history-sweeper';

/**
 * Moving finished executions out of the coordination store into the history (every
 * module that finishes executions hands them to HistoryMover, so it is global), the
 * leader's sweep of what was left behind, and history retention.
 */
@Global()
@Module({
  imports: [ElectionModule],
  providers: [HistoryMover, HistorySweeper, HistoryRetentionService],
  exports: [HistoryMover],
})
export class HistoryMoverModule {}
