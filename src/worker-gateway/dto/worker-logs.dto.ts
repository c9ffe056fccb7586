import { ApiProperty } from '@nestjs/swagger';
import {
  LogBatchOutcome,
  MAX_LOG_EXECUTIONS_PER_BATCH,
  MAX_LOG_LINE_BYTES,
  MAX_LOG_LINES_PER_BATCH,
  WORKER_LOG_LEVELS,
  WorkerLogLevel,
} from '@forest/protocol';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsInt,
  IsString,
  Max,
  Min,
  registerDecorator,
  ValidateNested,
} from 'class-validator';
import { isValidExecutionId } from '../../execution/execution-query';

/** Latest accepted line time: year 9999 (epoch ms). */
const MAX_EPOCH_MS = 253_402_300_799_999;
/** Highest seq: far beyond any per-execution bound, and exact in a double. */
const MAX_SEQ = 2_147_483_647;

function IsExecutionId(): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isExecutionId',
      target: target.constructor,
      propertyName: propertyName as string,
      options: {
        message: 'executionId must be an execution id as the API returns it, `{jobId}~{execKey}`',
      },
      validator: {
        validate: (value: unknown) =>
          typeof value === 'string' && value.length <= 200 && isValidExecutionId(value),
      },
    });
}

/**
 * At most `max` UTF-8 bytes. Not class-validator's IsByteLength: it measures through
 * encodeURI, which throws on a lone surrogate (a 500 for a bad line instead of a 400).
 */
function MaxUtf8Bytes(max: number): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'maxUtf8Bytes',
      target: target.constructor,
      propertyName: propertyName as string,
      options: { message: `text must be at most ${max} UTF-8 bytes: cut longer lines` },
      validator: {
        // Characters first: a long string is refused without encoding it.
        validate: (value: unknown) =>
          typeof value === 'string' && value.length <= max && Buffer.byteLength(value) <= max,
      },
    });
}

/** What the registration answer says about live logs (see libs/protocol worker-logs.types.ts). */
export class WorkerLogPolicyDto {
  @ApiProperty({
    description:
      'The node keeps execution logs: stream handler log lines to POST …/logs. False: send none ' +
      '(on etcd without FOREST_HISTORY_URL logs are not kept)',
  })
  enabled: boolean;
  @ApiProperty({ example: 1048576, description: 'FOREST_LOG_MAX_BYTES_PER_EXECUTION' })
  maxBytesPerExecution: number;
  @ApiProperty({ example: 10000, description: 'FOREST_LOG_MAX_LINES_PER_EXECUTION' })
  maxLinesPerExecution: number;
  @ApiProperty({
    example: MAX_LOG_LINE_BYTES,
    description: 'Longest line text in UTF-8 bytes: cut longer lines before sending',
  })
  maxLineBytes: number;
  @ApiProperty({ example: MAX_LOG_LINES_PER_BATCH, description: 'Most lines in one batch' })
  maxLinesPerBatch: number;
}

export class WorkerLogLineDto {
  @ApiProperty({
    example: 1,
    minimum: 1,
    description: '1, 2, 3, … per execution; a resent line keeps its seq and is stored once',
  })
  @IsInt()
  @Min(1)
  @Max(MAX_SEQ)
  seq: number;

  @ApiProperty({ example: 1795485570123, description: 'When the handler wrote it (epoch ms)' })
  @IsInt()
  @Min(0)
  @Max(MAX_EPOCH_MS)
  atMs: number;

  @ApiProperty({ enum: WORKER_LOG_LEVELS })
  @IsIn(WORKER_LOG_LEVELS)
  level: WorkerLogLevel;

  @ApiProperty({
    example: 'generating invoices for eu',
    description: `At most ${MAX_LOG_LINE_BYTES} UTF-8 bytes (longer: 400; the SDK cuts lines before sending)`,
  })
  @IsString()
  @MaxUtf8Bytes(MAX_LOG_LINE_BYTES)
  text: string;
}

export class ExecutionLogLinesDto {
  @ApiProperty({ example: 'nightly-report~001795485570000' })
  @IsExecutionId()
  executionId: string;

  @ApiProperty({ type: [WorkerLogLineDto] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_LOG_LINES_PER_BATCH)
  @ValidateNested({ each: true })
  @Type(() => WorkerLogLineDto)
  lines: WorkerLogLineDto[];
}

export class LogBatchDto {
  @ApiProperty({
    type: [ExecutionLogLinesDto],
    description: `At most ${MAX_LOG_EXECUTIONS_PER_BATCH} executions and ${MAX_LOG_LINES_PER_BATCH} lines in all`,
  })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_LOG_EXECUTIONS_PER_BATCH)
  @ValidateNested({ each: true })
  @Type(() => ExecutionLogLinesDto)
  executions: ExecutionLogLinesDto[];
}

export class LogBatchResultDto {
  @ApiProperty() executionId: string;
  @ApiProperty({
    enum: ['accepted', 'conflict'],
    description:
      'conflict: the execution is not in this worker\u2019s inbox (moved, finished, cancelled, ' +
      'or never its): nothing was stored, send no more of its lines',
  })
  outcome: LogBatchOutcome;
  @ApiProperty({ description: 'New lines stored (a resent line counts once, when first stored)' })
  stored: number;
  @ApiProperty({
    description:
      'Lines not kept because the execution reached FOREST_LOG_MAX_LINES_PER_EXECUTION or ' +
      'FOREST_LOG_MAX_BYTES_PER_EXECUTION',
  })
  dropped: number;
}

export class LogBatchResponseDto {
  @ApiProperty({ type: [LogBatchResultDto] })
  results: LogBatchResultDto[];
}
