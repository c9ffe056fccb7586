import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { RequireAccess } from '../auth/access';
import { METRICS_CONTENT_TYPE, MetricsService } from './metrics.service';

@ApiTags('metrics')
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Get()
  @RequireAccess('metrics')
  @Header('Content-Type', METRICS_CONTENT_TYPE)
  @Header('Cache-Control', 'no-store')
  @ApiProduces(METRICS_CONTENT_TYPE)
  @ApiOperation({
    summary: 'This node\u2019s metrics, in the Prometheus text format',
    description:
      'Scrape every node: counters are per node (fires, final statuses, HTTP requests ...), and ' +
      'dispatch gauges (pending, workers, slots) come from the leader only. With FOREST_AUTH=on ' +
      'it needs a read token (viewer, operator, admin) unless FOREST_METRICS_PUBLIC=true.',
  })
  @ApiOkResponse({
    description: 'Prometheus text format 0.0.4',
    schema: { type: 'string', example: 'forest_election_leader 1\n' },
  })
  scrape(): Promise<string> {
    return this.metrics.render();
  }
}
