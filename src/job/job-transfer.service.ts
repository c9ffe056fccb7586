import { randomUUID } from 'node:crypto';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { Injectable } from '@nestjs/common';
import { GroupRecord, JobRecord } from '@forest/protocol';
import { mayAccessGroup, Principal } from '../auth/access';
import { ANY_GROUP, requireGroupInScope } from '../auth/scope';
import { DomainError, ValidationFailedError } from '../common/domain-error';
import { createValidationPipe, FieldProblem } from '../common/validation';
import { CreateJobDto } from './dto/job.dto';
import {
  ImportJobsDto,
  ImportMode,
  ImportResultDto,
  IMPORT_MODES,
  JOBS_DOCUMENT_VERSION,
  JobsDocumentDto,
} from './dto/job-transfer.dto';
import { IMPORT_MAX_JOBS } from './job-import.limits';
import { ImportConflictError, ImportInvalidError, ImportProblem } from './job.errors';
import { ImportWrite, JobRepository, Stored } from './job.repository';
import { JobFields, JobService, requireUsableId, toJobDto } from './job.service';

/** Problems an IMPORT_INVALID answer lists (all are counted). */
const MAX_LISTED_PROBLEMS = 100;
/** Jobs validated between two yields to the event loop. */
const VALIDATE_SLICE = 200;
const DOCUMENT_KEYS = new Set(['version', 'jobs', 'mode', 'redacted']);

/**
 * Bulk export and import of job definitions, to move a schedule between clusters.
 *
 * The import is validated as a whole before anything is written: every job by the rules
 * of POST /api/jobs (fields, schedule, params size, dispatch strategy and options, alert
 * channels), its group existing, ids unique in the document and, in `create` mode, new.
 * Every problem is reported at once (400 IMPORT_INVALID, per index). Then the jobs are
 * written in as few txns as etcd's op limit allows (about 100 jobs each), every txn
 * comparing each key it writes (absent, or as read) and its groups (same incarnation, no
 * delete running).
 *
 * What that guarantees: an import is refused whole for any invalid job; a conflict found
 * while writing (a job created or changed, a group deleted, by someone else since the
 * validation) undoes the txns already committed, each key only if it is still as the
 * import wrote it, and answers 409 IMPORT_CONFLICT (naming any job it could not undo
 * because someone changed it since). What it does not: the txns are not one atomic step,
 * so readers (the API, the planner) can see a part of the import while it is written, a
 * job can fire in that window even if the import is then undone, and a node that dies
 * mid-import leaves the txns committed so far (an `upsert` import of the same document
 * completes it).
 */
@Injectable()
export class JobTransferService {
  constructor(
    private readonly jobs: JobService,
    private readonly repository: JobRepository,
  ) {}

  /** The caller's jobs (of `group`, if given) as a document the import takes. */
  async export(group: string | undefined, scope: Principal = ANY_GROUP): Promise<JobsDocumentDto> {
    const jobs = (await this.repository.listJobs())
      .filter(
        ({ record }) => mayAccessGroup(scope, record.group) && (!group || record.group === group),
      )
      .map(({ record, version }) => toDefinition(record, version));
    return { version: JOBS_DOCUMENT_VERSION, jobs };
  }

