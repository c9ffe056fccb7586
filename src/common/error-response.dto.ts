import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** The one JSON shape of every error answer. */
export class ErrorResponseDto {
  @ApiProperty({ example: 400, description: 'HTTP status code' })
  status: number;

  @ApiProperty({ example: 'VALIDATION_FAILED', description: 'Stable machine-readable code' })
  code: string;

  @ApiProperty({
    example: 'schedule.cron: hour 25 is out of range 0-23',
    description: 'What went wrong and what to fix',
  })
  message: string;

  @ApiPropertyOptional({ description: 'Structured detail, e.g. one entry per invalid field' })
  details?: unknown;
}
