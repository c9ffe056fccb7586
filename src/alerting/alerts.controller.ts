import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { mayAccessGroup, Principal, RequireAccess } from '../auth/access';
import { CurrentPrincipal } from '../auth/principal.decorator';
import { ApiErrors } from '../common/api-errors.decorator';
import { pageOf, sortedByKey } from '../common/paging';
import { AlertService } from './alert.service';
import { AlertPageDto, ListAlertsQueryDto, RecentAlertDto } from './dto/alert.dto';

@ApiTags('alerts')
@Controller('api/alerts')
export class AlertsController {
  constructor(private readonly alerts: AlertService) {}

  @Get()
  @RequireAccess('read')
  @ApiOperation({
    summary: 'Recent alerts raised by this node',
    description:
      'The latest 100 alerts this node raised (newest first, paged with `limit` and `cursor`) ' +
      'with the outcome per channel. ' +
      'Each node keeps its own: execution alerts come from the node that recorded the report, ' +
      'cluster and dispatch alerts from the leader. A token limited to groups sees the alerts ' +
      'of its groups and those of no group (cluster alerts such as leader_changed).',
  })
  @ApiOkResponse({ type: AlertPageDto })
  @ApiErrors(400)
  list(@Query() query: ListAlertsQueryDto, @CurrentPrincipal() principal: Principal): AlertPageDto {
    const visible = this.alerts.recent().filter(({ alert }) => {
      const group = alert.job?.group ?? alert.worker?.group;
      return group === undefined || mayAccessGroup(principal, group);
    });
    const newestFirst = sortedByKey(visible, alertSortKey).reverse();
    return pageOf(newestFirst, alertSortKey, query, 'alerts', 'desc');
  }
}

/** Alerts are listed newest first: by time, then id. */
function alertSortKey(record: RecentAlertDto): string {
  return `${record.alert.at}|${record.alert.id}`;
}
