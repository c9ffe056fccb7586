import { ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  Max,
  Min,
} from 'class-validator';
import {
  ALERT_EVENTS,
  AlertEvent,
  MISFIRE_POLICIES,
  MisfirePolicy,
  RETRY_BACKOFFS,
  RetryBackoff,
} from '@forest/protocol';
import { IsKeySegment } from '../../common/key-segment.decorator';

const DAY_MS = 24 * 3600 * 1000;

/**
 * The policy blocks of a job. Every field is optional: on create and PUT an absent field
 * takes its default, on PATCH it keeps its current value.
 */
export class DispatchDto {
  @ApiPropertyOptional({
    example: 'round-robin',
    default: 'round-robin',
    description:
      'A loaded dispatch strategy (GET /api/plugins): built in are random, round-robin, ' +
      'consistent-hash, least-busy, failover, broadcast, label-match. Unknown: 400 listing them.',
  })
  @IsOptional()
  @IsKeySegment('strategy')
  strategy?: string;

  @ApiPropertyOptional({
    example: {},
    default: {},
    description:
      "Options for the strategy, checked by it (400 with its message), e.g. label-match's " +
      "{ labels: { zone: 'eu' }, strategy: 'least-busy' } or consistent-hash's { by: 'param', param: 'tenant' }",
  })
  @IsOptional()
  @IsObject()
  options?: Record<string, unknown>;
}

export class RetryDto {
  @ApiPropertyOptional({
    example: 3,
    default: 0,
    minimum: 0,
    maximum: 100,
    description:
      'Extra attempts after a `failed`, `timed_out` or `lost` one (0: never retry). Each retry ' +
      'is a new execution `{first id}.r{n}` linked by `retryOf`, created in the txn that ends ' +
      'the previous attempt and dispatched after the backoff',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(100)
  maxAttempts?: number;

  @ApiPropertyOptional({
    enum: RETRY_BACKOFFS,
    default: 'exponential',
    description:
      '`fixed`: initialDelayMs each time; `exponential`: initialDelayMs · 2^(n-1), capped by ' +
      'maxDelayMs; either less up to 20 % jitter',
  })
  @IsOptional()
  @IsIn(RETRY_BACKOFFS)
  backoff?: RetryBackoff;

  @ApiPropertyOptional({ example: 1000, default: 1000, minimum: 0, maximum: DAY_MS })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(DAY_MS)
  initialDelayMs?: number;

  @ApiPropertyOptional({ example: 60000, default: 60000, minimum: 0, maximum: DAY_MS })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(DAY_MS)
  maxDelayMs?: number;
}

export class MisfireDto {
  @ApiPropertyOptional({
    enum: MISFIRE_POLICIES,
    default: 'fire_once',
    description:
      'What to do with fires missed while no leader could fire (outage, failover): skip them, fire once, or fire each one',
  })
  @IsOptional()
  @IsIn(MISFIRE_POLICIES)
  policy?: MisfirePolicy;

  @ApiPropertyOptional({ example: 3600000, default: 3600000, minimum: 0, maximum: 7 * DAY_MS })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(7 * DAY_MS)
  catchUpWindowMs?: number;
}

export class AlertsDto {
  @ApiPropertyOptional({
    example: ['webhook'],
    default: [],
    description:
      'Loaded alert channels (GET /api/plugins; built in: log, webhook, slack, email) that get this ' +
      "job's alerts for the events below, on top of FOREST_ALERT_DEFAULT_CHANNELS",
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(16)
  @IsKeySegment('channel', { each: true })
  channels?: string[];

  @ApiPropertyOptional({
    enum: ALERT_EVENTS,
    isArray: true,
    default: ['failed', 'timed_out', 'lost'],
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(ALERT_EVENTS.length)
  @IsIn(ALERT_EVENTS, { each: true })
  events?: AlertEvent[];
}
