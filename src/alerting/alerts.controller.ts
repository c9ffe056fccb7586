import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AlertService } from './alert.service';
import { RecentAlertDto } from './dto/alert.dto';

@ApiTags('alerts')
@Controller('api/alerts')
export class AlertsController {
  constructor(private readonly alerts: AlertService) {}

  @Get()
  @ApiOperation({
    summary: 'Recent alerts raised by this node',
    description:
      'The latest 100 alerts this node raised (newest first) with the outcome per channel. ' +
      'Each node keeps its own: execution alerts come from the node that recorded the report, ' +
      'cluster and dispatch alerts from the leader.',
  })
  @ApiOkResponse({ type: [RecentAlertDto] })
  list(): RecentAlertDto[] {
    return this.alerts.recent();
  }
}
