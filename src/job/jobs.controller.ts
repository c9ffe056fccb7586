import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  Param,
  Patch,
  Post,
  Put,
  Query,
  Res,
} from '@nestjs/common';
import {
  ApiBody,
  ApiCreatedResponse,
  ApiHeader,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { FastifyReply } from 'fastify';
import { mayRevealData, Principal, RequireAccess } from '../auth/access';
import { CurrentPrincipal } from '../auth/principal.decorator';
import { redactData } from '../auth/scope';
import { ApiErrors } from '../common/api-errors.decorator';
import { KeySegmentPipe } from '../common/key-segment.pipe';
import {
  CreateJobDto,
  JobActionDto,
  JobDto,
  JobPageDto,
  ListJobsQueryDto,
  PatchJobDto,
  ReplaceJobDto,
} from './dto/job.dto';
import {
  ExportJobsQueryDto,
  ImportJobsDto,
  ImportResultDto,
  JobsDocumentDto,
} from './dto/job-transfer.dto';
import { FireTimesDto, NextFiresQueryDto } from './dto/schedule.dto';
import { IMPORT_BODY_LIMIT, IMPORT_JSON_MAX_KEYS, IMPORT_MAX_JOBS } from './job-import.limits';
import { JobService } from './job.service';
import { JobTransferService } from './job-transfer.service';

// Named as the @Headers('if-match') parameter reads it, so the document lists one optional header.
const IF_MATCH = ApiHeader({
  name: 'if-match',
  required: false,
  description: 'The job version you last read (alternative to "version" in the body)',
});
const VERSION_CONFLICT = {
  status: 409,
  description:
    'VERSION_CONFLICT: the job changed since you read it; details.currentVersion has the current version',
};
const JOB_ID = new KeySegmentPipe('id');

const OUT_OF_SCOPE = {
  status: 403,
  description: 'GROUP_OUT_OF_SCOPE: the token is limited to other groups than the one named',
};

/**
 * Every job answer carries its version as an ETag, ready for If-Match; params redacted for
 * a viewer without revealData.
 */
function withEtag(reply: FastifyReply, job: JobDto, principal: Principal): JobDto {
  void reply.header('ETag', `"${job.version}"`);
  return redactData(principal, job);
}

@ApiTags('jobs')
@Controller('api/jobs')
export class JobsController {
  constructor(
    private readonly jobs: JobService,
    private readonly transfer: JobTransferService,
  ) {}

  @Get('export')
  @RequireAccess('read')
  @ApiOperation({
    summary: 'Export job definitions (all, or one group) for POST /api/jobs/import',
    description:
      '`{version: 1, jobs: [...]}`: each job as POST /api/jobs takes it (no createdAt, ' +
      'updatedAt or version), sorted by id. A token limited to groups exports its groups ' +
      'only. For a viewer token without revealData params read "[redacted]" and the ' +
      'document carries `redacted: true`, which the import refuses.',
  })
  @ApiOkResponse({ type: JobsDocumentDto })
  @ApiErrors(400)
  async export(
    @Query() query: ExportJobsQueryDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<JobsDocumentDto> {
    const document = await this.transfer.export(query.group, principal);
    if (mayRevealData(principal)) return document;
    return {
      ...document,
      jobs: document.jobs.map((job) => redactData(principal, job)),
      redacted: true,
    };
  }

  @Post('import')
  @RequireAccess('operate')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Import job definitions: validated as a whole, written all or nothing',
    description:
      'Takes the document GET /api/jobs/export returns, with `mode`: `create` (default; ' +
      'every id must be new) or `upsert` (existing jobs are replaced). Every job is checked ' +
      'as POST /api/jobs checks it, its group must exist and ids must be unique; all ' +
      'problems are answered at once (400 IMPORT_INVALID, `details.problems[]` with the ' +
      'index of each job) and nothing is written. A valid import is written in txns of ' +
      'about 100 jobs, each comparing every key it writes; if one fails (a job or group ' +
      'changed meanwhile) the ones before are undone and the answer is 409 IMPORT_CONFLICT. ' +
      'While it is written, readers can see part of it; a node that dies mid-import leaves ' +
      'part of it (an upsert of the same document completes it).\n\n' +
      `Limits of this route only: a body of at most ${IMPORT_BODY_LIMIT / 1024 / 1024} MiB ` +
      `(or FOREST_HTTP_BODY_LIMIT if larger), ${IMPORT_JSON_MAX_KEYS} keys + items (or ` +
      `FOREST_JSON_MAX_KEYS if larger), ${IMPORT_MAX_JOBS} jobs.`,
  })
  @ApiBody({ type: ImportJobsDto })
  @ApiOkResponse({ type: ImportResultDto })
  @ApiErrors(400, 413, OUT_OF_SCOPE, {
    status: 409,
    description: 'IMPORT_CONFLICT: jobs or groups changed while the import was written; undone',
  })
  import(
    @Body() body: unknown,
    @CurrentPrincipal() principal: Principal,
  ): Promise<ImportResultDto> {
    return this.transfer.import(body, principal);
  }

  @Post()
  @RequireAccess('operate')
  @ApiOperation({ summary: 'Create a job in an existing group' })
  @ApiCreatedResponse({ type: JobDto })
  @ApiErrors(400, 404, 413, OUT_OF_SCOPE, {
    status: 409,
    description: 'JOB_EXISTS: the given id is taken',
  })
  async create(
    @Body() dto: CreateJobDto,
    @CurrentPrincipal() principal: Principal,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<JobDto> {
    return withEtag(reply, await this.jobs.create(dto, principal), principal);
  }

  @Get()
  @RequireAccess('read')
  @ApiOperation({
    summary: 'List jobs, filtered by group, state, name and dispatch strategy, one page at a time',
    description: 'A token limited to groups sees only the jobs of its groups.',
  })
  @ApiOkResponse({ type: JobPageDto })
  @ApiErrors(400)
  async list(
    @Query() query: ListJobsQueryDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<JobPageDto> {
    const page = await this.jobs.list(query, principal);
    return { ...page, items: page.items.map((job) => redactData(principal, job)) };
  }

  @Get(':id')
  @RequireAccess('read')
  @ApiOperation({ summary: 'Get a job' })
  @ApiOkResponse({ type: JobDto })
  @ApiErrors(400, 404)
  async get(
    @Param('id', JOB_ID) id: string,
    @CurrentPrincipal() principal: Principal,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<JobDto> {
    return withEtag(reply, await this.jobs.get(id, principal), principal);
  }

  @Put(':id')
  @RequireAccess('operate')
  @IF_MATCH
  @ApiOperation({ summary: 'Replace a job (absent optional fields return to their defaults)' })
  @ApiOkResponse({ type: JobDto })
  @ApiErrors(400, 404, 413, OUT_OF_SCOPE, VERSION_CONFLICT)
  async replace(
    @Param('id', JOB_ID) id: string,
    @Body() dto: ReplaceJobDto,
    @Headers('if-match') ifMatch: string | undefined,
    @CurrentPrincipal() principal: Principal,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<JobDto> {
    return withEtag(reply, await this.jobs.replace(id, dto, ifMatch, principal), principal);
  }

  @Patch(':id')
  @RequireAccess('operate')
  @IF_MATCH
  @ApiOperation({ summary: 'Change some fields of a job (policy blocks merge field by field)' })
  @ApiOkResponse({ type: JobDto })
  @ApiErrors(400, 404, 413, OUT_OF_SCOPE, VERSION_CONFLICT)
  async patch(
    @Param('id', JOB_ID) id: string,
    @Body() dto: PatchJobDto,
    @Headers('if-match') ifMatch: string | undefined,
    @CurrentPrincipal() principal: Principal,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<JobDto> {
    return withEtag(reply, await this.jobs.patch(id, dto, ifMatch, principal), principal);
  }

  @Delete(':id')
  @RequireAccess('operate')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a job' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiErrors(400, 404)
  async delete(
    @Param('id', JOB_ID) id: string,
    @CurrentPrincipal() principal: Principal,
  ): Promise<void> {
    await this.jobs.delete(id, principal);
  }

  @Post(':id/pause')
  @RequireAccess('operate')
  @HttpCode(200)
  @IF_MATCH
  @ApiOperation({ summary: 'Pause a job: it stops firing (manual triggers still work)' })
  @ApiOkResponse({ type: JobDto })
  @ApiErrors(400, 404, VERSION_CONFLICT)
  async pause(
    @Param('id', JOB_ID) id: string,
    @Body() dto: JobActionDto,
    @Headers('if-match') ifMatch: string | undefined,
    @CurrentPrincipal() principal: Principal,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<JobDto> {
    const job = await this.jobs.setState(id, 'paused', dto?.version, ifMatch, principal);
    return withEtag(reply, job, principal);
  }

  @Post(':id/resume')
  @RequireAccess('operate')
  @HttpCode(200)
  @IF_MATCH
  @ApiOperation({ summary: 'Resume a paused job: it fires again from now on' })
  @ApiOkResponse({ type: JobDto })
  @ApiErrors(400, 404, VERSION_CONFLICT)
  async resume(
    @Param('id', JOB_ID) id: string,
    @Body() dto: JobActionDto,
    @Headers('if-match') ifMatch: string | undefined,
    @CurrentPrincipal() principal: Principal,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<JobDto> {
    const job = await this.jobs.setState(id, 'active', dto?.version, ifMatch, principal);
    return withEtag(reply, job, principal);
  }

  @Get(':id/next-fires')
  @RequireAccess('read')
  @ApiOperation({ summary: "The job's next fire times, in UTC and in its time zone" })
  @ApiOkResponse({ type: FireTimesDto })
  @ApiErrors(400, 404)
  nextFires(
    @Param('id', JOB_ID) id: string,
    @Query() query: NextFiresQueryDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<FireTimesDto> {
    return this.jobs.nextFires(id, query.count ?? 5, principal);
  }
}
