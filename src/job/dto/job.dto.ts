import {
  ApiProperty,
  ApiPropertyOptional,
  IntersectionType,
  OmitType,
  PartialType,
} from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  Allow,
  IsDefined,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Length,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import {
  ALERT_EVENTS,
  CONCURRENCY_POLICIES,
  ConcurrencyPolicy,
  JOB_STATES,
  JobState,
  MISFIRE_POLICIES,
  RETRY_BACKOFFS,
  type AlertEvent,
  type MisfirePolicy,
  type RetryBackoff,
} from '@forest/protocol';
import { IsKeySegment } from '../../common/key-segment.decorator';
import { PageQueryDto } from '../../common/paging';
import { AlertsDto, DispatchDto, MisfireDto, RetryDto } from './job-policies.dto';
import { PatchScheduleDto, ScheduleDto } from './schedule.dto';

const WEEK_MS = 7 * 24 * 3600 * 1000;

/** Fields every job write may carry; create and PUT require name, group, schedule, target. */
class JobFieldsDto {
  @ApiProperty({ example: 'nightly invoice run', maxLength: 128 })
  @IsString()
  @Length(1, 128)
  name: string;

  @ApiProperty({ example: 'billing', description: 'An existing group' })
  @IsKeySegment('group')
  group: string;

  @ApiProperty({ type: ScheduleDto })
  @IsDefined()
  @ValidateNested()
  @Type(() => ScheduleDto)
  schedule: ScheduleDto;

  @ApiProperty({
    example: 'invoices.generate',
    description: 'Handler name a worker of the group runs',
  })
  @IsKeySegment('target')
  target: string;

  @ApiPropertyOptional({
    example: { region: 'eu' },
    description: 'Any JSON value handed to the handler; at most 64 KiB serialized',
  })
  @Allow()
  params?: unknown;

  @ApiPropertyOptional({ enum: JOB_STATES, default: 'active' })
  @IsOptional()
  @IsIn(JOB_STATES)
  state?: JobState;

