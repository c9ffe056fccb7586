import { Controller, Get } from '@nestjs/common';
import {
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import { RequireAccess } from '../auth/access';
import { ErrorResponseDto } from '../common/error-response.dto';
import { ClusterViewService } from './cluster-view.service';
import { LeaderDto, NodeDto, SelfDto } from './dto/node.dto';
import { LeadershipService } from './leadership.service';

@ApiTags('cluster')
@Controller('api/nodes')
@RequireAccess('read')
export class NodesController {
  constructor(
    private readonly cluster: ClusterViewService,
    private readonly leadership: LeadershipService,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Every live scheduler node, with a leader flag' })
  @ApiOkResponse({ type: [NodeDto] })
  list(): Promise<NodeDto[]> {
    return this.cluster.listNodes();
  }

  @Get('leader')
  @ApiOperation({ summary: 'The current leader (any node answers)' })
  @ApiOkResponse({ type: LeaderDto })
  @ApiServiceUnavailableResponse({
    type: ErrorResponseDto,
    description: 'NO_LEADER: an election is under way',
  })
  leader(): Promise<LeaderDto> {
    return this.cluster.getLeader();
  }

  @Get('self')
  @ApiOperation({ summary: "This node's own view: does it lead, and whom does it follow" })
  @ApiOkResponse({ type: SelfDto })
  self(): SelfDto {
    return {
      id: this.leadership.node.id,
      leader: this.leadership.isLeader,
      leaderId: this.leadership.leaderId,
      fencingToken: this.leadership.fencingToken,
    };
  }
}
