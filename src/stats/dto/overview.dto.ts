import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { MAX_WINDOW_MINUTES, MIN_WINDOW_MINUTES } from '../stats-window';

export class OverviewQueryDto {
  @ApiPropertyOptional({
    example: 60,
    default: 60,
    minimum: MIN_WINDOW_MINUTES,
    maximum: MAX_WINDOW_MINUTES,
    description: 'The window: the last this many minutes',
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(MIN_WINDOW_MINUTES)
  @Max(MAX_WINDOW_MINUTES)
  minutes?: number;
}

/** Finished executions by final status. */
export class StatusCountsDto {
  @ApiProperty({ example: 57 })
  succeeded: number;
  @ApiProperty({ example: 2 })
  failed: number;
  @ApiProperty({ example: 0 })
  timed_out: number;
  @ApiProperty({ example: 0 })
  cancelled: number;
  @ApiProperty({ example: 0 })
  lost: number;
  @ApiProperty({ example: 1, description: 'Fires of a busy `forbid` job' })
  skipped: number;
}

export class FireLagDto {
  @ApiProperty({ example: 12 })
  p50: number;
  @ApiProperty({ example: 85 })
  p99: number;
  @ApiProperty({ example: 140 })
  max: number;
}

export class OverviewBucketDto {
  @ApiProperty({
    example: '2026-11-24T01:59:00.000Z',
    description: 'Bucket start (by finish time)',
  })
  start: string;

  @ApiProperty({ type: StatusCountsDto })
  counts: StatusCountsDto;

  @ApiPropertyOptional({
    type: FireLagDto,
    description:
      'Fire lag in ms (started minus scheduled time) of the executions that ran; absent when none did',
  })
  lagMs?: FireLagDto;
}

export class OverviewDto {
  @ApiProperty({ example: '2026-11-24T01:00:00.000Z', description: 'Start of the first bucket' })
  from: string;

  @ApiProperty({ example: '2026-11-24T02:00:00.000Z', description: 'End of the window (now)' })
  to: string;

  @ApiProperty({ example: 60_000, description: 'Bucket size: 1 minute, coarser for long windows' })
  bucketMs: number;

  @ApiProperty({ type: [OverviewBucketDto], description: 'Oldest first; the last one still fills' })
  buckets: OverviewBucketDto[];

  @ApiProperty({ type: StatusCountsDto, description: 'Finished executions in the window' })
  totals: StatusCountsDto;

  @ApiProperty({
    example: 2,
    description: 'Executions of the window that ended failed, timed_out or lost',
  })
  failed: number;

  @ApiProperty({ example: 3, description: 'Executions waiting for a worker now' })
  pending: number;

  @ApiProperty({
    example: 8,
    description:
      "Executions in workers' inboxes now: assigned (waiting for their time or a slot) or running",
  })
  assignedOrRunning: number;
}