  @ApiPropertyOptional({ type: DispatchDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => DispatchDto)
  dispatch?: DispatchDto;

  @ApiPropertyOptional({
    enum: CONCURRENCY_POLICIES,
    default: 'allow',
    description:
      'When a fire comes while an execution of the job is pending, assigned or running (or a ' +
      'retry waits for its backoff): `allow` runs both; `forbid` records the fire as `skipped` ' +
      'with the reason; `replace` cancels the active execution (its handler is aborted) and runs ' +
      'the new one. Decided atomically in the fire txn; forbid/replace fires are written when due ' +
      '(no lookahead). Manual triggers follow it unless they pass `force`.',
  })
  @IsOptional()
  @IsIn(CONCURRENCY_POLICIES)
  concurrency?: ConcurrencyPolicy;

  @ApiPropertyOptional({
    example: 300000,
    default: 0,
    minimum: 0,
    maximum: WEEK_MS,
    description:
      'Time limit of one attempt from its start; 0: no limit. The worker aborts the handler ' +
      '(its AbortSignal) at the limit; the leader marks the execution `timed_out` if no final ' +
      'report came within the limit plus FOREST_TIMEOUT_GRACE_MS, and retries it per `retry`.',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(WEEK_MS)
  timeoutMs?: number;

  @ApiPropertyOptional({ type: RetryDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => RetryDto)
  retry?: RetryDto;

  @ApiPropertyOptional({ type: MisfireDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => MisfireDto)
  misfire?: MisfireDto;

  @ApiPropertyOptional({ type: AlertsDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => AlertsDto)
  alerts?: AlertsDto;

  @ApiPropertyOptional({ example: 'owned by team billing', maxLength: 1024, default: '' })
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  remark?: string;
}

/** Optimistic concurrency: the version the client last read (or send it as If-Match). */
class VersionedDto {
  @ApiPropertyOptional({ example: 3, description: 'The version you last read; or send If-Match' })
  @IsOptional()
  @IsInt()
  @Min(1)
  version?: number;
}

export class CreateJobDto extends JobFieldsDto {
  @ApiPropertyOptional({
    example: 'nightly-invoices',
    description: 'Your own unique id, [A-Za-z0-9._-]{1,64}; the server generates one if absent',
  })
  @IsOptional()
  @IsKeySegment('id')
  id?: string;
}

export class ReplaceJobDto extends IntersectionType(JobFieldsDto, VersionedDto) {}

/** PATCH: only the fields given change; nested policy blocks merge field by field. */
export class PatchJobDto extends IntersectionType(
  PartialType(OmitType(JobFieldsDto, ['schedule'] as const)),
  VersionedDto,
) {
  @ApiPropertyOptional({ type: PatchScheduleDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => PatchScheduleDto)
  schedule?: PatchScheduleDto;
}

/** Body of pause/resume: optional version check. */
export class JobActionDto extends VersionedDto {}

class ScheduleViewDto {
  @ApiProperty({ example: '0 */5 * * * *' })
  cron: string;
  @ApiProperty({ example: 'UTC' })
  timezone: string;
}

class DispatchViewDto {
  @ApiProperty({ example: 'round-robin' })
  strategy: string;
  @ApiProperty({ example: {} })
  options: Record<string, unknown>;
}

class RetryViewDto {
  @ApiProperty({ example: 0 })
  maxAttempts: number;
  @ApiProperty({ enum: RETRY_BACKOFFS, example: 'exponential' })
  backoff: RetryBackoff;
  @ApiProperty({ example: 1000 })
  initialDelayMs: number;
  @ApiProperty({ example: 60000 })
  maxDelayMs: number;
}

class MisfireViewDto {
  @ApiProperty({ enum: MISFIRE_POLICIES, example: 'fire_once' })
  policy: MisfirePolicy;
  @ApiProperty({ example: 3600000 })
  catchUpWindowMs: number;
}

class AlertsViewDto {
  @ApiProperty({ example: [] })
  channels: string[];
  @ApiProperty({ enum: ALERT_EVENTS, isArray: true, example: ['failed', 'timed_out', 'lost'] })
  events: AlertEvent[];
}

export class JobDto {
  @ApiProperty({ example: 'nightly-invoices' })
  id: string;
  @ApiProperty({ example: 'nightly invoice run' })
  name: string;
  @ApiProperty({ example: 'billing' })
  group: string;
  @ApiProperty({ type: ScheduleViewDto })
  schedule: ScheduleViewDto;
  @ApiProperty({ example: 'invoices.generate' })
  target: string;
  @ApiProperty({
    example: { region: 'eu' },
    nullable: true,
    description: 'The job params; "[redacted]" for a viewer token without revealData',
  })
  params: unknown;
  @ApiProperty({ enum: JOB_STATES })
  state: JobState;
  @ApiProperty({ type: DispatchViewDto })
  dispatch: DispatchViewDto;
  @ApiProperty({ enum: CONCURRENCY_POLICIES })
  concurrency: ConcurrencyPolicy;
  @ApiProperty({ example: 0 })
  timeoutMs: number;
  @ApiProperty({ type: RetryViewDto })
  retry: RetryViewDto;
  @ApiProperty({ type: MisfireViewDto })
  misfire: MisfireViewDto;
  @ApiProperty({ type: AlertsViewDto })
  alerts: AlertsViewDto;
  @ApiProperty({ example: '' })
  remark: string;
  @ApiProperty({ example: '2026-11-23T22:50:00.000Z' })
  createdAt: string;
  @ApiProperty({ example: '2026-11-23T22:50:00.000Z' })
  updatedAt: string;
  @ApiProperty({ example: 1, description: 'Send it back on updates (optimistic concurrency)' })
  version: number;
}

export class ListJobsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ example: 'billing' })
  @IsOptional()
  @IsKeySegment('group')
  group?: string;

  @ApiPropertyOptional({ enum: JOB_STATES })
  @IsOptional()
  @IsIn(JOB_STATES)
  state?: JobState;

  @ApiPropertyOptional({
    example: 'invoice',
    description: 'Case-insensitive substring of the name',
  })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  name?: string;

  @ApiPropertyOptional({ example: 'round-robin', description: 'Dispatch strategy, exactly' })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  strategy?: string;
}

export class JobPageDto {
  @ApiProperty({ type: [JobDto] })
  items: JobDto[];
  @ApiProperty({ example: 120, description: 'Jobs matching the filters, over all pages' })
  total: number;
  @ApiPropertyOptional({
    example: 'cDE6am9iczpuaWdodGx5LWludm9pY2Vz',
    description: 'Present when more jobs follow: pass it as `cursor` (with the same filters)',
  })
  next?: string;
}