  async import(body: unknown, scope: Principal = ANY_GROUP): Promise<ImportResultDto> {
    const document = checkDocument(body);
    const mode: ImportMode = document.mode ?? 'create';
    // Authorization before validation: naming a group outside the token's is 403.
    for (const item of document.jobs) {
      const group = isPlainObject(item) ? item.group : undefined;
      if (typeof group === 'string') requireGroupInScope(scope, group);
    }
    const existing = new Map(
      (await this.repository.listJobs()).map((stored) => [stored.record.id, stored]),
    );
    const groups = new Map<string, Stored<GroupRecord> | undefined>();
    const pipe = createValidationPipe();
    const problems: ImportProblem[] = [];
    let totalProblems = 0;
    let invalidJobs = 0;
    const seen = new Map<string, number>();
    const valid: { id: string; fields: JobFields }[] = [];
    for (let index = 0; index < document.jobs.length; index++) {
      if (index > 0 && index % VALIDATE_SLICE === 0) await yieldToLoop();
      const item = document.jobs[index];
      const found: { field: string; problems: string[] }[] = [];
      let id = isPlainObject(item) && typeof item.id === 'string' ? item.id : undefined;
      try {
        const dto = (await pipe.transform(item, {
          type: 'body',
          metatype: CreateJobDto,
        })) as CreateJobDto;
        requireUsableId(dto.id);
        const fields = await this.jobs.definition(dto);
        id = dto.id ?? randomUUID();
        const first = seen.get(id);
        if (first !== undefined) {
          found.push({ field: 'id', problems: [`"${id}" is also the id of jobs[${first}]`] });
        } else {
          seen.set(id, index);
        }
        if (!groups.has(fields.group)) {
          groups.set(fields.group, await this.repository.getGroup(fields.group));
        }
        if (!groups.get(fields.group)) {
          found.push({
            field: 'group',
            problems: [`group "${fields.group}" does not exist: create it first`],
          });
        }
        const current = existing.get(id);
        if (current && (mode === 'create' || !mayAccessGroup(scope, current.record.group))) {
          found.push({
            field: 'id',
            problems: [
              `job "${id}" already exists` +
                (mode === 'create' ? ' (mode upsert replaces it)' : ''),
            ],
          });
        }
        if (found.length === 0) valid.push({ id, fields });
      } catch (error) {
        if (!(error instanceof DomainError)) throw error;
        found.push(...problemsOf(error));
      }
      if (found.length === 0) continue;
      invalidJobs++;
      totalProblems += found.length;
      for (const problem of found) {
        if (problems.length < MAX_LISTED_PROBLEMS) {
          problems.push({ index, ...(id === undefined ? {} : { id }), ...problem });
        }
      }
    }
    if (invalidJobs > 0) throw new ImportInvalidError(problems, invalidJobs, totalProblems);

    const now = new Date().toISOString();
    let updated = 0;
    const writes: ImportWrite[] = valid.map(({ id, fields }) => {
      const current = existing.get(id);
      if (!current) {
        return { record: { ...fields, id, createdAt: now, updatedAt: now, activeSince: now } };
      }
      updated++;
      const resumed = current.record.state === 'paused' && fields.state === 'active';
      const record: JobRecord = {
        ...fields,
        id,
        createdAt: current.record.createdAt,
        updatedAt: now,
        activeSince: resumed ? now : (current.record.activeSince ?? current.record.createdAt),
      };
      return {
        record,
        modRevision: current.modRevision,
        previous: JSON.stringify(current.record),
      };
    });
    const admitted = new Map<string, Stored<GroupRecord>>();
    for (const [name, group] of groups) if (group) admitted.set(name, group);
    const outcome = await this.repository.writeImport(writes, admitted);
    if (outcome.kind === 'conflict') {
      throw new ImportConflictError(outcome.conflicts, outcome.notUndone);
    }
    return {
      mode,
      total: writes.length,
      created: writes.length - updated,
      updated,
      txns: outcome.txns,
    };
  }
}

/** A job as the import takes it: the JobDto without server fields. */
function toDefinition(record: JobRecord, version: number): CreateJobDto {
  const { createdAt, updatedAt, version: v, ...definition } = toJobDto(record, version);
  void createdAt;
  void updatedAt;
  void v;
  return definition;
}

/** The document's own shape (each job is checked later, one by one). */
function checkDocument(body: unknown): ImportJobsDto & { jobs: unknown[] } {
  const problems: FieldProblem[] = [];
  if (!isPlainObject(body)) {
    throw new ValidationFailedError('the body must be a jobs document: {version: 1, jobs: [...]}');
  }
  for (const key of Object.keys(body)) {
    if (!DOCUMENT_KEYS.has(key)) {
      problems.push({ field: key.slice(0, 64), problems: ['property should not exist'] });
    }
  }
  if (body.version !== JOBS_DOCUMENT_VERSION) {
    problems.push({ field: 'version', problems: [`must be ${JOBS_DOCUMENT_VERSION}`] });
  }
  if (body.mode !== undefined && !(IMPORT_MODES as readonly unknown[]).includes(body.mode)) {
    problems.push({ field: 'mode', problems: [`must be one of ${IMPORT_MODES.join(', ')}`] });
  }
  if (body.redacted === true) {
    problems.push({
      field: 'redacted',
      problems: ['this export has its params redacted (a viewer token without revealData)'],
    });
  } else if (body.redacted !== undefined && body.redacted !== false) {
    problems.push({ field: 'redacted', problems: ['must be a boolean'] });
  }
  if (!Array.isArray(body.jobs)) {
    problems.push({ field: 'jobs', problems: ['must be an array of job definitions'] });
  } else if (body.jobs.length > IMPORT_MAX_JOBS) {
    problems.push({ field: 'jobs', problems: [`at most ${IMPORT_MAX_JOBS} jobs per import`] });
  }
  if (problems.length > 0) {
    throw new ValidationFailedError(
      problems.map((p) => `${p.field}: ${p.problems.join('; ')}`).join(', '),
      problems.slice(0, 20),
    );
  }
  return body as unknown as ImportJobsDto & { jobs: unknown[] };
}

/** A domain error of one job as its field problems. */
function problemsOf(error: DomainError): { field: string; problems: string[] }[] {
  if (Array.isArray(error.details) && error.details.every(isFieldProblem)) {
    return error.details.length > 0
      ? error.details.map((p) => ({ field: p.field, problems: p.problems }))
      : [{ field: '', problems: [error.message] }];
  }
  return [{ field: '', problems: [`${error.code}: ${error.message}`] }];
}

function isFieldProblem(value: unknown): value is FieldProblem {
  return isPlainObject(value) && typeof value.field === 'string' && Array.isArray(value.problems);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
