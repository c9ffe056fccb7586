import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  Allow,
  IsBoolean,
  IsIn,
  IsISO8601,
  IsOptional,
  IsString,
  MaxLength,
  MinLength,
} from 'class-validator';
import {
  CONCURRENCY_POLICIES,
  ConcurrencyPolicy,
  RETRY_BACKOFFS,
  RetryBackoff,
  EXECUTION_STATUSES,
  EXECUTION_TRIGGERS,
  ExecutionStatus,
  ExecutionTrigger,
} from '@forest/protocol';
import { IsKeySegment } from '../../common/key-segment.decorator';
import { PageQueryDto } from '../../common/paging';

/** Body of POST /api/jobs/{id}/trigger. */
export class TriggerJobDto {
  @ApiPropertyOptional({
    example: { region: 'us' },
    description:
      "Any JSON value handed to the handler instead of the job's params, for this run only; " +
      'at most 64 KiB serialized. Absent: the job params.',
  })
  @Allow()
  params?: unknown;

  @ApiPropertyOptional({
    default: false,
    description:
      'Run even if the job has concurrency `forbid` and an execution is active, or without ' +
      'cancelling the active one under `replace`. Ignored for `allow` jobs.',
  })
  @IsOptional()
  @IsBoolean()
  force?: boolean;

  @ApiPropertyOptional({
    default: true,
    description: "false: this run is not retried even if the job's retry policy says so",
  })
  @IsOptional()
  @IsBoolean()
  retry?: boolean;
}

/** Body of POST /api/executions/{id}/cancel. */
export class CancelExecutionDto {
  @ApiPropertyOptional({
    example: 'wrong params',
    maxLength: 1024,
    description: "Why; kept in the execution's error",
  })
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  reason?: string;
}

export class ListExecutionsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({
    enum: ['desc', 'asc'],
    default: 'desc',
    description: '`desc`: newest first (the default); `asc`: oldest first',
  })
  @IsOptional()
  @IsIn(['desc', 'asc'])
  order?: 'desc' | 'asc';

  @ApiPropertyOptional({
    example: 'nightly-invoices',
    description: "Only this job's executions (reads only that job's keys: the fast way)",
  })
  @IsOptional()
  @IsKeySegment('jobId')
  jobId?: string;

  @ApiPropertyOptional({ example: 'billing' })
  @IsOptional()
  @IsKeySegment('group')
  group?: string;

  @ApiPropertyOptional({ enum: EXECUTION_STATUSES })
  @IsOptional()
  @IsIn(EXECUTION_STATUSES)
  status?: ExecutionStatus;

  @ApiPropertyOptional({
    example: 'worker-7f3a',
    description: 'Assigned (or last assigned) worker',
  })
  @IsOptional()
  @IsKeySegment('worker')
  worker?: string;

  @ApiPropertyOptional({ enum: EXECUTION_TRIGGERS })
  @IsOptional()
  @IsIn(EXECUTION_TRIGGERS)
  trigger?: ExecutionTrigger;

  @ApiPropertyOptional({
    example: '2026-11-23T00:00:00Z',
    description: 'Scheduled at or after this ISO time',
  })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'from must be an ISO 8601 date-time' })
  from?: string;

  @ApiPropertyOptional({
    example: '2026-11-24T00:00:00Z',
    description: 'Scheduled at or before this ISO time',
  })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'to must be an ISO 8601 date-time' })
  to?: string;

  @ApiPropertyOptional({
    example: 'nightly-invoices~001764034200000',
    description:
      'Only the attempts of the fire this execution belongs to (any of its attempts), attempt 1 first',
  })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  attemptsOf?: string;

  @ApiPropertyOptional({
    example: 'connection refused',
    description:
      'Free-text search: executions whose output or error contains this text (case-insensitive, ' +
      'taken literally)',
    maxLength: 200,
  })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  q?: string;
}

export class FiredByDto {
  @ApiProperty({ example: 'node-1' })
  node: string;
  @ApiProperty({
    example: 7,
    description: "The leader's fencing token for a schedule fire; 0 for a manual trigger",
  })
  token: number;
}

export class TimelineEntryDto {
  @ApiProperty({ enum: EXECUTION_STATUSES })
  status: ExecutionStatus;
  @ApiProperty({ example: '2026-11-24T01:30:00.004Z' })
  at: string;
  @ApiProperty({ example: 'node-1', description: 'The node that made the change' })
  node: string;
  @ApiPropertyOptional({ example: 'worker-7f3a' })
  worker?: string;
}

/** Fields of every execution answer. */
export class ShardDto {
  @ApiProperty({ example: 0, description: '0..total-1' })
  index: number;
  @ApiProperty({ example: 3, description: 'How many workers the broadcast went to' })
  total: number;
}

export class CancelSourceDto {
  @ApiProperty({
    enum: ['api', 'replace'],
    description: '`api`: cancelled through the API; `replace`: by a newer execution of the job',
  })
  kind: 'api' | 'replace';
  @ApiProperty({ example: 'node-1', description: 'The node that wrote the cancel' })
  node: string;
  @ApiPropertyOptional({
    example: 'nightly-invoices~001764034260000',
    description:
      'For `replace`: the execution that replaced it; for `api`: the name of the token that ' +
      'cancelled it (with FOREST_AUTH=on)',
  })
  by?: string;
  @ApiPropertyOptional({ example: 'wrong params' })
  reason?: string;
}

