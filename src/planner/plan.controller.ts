import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { mayAccessGroup, Principal, RequireAccess } from '../auth/access';
import { CurrentPrincipal } from '../auth/principal.decorator';
import { ApiErrors } from '../common/api-errors.decorator';
import { pageOf } from '../common/paging';
import { LeadershipService } from '../election/leadership.service';
import { PlanPageDto, PlanQueryDto } from './dto/plan.dto';
import { PlannerService } from './planner.service';

function isoOrNull(ms: number | undefined): string | null {
  return ms === undefined ? null : new Date(ms).toISOString();
}

@ApiTags('plan')
@Controller('api/plan')
export class PlanController {
  constructor(
    private readonly planner: PlannerService,
    private readonly leadership: LeadershipService,
  ) {}

  @Get()
  @RequireAccess('read')
  @ApiOperation({
    summary: "This node's plan: every active job with its previous and next fire time",
    description:
      'Every node keeps the plan warm; only the leader fires it (`firing`). Paused jobs ' +
      'are not planned. Sorted by job id; page with `limit` and `cursor`. A token limited ' +
      'to groups sees only the jobs of its groups.',
  })
  @ApiOkResponse({ type: PlanPageDto })
  @ApiErrors(400)
  list(@Query() query: PlanQueryDto, @CurrentPrincipal() principal: Principal): PlanPageDto {
    const { group } = query;
    const matching = this.planner
      .view()
      .filter(
        ({ entry }) => (!group || entry.group === group) && mayAccessGroup(principal, entry.group),
      )
      .sort((a, b) => (a.entry.jobId < b.entry.jobId ? -1 : 1));
    const page = pageOf(matching, ({ entry }) => entry.jobId, query, 'plan');
    return {
      node: this.leadership.node.id,
      leader: this.leadership.leaderId ?? null,
      firing: this.planner.isFiring,
      total: matching.length,
      next: page.next,
      items: page.items.map(({ entry, previousMs, nextMs }) => ({
        jobId: entry.jobId,
        name: entry.name,
        group: entry.group,
        cron: entry.cron,
        timezone: entry.timezone,
        misfirePolicy: entry.policy,
        previousFireAt: isoOrNull(previousMs),
        nextFireAt: isoOrNull(nextMs),
      })),
    };
  }
}
