import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { IsKeySegment } from '../../common/key-segment.decorator';
import { PageQueryDto } from '../../common/paging';

export class CreateGroupDto {
  @ApiProperty({ example: 'billing', description: 'Group name, [A-Za-z0-9._-]{1,64}' })
  @IsKeySegment('name')
  name: string;

  @ApiPropertyOptional({ example: 'workers of the billing service', maxLength: 1024 })
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  remark?: string;
}

export class UpdateGroupDto {
  @ApiProperty({ example: 'workers of the billing service', maxLength: 1024 })
  @IsString()
  @MaxLength(1024)
  remark: string;
}

export class GroupDto {
  @ApiProperty({ example: 'billing' })
  name: string;

  @ApiProperty({ example: 'workers of the billing service' })
  remark: string;

  @ApiProperty({ example: '2026-11-23T22:50:00.000Z' })
  createdAt: string;

  @ApiProperty({ example: '2026-11-23T22:50:00.000Z' })
  updatedAt: string;
}

export class ListGroupsQueryDto extends PageQueryDto {}

export class GroupPageDto {
  @ApiProperty({ type: [GroupDto] })
  items: GroupDto[];
  @ApiPropertyOptional({
    description: 'Present when more groups follow: pass it as `cursor`',
  })
  next?: string;
}

export class DeleteGroupQueryDto {
  @ApiPropertyOptional({
    description: 'Also delete the jobs of the group (otherwise a group with jobs is 409)',
    enum: ['true', 'false'],
  })
  @IsOptional()
  @IsIn(['true', 'false'])
  force?: 'true' | 'false';
}
