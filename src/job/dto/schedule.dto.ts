import { ApiProperty, ApiPropertyOptional, IntersectionType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';

const CRON_DESCRIPTION =
  '5 fields (minute hour day-of-month month day-of-week), 6 with seconds first, or a macro ' +
  '(@yearly @monthly @weekly @daily @hourly). Read in `timezone`. DST, for specific hours ' +
  '(e.g. `30 2 * * *`): a local time skipped by spring-forward fires shifted by the gap (02:30 ' +
  'fires at 03:30 that day); a local time repeated by fall-back fires once, on its first pass. ' +
  'With `*` in the hour field the schedule follows elapsed time: every hour fires, the ' +
  'repeated one included. See docs/schedules.md.';

export class ScheduleDto {
  @ApiProperty({ example: '0 */5 * * * *', description: CRON_DESCRIPTION, maxLength: 256 })
  @IsString()
  @MaxLength(256)
  cron: string;

  @ApiPropertyOptional({ example: 'Europe/Berlin', default: 'UTC', description: 'IANA time zone' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  timezone?: string;
}

/** In PATCH: change the cron, the time zone, or both. */
export class PatchScheduleDto {
  @ApiPropertyOptional({ example: '0 */5 * * * *', description: CRON_DESCRIPTION, maxLength: 256 })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  cron?: string;

  @ApiPropertyOptional({ example: 'Europe/Berlin', description: 'IANA time zone' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  timezone?: string;
}

export class NextFiresQueryDto {
  @ApiPropertyOptional({ example: 5, default: 5, minimum: 1, maximum: 100 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  count?: number;
}

export class PreviewScheduleDto extends IntersectionType(ScheduleDto, NextFiresQueryDto) {
  @ApiPropertyOptional({
    example: '2026-03-28T00:00:00Z',
    description: 'Start after this instant (ISO 8601); default now',
  })
  @IsOptional()
  @IsString()
  after?: string;
}

export class FireTimeDto {
  @ApiProperty({ example: '2026-03-29T01:30:00.000Z', description: 'The instant, in UTC' })
  utc: string;

  @ApiProperty({ example: '2026-03-29T03:30:00', description: 'Wall-clock time in the zone' })
  local: string;

  @ApiProperty({ example: '+02:00', description: "The zone's UTC offset at that instant" })
  offset: string;
}

export class FireTimesDto {
  @ApiProperty({ example: '0 30 2 * * *' })
  cron: string;

  @ApiProperty({ example: 'Europe/Berlin' })
  timezone: string;

  @ApiProperty({ type: [FireTimeDto] })
  fires: FireTimeDto[];
}
