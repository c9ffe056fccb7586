import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  MAX_HELD_PER_HEARTBEAT,
  parseExecutionId,
  REPORT_STATUSES,
  ReportOutcome,
  ReportStatus,
} from '@forest/protocol';
import { KEY_SEGMENT_PATTERN } from '@forest/store';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  registerDecorator,
  ValidateNested,
} from 'class-validator';
import { IsKeySegment } from '../../common/key-segment.decorator';
import { FastPath } from '../../common/validation';
import { PageQueryDto } from '../../common/paging';
import { isWellFormedReportBatch } from './report-batch.check';
import { WorkerLogPolicyDto } from './worker-logs.dto';

const MAX_LABELS = 32;

/** A flat object of short string labels, e.g. {"zone":"eu-1"}. */
function IsLabels(): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isLabels',
      target: target.constructor,
      propertyName: propertyName as string,
      options: {
        message: `labels must be an object of at most ${MAX_LABELS} string values (keys and values up to 64 characters)`,
      },
      validator: {
        validate(value: unknown): boolean {
          if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
          const entries = Object.entries(value);
          return (
            entries.length <= MAX_LABELS &&
            entries.every(
              ([key, label]) =>
                key.length > 0 &&
                key.length <= 64 &&
                typeof label === 'string' &&
                label.length <= 64,
            )
          );
        },
      },
    });
}

export class RegisterWorkerDto {
  @ApiProperty({ example: 'billing', description: 'The group it serves (must exist)' })
  @IsKeySegment('group')
  group: string;

  @ApiProperty({
    example: ['invoices.generate'],
    description: 'Handler names it can run; only jobs with one of these targets come to it',
  })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(256)
  @IsKeySegment('targets', { each: true })
  targets: string[];

  @ApiProperty({ example: 4, minimum: 1, maximum: 10000, description: 'Most executions at once' })
  @IsInt()
  @Min(1)
  @Max(10000)
  capacity: number;

  @ApiProperty({ example: 'billing-7f9c' })
  @IsString()
  @MaxLength(255)
  host: string;

  @ApiProperty({ example: 4242 })
  @IsInt()
  @Min(0)
  pid: number;

  @ApiPropertyOptional({ example: { zone: 'eu-1' } })
  @IsOptional()
  @IsLabels()
  labels?: Record<string, string>;
}

export class RegisterWorkerResponseDto {
  @ApiProperty({
    example: 'billing-7f9c-k3j5qz2m7xw4pd6a-7587889923',
    description: '`{host}-{random}-{lease id}`: not guessable; the lease id comes last',
  })
  workerId: string;
  @ApiProperty({
    example: 'q0V4p2m9fYt1zXk8bH3rL6sN5wE7cA0dJ2gU4iO9yTo',
    description:
      'Shown only in this answer: send it as `Authorization: Bearer <sessionSecret>` on every ' +
      'later call of this worker (heartbeat, poll, reports, leave). The node keeps only its SHA-256.',
  })
  sessionSecret: string;
  @ApiProperty({ example: 'billing' })
  group: string;
  @ApiProperty({ example: 10, description: 'Silent this long, the worker is dead' })
  leaseTtlS: number;
  @ApiProperty({ example: 3333, description: 'Heartbeat this often' })
  heartbeatIntervalMs: number;
  @ApiProperty({ example: 'node-1' })
  node: string;
  @ApiProperty({
    type: WorkerLogPolicyDto,
    description: 'Whether to stream handler log lines (POST …/logs), and within which bounds',
  })
  logs: WorkerLogPolicyDto;
}

/** `{jobId}~{execKey}`, both key segments: the shape of an execution id the API returns. */
function IsExecutionId(what: string, options: { each?: boolean } = {}): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isExecutionId',
      target: target.constructor,
      propertyName: propertyName as string,
      options: {
        each: options.each,
        message: `${what} must hold execution ids as the API returns them, \`{jobId}~{execKey}\` (got "$value")`,
      },
      validator: {
        validate: (value: unknown) =>
          typeof value === 'string' && value.length <= 200 && isExecutionIdShape(value),
      },
    });
}

function isExecutionIdShape(id: string): boolean {
  const parts = parseExecutionId(id);
  return parts !== undefined && isKeySegment(parts.jobId) && isKeySegment(parts.execKey);
}

function isKeySegment(value: string): boolean {
  return KEY_SEGMENT_PATTERN.test(value) && value !== '.' && value !== '..';
}

export class HeartbeatDto {
  @ApiPropertyOptional({
    type: [String],
    maxItems: MAX_HELD_PER_HEARTBEAT,
    example: ['nightly-invoices~001795482750000'],
    description:
      'Executions the worker holds: running, or received and waiting for their scheduled ' +
      'time. The answer lists those that are no longer its own. Absent or empty: only the lease ' +
      `is kept alive. At most ${MAX_HELD_PER_HEARTBEAT} ids.`,
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_HELD_PER_HEARTBEAT)
  @IsExecutionId('held', { each: true })
  held?: string[];
}

export class AbortNoticeDto {
  @ApiProperty({ example: 'nightly-invoices~001795482750000' })
  executionId: string;

  @ApiProperty({
    example: 'cancelled',
    description:
      'The execution\u2019s status now (`timed_out`, `cancelled`, `lost`, `succeeded`, ...); ' +
      '`moved` when it was taken back and is pending or assigned to another worker; ' +
      '`not_found` when there is no such execution',
  })
  status: string;

