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
  ApiCreatedResponse,
  ApiHeader,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { FastifyReply } from 'fastify';
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
import { FireTimesDto, NextFiresQueryDto } from './dto/schedule.dto';
import { JobService } from './job.service';

const IF_MATCH = ApiHeader({
  name: 'If-Match',
  required: false,
  description: 'The job version you last read (alternative to "version" in the body)',
});
const VERSION_CONFLICT = {
  status: 409,
  description:
    'VERSION_CONFLICT: the job changed since you read it; details.currentVersion has the current version',
};
const JOB_ID = new KeySegmentPipe('id');

/** Every job answer carries its version as an ETag, ready for If-Match. */
function withEtag(reply: FastifyReply, job: JobDto): JobDto {
  void reply.header('ETag', `"${job.version}"`);
  return job;
}

@ApiTags('jobs')
@Controller('api/jobs')
export class JobsController {
  constructor(private readonly jobs: JobService) {}

  @Post()
  @ApiOperation({ summary: 'Create a job in an existing group' })
  @ApiCreatedResponse({ type: JobDto })
  @ApiErrors(400, 404, 413, { status: 409, description: 'JOB_EXISTS: the given id is taken' })
  async create(
    @Body() dto: CreateJobDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<JobDto> {
    return withEtag(reply, await this.jobs.create(dto));
  }

  @Get()
  @ApiOperation({ summary: 'List jobs, filtered by group, state and name, one page at a time' })
  @ApiOkResponse({ type: JobPageDto })
  @ApiErrors(400)
  list(@Query() query: ListJobsQueryDto): Promise<JobPageDto> {
    return this.jobs.list(query);
  }

  @Get(':id')
  @ApiOperation({ summary: 'Get a job' })
  @ApiOkResponse({ type: JobDto })
  @ApiErrors(400, 404)
  async get(
    @Param('id', JOB_ID) id: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<JobDto> {
    return withEtag(reply, await this.jobs.get(id));
  }

  @Put(':id')
  @IF_MATCH
  @ApiOperation({ summary: 'Replace a job (absent optional fields return to their defaults)' })
  @ApiOkResponse({ type: JobDto })
  @ApiErrors(400, 404, 413, VERSION_CONFLICT)
  async replace(
    @Param('id', JOB_ID) id: string,
    @Body() dto: ReplaceJobDto,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<JobDto> {
    return withEtag(reply, await this.jobs.replace(id, dto, ifMatch));
  }

  @Patch(':id')
  @IF_MATCH
  @ApiOperation({ summary: 'Change some fields of a job (policy blocks merge field by field)' })
  @ApiOkResponse({ type: JobDto })
  @ApiErrors(400, 404, 413, VERSION_CONFLICT)
  async patch(
    @Param('id', JOB_ID) id: string,
    @Body() dto: PatchJobDto,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<JobDto> {
    return withEtag(reply, await this.jobs.patch(id, dto, ifMatch));
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a job' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiErrors(400, 404)
  async delete(@Param('id', JOB_ID) id: string): Promise<void> {
    await this.jobs.delete(id);
  }

  @Post(':id/pause')
  @HttpCode(200)
  @IF_MATCH
  @ApiOperation({ summary: 'Pause a job: it stops firing (manual triggers still work)' })
  @ApiOkResponse({ type: JobDto })
  @ApiErrors(400, 404, VERSION_CONFLICT)
  async pause(
    @Param('id', JOB_ID) id: string,
    @Body() dto: JobActionDto,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<JobDto> {
    return withEtag(reply, await this.jobs.setState(id, 'paused', dto?.version, ifMatch));
  }

  @Post(':id/resume')
  @HttpCode(200)
  @IF_MATCH
  @ApiOperation({ summary: 'Resume a paused job: it fires again from now on' })
  @ApiOkResponse({ type: JobDto })
  @ApiErrors(400, 404, VERSION_CONFLICT)
  async resume(
    @Param('id', JOB_ID) id: string,
    @Body() dto: JobActionDto,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<JobDto> {
    return withEtag(reply, await this.jobs.setState(id, 'active', dto?.version, ifMatch));
  }

  @Get(':id/next-fires')
  @ApiOperation({ summary: "The job's next fire times, in UTC and in its time zone" })
  @ApiOkResponse({ type: FireTimesDto })
  @ApiErrors(400, 404)
  nextFires(
    @Param('id', JOB_ID) id: string,
    @Query() query: NextFiresQueryDto,
  ): Promise<FireTimesDto> {
    return this.jobs.nextFires(id, query.count ?? 5);
  }
}
