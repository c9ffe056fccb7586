import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches } from 'class-validator';
import { IsKeySegment } from '../../common/key-segment.decorator';
import { STREAM_TYPES } from '../stream-event';

const TYPE = `(${STREAM_TYPES.join('|')})`;

export class EventsQueryDto {
  @ApiPropertyOptional({
    example: 'execution,worker',
    description: `Comma-separated event types to send (${STREAM_TYPES.join(', ')}); default: all`,
  })
  @IsOptional()
  @IsString()
  @Matches(new RegExp(`^${TYPE}(,${TYPE})*$`), {
    message: `types must be a comma-separated list of ${STREAM_TYPES.join(', ')}`,
  })
  types?: string;

  @ApiPropertyOptional({
    example: 'billing',
    description: 'Only executions and workers of this group (node events are not filtered)',
  })
  @IsOptional()
  @IsKeySegment('group')
  group?: string;

  @ApiPropertyOptional({
    example: 'nightly-invoices',
    description: "Only this job's executions (node and worker events are not filtered)",
  })
  @IsOptional()
  @IsKeySegment('jobId')
  jobId?: string;
}