export class ExecutionRetryDto {
  @ApiProperty({ example: 3, description: 'Extra attempts after the first' })
  maxAttempts: number;
  @ApiProperty({ enum: RETRY_BACKOFFS })
  backoff: RetryBackoff;
  @ApiProperty({ example: 1000 })
  initialDelayMs: number;
  @ApiProperty({ example: 60000 })
  maxDelayMs: number;
}

export class ExecutionDispatchDto {
  @ApiProperty({ example: 'round-robin' })
  strategy: string;
  @ApiProperty({ example: {}, type: 'object', additionalProperties: true })
  options: Record<string, unknown>;
}

export class ExecutionSummaryDto {
  @ApiProperty({
    example: 'nightly-invoices~001764034200000',
    description: '`{jobId}~{execKey}`; the key is the scheduled epoch ms, zero-padded',
  })
  id: string;
  @ApiProperty({ example: 'nightly-invoices' })
  jobId: string;
  @ApiProperty({ example: 'nightly invoice run' })
  jobName: string;
  @ApiProperty({ example: 'billing' })
  group: string;
  @ApiProperty({ example: 'invoices.generate' })
  target: string;
  @ApiProperty({ enum: EXECUTION_TRIGGERS })
  trigger: ExecutionTrigger;
  @ApiProperty({ enum: EXECUTION_STATUSES })
  status: ExecutionStatus;
  @ApiProperty({ example: 1, description: '1 for the first run, 2.. for retries' })
  attempt: number;
  @ApiProperty({ example: 1764034200000, description: 'Scheduled time, epoch ms' })
  scheduledMs: number;
  @ApiProperty({
    example: '2026-11-25T01:30:00.000Z',
    description: 'The fire time it is for; for a manual trigger, when it was triggered',
  })
  scheduledAt: string;
  @ApiProperty({ example: '2026-11-25T01:30:00.004Z', description: 'When it was created' })
  firedAt: string;
  @ApiProperty({ description: 'A misfire catch-up' })
  catchUp: boolean;
  @ApiProperty({ example: 0, description: 'Time limit in ms (0: none)' })
  timeoutMs: number;
  @ApiPropertyOptional({ example: 'worker-7f3a', description: 'The worker it is (or was) on' })
  worker?: string;
  @ApiPropertyOptional({
    type: ShardDto,
    description: 'For a broadcast: which copy this is (one execution per worker)',
  })
  shard?: ShardDto;
  @ApiPropertyOptional({ example: '2026-11-25T01:30:00.020Z' })
  startedAt?: string;
  @ApiPropertyOptional({ example: '2026-11-25T01:30:02.500Z' })
  finishedAt?: string;
  @ApiPropertyOptional({ example: 2480 })
  durationMs?: number;
  @ApiPropertyOptional({
    example: 'connection refused',
    description: 'Why it failed or was cancelled (in a list: the first 256 bytes)',
  })
  error?: string;
  @ApiPropertyOptional({
    example: 'nightly-invoices~001764034200000',
    description: 'For a retry (attempt >= 2): the attempt it retries',
  })
  retryOf?: string;
  @ApiPropertyOptional({
    example: '2026-11-25T01:30:04.000Z',
    description: 'For a retry: not dispatched before this time (the backoff)',
  })
  retryAt?: string;
  @ApiPropertyOptional({
    example: 'execution nightly-invoices~001764034140000 is still running (concurrency forbid)',
    description: 'For `skipped`: why the fire did not run',
  })
  skipReason?: string;
  @ApiPropertyOptional({ type: CancelSourceDto, description: 'For `cancelled`: who cancelled it' })
  cancelledBy?: CancelSourceDto;
}

/** One execution with everything it carries. */
export class ExecutionDto extends ExecutionSummaryDto {
  @ApiProperty({
    example: { region: 'eu' },
    nullable: true,
    description: 'The params it runs with; "[redacted]" for a viewer token without revealData',
  })
  params: unknown;
  @ApiProperty({ type: FiredByDto, description: 'The node that created it' })
  firedBy: FiredByDto;
  @ApiPropertyOptional({
    type: ExecutionDispatchDto,
    description:
      'The dispatch strategy and options it was placed with (copied from the job when it fired)',
  })
  dispatch?: ExecutionDispatchDto;
  @ApiPropertyOptional({
    type: ExecutionRetryDto,
    description: "The job's retry policy when it fired (absent: it is not retried)",
  })
  retryPolicy?: ExecutionRetryDto;
  @ApiPropertyOptional({
    enum: CONCURRENCY_POLICIES,
    description: "The job's concurrency policy when it fired (absent: allow)",
  })
  concurrency?: ConcurrencyPolicy;
  @ApiPropertyOptional({ description: 'A manual trigger that ignored the concurrency policy' })
  forced?: boolean;
  @ApiPropertyOptional({
    description: 'Handler output (at most 64 KiB); "[redacted]" for a viewer without revealData',
  })
  output?: string;
  @ApiProperty({ type: [TimelineEntryDto], description: 'Every status change, oldest first' })
  timeline: TimelineEntryDto[];
}

export class ExecutionPageDto {
  @ApiProperty({ type: [ExecutionSummaryDto] })
  items: ExecutionSummaryDto[];
  @ApiPropertyOptional({
    example: 'ZTE6ZXhlY3V0aW9ucy9qb2ItYS8wMDE3NjQwMzQyMDAwMDA',
    description:
      'Present when more executions may follow: pass it as `cursor` (with the same filters). ' +
      'A page can hold fewer than `limit` items, even none, and still have `next`.',
  })
  next?: string;
}
