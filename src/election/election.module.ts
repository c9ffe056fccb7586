import { Module } from '@nestjs/common';
import { ClusterViewService } from './cluster-view.service';
import { LeadershipService } from './leadership.service';
import { NodesController } from './nodes.controller';

/** Cluster membership and fenced leader election. Exports LeadershipService only. */
@Module({
  controllers: [NodesController],
  providers: [LeadershipService, ClusterViewService],
  exports: [LeadershipService],
})
export class ElectionModule {}
