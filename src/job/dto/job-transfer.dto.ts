import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional } from 'class-validator';
import { IsKeySegment } from '../../common/key-segment.decorator';
import { CreateJobDto } from './job.dto';

export const JOBS_DOCUMENT_VERSION = 1;
export const IMPORT_MODES = ['create', 'upsert'] as const;
export type ImportMode = (typeof IMPORT_MODES)[number];

export class ExportJobsQueryDto {
  @ApiPropertyOptional({ example: 'billing', description: 'Only the jobs of this group' })
  @IsOptional()
  @IsKeySegment('group')
  group?: string;
}

/**
 * A schedule to move between clusters: job definitions as POST /api/jobs takes them (no
 * createdAt, updatedAt or version), sorted by id.
 */
export class JobsDocumentDto {
  @ApiProperty({ example: JOBS_DOCUMENT_VERSION, enum: [JOBS_DOCUMENT_VERSION] })
  version: number;
  @ApiProperty({ type: [CreateJobDto] })
  jobs: CreateJobDto[];
  @ApiPropertyOptional({
    description:
      'Present (true) when params were redacted (a viewer token without revealData): such a ' +
      'document is refused by the import',
  })
  redacted?: boolean;
}

/** Body of POST /api/jobs/import (validated by the import itself, job by job). */
export class ImportJobsDto extends JobsDocumentDto {
  @ApiPropertyOptional({
    enum: IMPORT_MODES,
    default: 'create',
    description:
      '`create`: every job must be new (an existing id is a problem); `upsert`: an existing ' +
      'job is replaced (as PUT, its version goes up), a new one created',
  })
  mode?: ImportMode;
}

export class ImportResultDto {
  @ApiProperty({ enum: IMPORT_MODES })
  mode: ImportMode;
  @ApiProperty({ example: 120, description: 'Jobs in the document' })
  total: number;
  @ApiProperty({ example: 118 })
  created: number;
  @ApiProperty({ example: 2, description: 'Existing jobs replaced (upsert)' })
  updated: number;
  @ApiProperty({ example: 3, description: 'Txns the jobs were written in' })
  txns: number;
}