  @ApiProperty({ example: 'cancelled through the API on node node-1' })
  reason: string;
}

export class HeartbeatResponseDto {
  @ApiProperty({ example: 10 })
  leaseTtlS: number;

  @ApiProperty({
    type: [AbortNoticeDto],
    description:
      'Held executions that are no longer this worker\u2019s: abort the running ones, never ' +
      'start the waiting ones, and send no report for them (it would be refused)',
  })
  abort: AbortNoticeDto[];
}

export class WorkerLoadDto {
  @ApiProperty({ description: 'Executions in its inbox not yet reported running' })
  assigned: number;
  @ApiProperty({ description: 'Executions it reported running and has not finished' })
  running: number;
}

export class WorkerDto {
  @ApiProperty() id: string;
  @ApiProperty() group: string;
  @ApiProperty({ type: [String] }) targets: string[];
  @ApiProperty() capacity: number;
  @ApiProperty() host: string;
  @ApiProperty() pid: number;
  @ApiProperty({ example: { zone: 'eu-1' } }) labels: Record<string, string>;
  @ApiProperty() registeredAt: string;
  @ApiProperty({ description: 'The node it registered through' }) node: string;
  @ApiPropertyOptional({ description: 'Set when it asked to leave' }) leavingAt?: string;
  @ApiProperty({
    type: WorkerLoadDto,
    description: 'What it holds now; running out of `capacity` slots',
  })
  load: WorkerLoadDto;
  @ApiPropertyOptional({
    description:
      'When its lease was last refreshed (a heartbeat), to the second: derived from the ' +
      'lease\u2019s time to live. Absent when the lease just expired',
  })
  lastHeartbeatAt?: string;
}

export class ListWorkersQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ example: 'billing' })
  @IsOptional()
  @IsKeySegment('group')
  group?: string;
}

export class WorkerPageDto {
  @ApiProperty({ type: [WorkerDto] })
  items: WorkerDto[];
  @ApiPropertyOptional({ description: 'Present when more workers follow: pass it as `cursor`' })
  next?: string;
}

export class PollQueryDto {
  @ApiPropertyOptional({
    default: 0,
    description: 'The `revision` of the previous poll: only newer assignments return at once',
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  after?: number;

  @ApiPropertyOptional({ default: 30000, minimum: 0, maximum: 60000 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(60000)
  waitMs?: number;

  @ApiPropertyOptional({ default: 100, minimum: 1, maximum: 1000 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  max?: number;
}

export class AssignmentDto {
  @ApiProperty({ example: 'nightly-invoices~001795482750000' }) executionId: string;
  @ApiProperty() jobId: string;
  @ApiProperty() jobName: string;
  @ApiProperty() group: string;
  @ApiProperty() target: string;
  @ApiProperty({ nullable: true, example: { region: 'eu' } }) params: unknown;
  @ApiProperty({ enum: ['schedule', 'manual', 'retry'] }) trigger: string;
  @ApiProperty() attempt: number;
  @ApiProperty() scheduledMs: number;
  @ApiProperty() scheduledAt: string;
  @ApiProperty({ description: '0: no time limit' }) timeoutMs: number;
  @ApiProperty() workerId: string;
  @ApiProperty() assignedAt: string;
  @ApiProperty({ enum: ['assigned', 'running'] }) state: string;
}

export class PollResponseDto {
  @ApiProperty({ type: [AssignmentDto] })
  assignments: AssignmentDto[];
  @ApiProperty({ description: 'Pass as `after` in the next poll' })
  revision: number;
}

export class ReportBodyDto {
  @ApiProperty({ enum: REPORT_STATUSES })
  @IsIn(REPORT_STATUSES)
  status: ReportStatus;

  @ApiPropertyOptional({ description: 'Handler output; kept up to 64 KiB' })
  @IsOptional()
  @IsString()
  output?: string;

  @ApiPropertyOptional({ description: 'For failed: message and stack; kept up to 64 KiB' })
  @IsOptional()
  @IsString()
  error?: string;

  @ApiPropertyOptional({
    description:
      'When the handler started (epoch ms, the worker\u2019s clock); the node measures the ' +
      'start lag from it (metrics only)',
    example: 1795482750004,
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  startedAtMs?: number;
}

export class ExecutionReportDto extends ReportBodyDto {
  @ApiProperty({ example: 'nightly-invoices~001795482750000' })
  @IsString()
  @MaxLength(200)
  executionId: string;
}

@FastPath(isWellFormedReportBatch)
export class ReportBatchDto {
  @ApiProperty({ type: [ExecutionReportDto] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(500)
  @ValidateNested({ each: true })
  @Type(() => ExecutionReportDto)
  reports: ExecutionReportDto[];
}

export class ReportResultDto {
  @ApiProperty() executionId: string;
  @ApiProperty({
    enum: ['accepted', 'conflict', 'not_found'],
    description:
      'conflict: no longer this worker\u2019s (moved, cancelled, lost or finished): drop it',
  })
  outcome: ReportOutcome;
  @ApiPropertyOptional() message?: string;
}

export class ReportBatchResponseDto {
  @ApiProperty({ type: [ReportResultDto] })
  results: ReportResultDto[];
}
