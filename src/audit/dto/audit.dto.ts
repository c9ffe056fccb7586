import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsInt,
  IsISO8601,
  IsOptional,
  IsString,
  Max,
  Matches,
  MaxLength,
  Min,
} from 'class-validator';

export class ListAuditQueryDto {
  @ApiPropertyOptional({
    example: 'ci-deploy',
    description: 'Only entries of this actor (a token name, or `anonymous (auth off)`)',
  })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  actor?: string;

  @ApiPropertyOptional({
    example: 'job.pause',
    description: 'Only this action; a trailing `*` matches a prefix (`job.*`)',
  })
  @IsOptional()
  @Matches(/^[A-Za-z0-9._-]{1,100}\*?$/, {
    message: 'action must be an action like job.pause, or a prefix ending in * (job.*)',
  })
  action?: string;

  @ApiPropertyOptional({
    example: 'job:nightly',
    description: 'Only this object; a trailing `*` matches a prefix (`job:*`)',
  })
  @IsOptional()
  @IsString()
  @MaxLength(300)
  object?: string;

  @ApiPropertyOptional({
    example: '2026-11-24T00:00:00Z',
    description: 'Entries at or after this time',
  })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'from must be an ISO 8601 date-time' })
  from?: string;

  @ApiPropertyOptional({
    example: '2026-11-25T00:00:00Z',
    description: 'Entries at or before this time',
  })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'to must be an ISO 8601 date-time' })
  to?: string;

  @ApiPropertyOptional({ example: 50, default: 50, minimum: 1, maximum: 500 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;

  @ApiPropertyOptional({
    description: 'The `next` of the previous page (opaque); send the same filters with it',
  })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  cursor?: string;
}

export class AuditEntryDto {
  @ApiProperty({ example: '001795485570123-9f2c01ab' })
  id: string;
  @ApiProperty({ example: '2026-11-24T01:59:30.123Z' })
  at: string;
  @ApiProperty({
    example: 'ci-deploy',
    description:
      'The token\u2019s name; `anonymous (auth off)` with FOREST_AUTH=off; `unauthenticated` ' +
      'for a call refused for want of a valid token; `worker:{group}/{id}` for a worker\u2019s own leave',
  })
  actor: string;
  @ApiPropertyOptional({ example: 'tok_5f1c9a' })
  tokenId?: string;
  @ApiProperty({ example: 'job.pause' })
  action: string;
  @ApiProperty({ example: 'POST' })
  method: string;
  @ApiProperty({ example: '/api/jobs/:id/pause', description: 'The route pattern' })
  route: string;
  @ApiProperty({ example: 'job:nightly' })
  object: string;
  @ApiProperty({ example: 200, description: 'HTTP status of the answer' })
  status: number;
  @ApiProperty({ example: 'node-1' })
  node: string;
  @ApiProperty({ example: '10.0.0.7' })
  ip: string;
}

export class AuditPageDto {
  @ApiProperty({ type: [AuditEntryDto] })
  items: AuditEntryDto[];
  @ApiPropertyOptional({
    description:
      'Present when older entries may follow: pass it as `cursor` (with the same filters). ' +
      'A page can hold fewer than `limit` items, even none, and still have `next`.',
  })
  next?: string;
}
