import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { MISFIRE_POLICIES, MisfirePolicy } from '@forest/protocol';
import { IsOptional } from 'class-validator';
import { IsKeySegment } from '../../common/key-segment.decorator';
import { PageQueryDto } from '../../common/paging';

export class PlanQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ example: 'billing', description: 'Only jobs of this group' })
  @IsOptional()
  @IsKeySegment('group')
  group?: string;
}

export class PlanItemDto {
  @ApiProperty({ example: 'nightly-invoices' })
  jobId: string;
  @ApiProperty({ example: 'nightly invoice run' })
  name: string;
  @ApiProperty({ example: 'billing' })
  group: string;
  @ApiProperty({ example: '0 30 2 * * *' })
  cron: string;
  @ApiProperty({ example: 'Europe/Berlin' })
  timezone: string;
  @ApiProperty({ enum: MISFIRE_POLICIES })
  misfirePolicy: MisfirePolicy;
  @ApiProperty({
    type: String,
    nullable: true,
    example: '2026-11-24T01:30:00.000Z',
    description: 'Latest scheduled time fired (null: never fired)',
  })
  previousFireAt: string | null;
  @ApiProperty({
    type: String,
    nullable: true,
    example: '2026-11-25T01:30:00.000Z',
    description:
      'Next scheduled time (null: the schedule has no more). On the firing node it may ' +
      'be a moment in the past while that fire is being written.',
  })
  nextFireAt: string | null;
}

export class PlanPageDto {
  @ApiProperty({ example: 'node-a', description: 'The node that answered' })
  node: string;
  @ApiProperty({
    type: String,
    nullable: true,
    example: 'node-a',
    description: 'The leader as this node sees it (null during an election)',
  })
  leader: string | null;
  @ApiProperty({ description: 'Whether this node is the one firing the plan' })
  firing: boolean;
  @ApiProperty({ type: [PlanItemDto] })
  items: PlanItemDto[];
  @ApiProperty({ example: 120, description: 'Planned jobs matching the filter, over all pages' })
  total: number;
  @ApiPropertyOptional({
    description: 'Present when more jobs follow: pass it as `cursor` (with the same filter)',
  })
  next?: string;
}
