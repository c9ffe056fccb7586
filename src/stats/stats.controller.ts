import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Principal, RequireAccess } from '../auth/access';
import { CurrentPrincipal } from '../auth/principal.decorator';
import { ApiErrors } from '../common/api-errors.decorator';
import { OverviewDto, OverviewQueryDto } from './dto/overview.dto';
import { StatsService } from './stats.service';

@ApiTags('stats')
@Controller('api/stats')
export class StatsController {
  constructor(private readonly stats: StatsService) {}

  @Get('overview')
  @RequireAccess('read')
  @ApiOperation({
    summary: 'Executions per minute by final status, fire lag, and what waits and runs now',
    description:
      'Finished executions of the last `minutes` (1-1440, default 60) by final status and ' +
      'their fire lag (p50/p99/max of started minus scheduled time), per bucket of 1 minute ' +
      '(5 or 15 minutes for longer windows: at most 120 buckets), by finish time, from the ' +
      'execution history. `pending` and `assignedOrRunning` are counted now. A token limited ' +
      'to groups sees only its groups.',
  })
  @ApiOkResponse({ type: OverviewDto })
  @ApiErrors(400, 503)
  overview(
    @Query() query: OverviewQueryDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<OverviewDto> {
    return this.stats.overview(query.minutes ?? 60, principal);
  }
}
