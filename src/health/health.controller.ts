import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckResult, HealthCheckService } from '@nestjs/terminus';
import { RequireAccess } from '../auth/access';
import { StoreHealthIndicator } from './store.health';

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly store: StoreHealthIndicator,
  ) {}

  @Get()
  @RequireAccess('public')
  @HealthCheck()
  @ApiOperation({
    summary: 'Liveness and readiness of this node',
    description:
      'Up when the coordination store answers. 503 when it does not, and while the node shuts down (so load balancers drain it first).',
  })
  check(): Promise<HealthCheckResult> {
    return this.health.check([() => this.store.check('store')]);
  }
}
