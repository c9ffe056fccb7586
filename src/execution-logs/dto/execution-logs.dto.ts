import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { WORKER_LOG_LEVELS, WorkerLogLevel } from '@forest/protocol';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

export const LOG_PAGE_MAX = 1000;
export const LOG_PAGE_DEFAULT = 200;
/** Highest seq a worker may send (see the worker protocol's log lines). */
export const MAX_LOG_SEQ = 2_147_483_647;

export class LogFollowQueryDto {
  @ApiPropertyOptional({
    example: 0,
    default: 0,
    minimum: 0,
    description: 'Only lines with a greater seq (`Last-Event-ID`, when sent, takes precedence)',
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(MAX_LOG_SEQ)
  after?: number;
}

export class LogPageQueryDto extends LogFollowQueryDto {
  @ApiPropertyOptional({
    example: LOG_PAGE_DEFAULT,
    default: LOG_PAGE_DEFAULT,
    minimum: 1,
    maximum: LOG_PAGE_MAX,
    description: 'Lines per page',
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(LOG_PAGE_MAX)
  limit?: number;
}

export class LogLineDto {
  @ApiProperty({ example: 1, description: '1, 2, 3, … per execution, in the order written' })
  seq: number;
  @ApiProperty({
    example: 1795485570123,
    description: 'When the handler wrote it (epoch ms, worker clock)',
  })
  atMs: number;
  @ApiProperty({ enum: WORKER_LOG_LEVELS })
  level: WorkerLogLevel;
  @ApiProperty({
    example: 'generating invoices for eu',
    description: '"[redacted]" for a viewer token without revealData',
  })
  text: string;
}

export class LogPageDto {
  @ApiProperty({ type: [LogLineDto], description: 'Oldest first' })
  items: LogLineDto[];
  @ApiPropertyOptional({
    example: 200,
    description:
      'More lines follow: pass it as `after` for the next page (absent: none stored yet)',
  })
  next?: number;
}
