import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequireAccess } from '../auth/access';
import { ValidationFailedError } from '../common/domain-error';
import { ApiErrors } from '../common/api-errors.decorator';
import { FireTimesDto, PreviewScheduleDto } from './dto/schedule.dto';
import { previewFires } from './job.service';

@ApiTags('schedules')
@Controller('api/schedules')
export class SchedulesController {
  @Post('preview')
  @RequireAccess('read')
  @HttpCode(200)
  @ApiOperation({
    summary: 'The next fire times of a cron expression in a time zone, before saving a job',
    description:
      'Each fire is given in UTC and as wall-clock time with its offset. A local time skipped by a DST change fires after the jump; a repeated one fires once.',
  })
  @ApiOkResponse({ type: FireTimesDto })
  @ApiErrors(400)
  preview(@Body() dto: PreviewScheduleDto): FireTimesDto {
    const after = dto.after === undefined ? Date.now() : Date.parse(dto.after);
    if (Number.isNaN(after)) {
      throw new ValidationFailedError(
        `after: "${dto.after}" is not an ISO 8601 instant (e.g. 2026-03-28T00:00:00Z)`,
      );
    }
    return previewFires(dto.cron, dto.timezone ?? 'UTC', after, dto.count ?? 5);
  }
}
