import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequireAccess } from '../auth/access';
import { ApiErrors } from '../common/api-errors.decorator';
import { ValidationFailedError } from '../common/domain-error';
import { AUDIT_SCAN_BUDGET, AuditFilters, decodeAuditCursor } from './audit-query';
import { AuditService } from './audit.service';
import { AuditPageDto, ListAuditQueryDto } from './dto/audit.dto';

const DEFAULT_LIMIT = 50;

@ApiTags('audit')
@Controller('api/audit')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @RequireAccess('admin')
  @ApiOperation({
    summary: 'The audit log: who changed what, newest first (admin)',
    description:
      'One entry per state-changing API call (POST, PUT, PATCH, DELETE; a worker\u2019s ' +
      'register and leave included, its heartbeats, polls and reports not), whatever its ' +
      'outcome: `{id, at, actor, tokenId?, action, method, route, object, status, node, ip}`. ' +
      'Action and object come from the route and its params, never from the request body.\n\n' +
      '`from`/`to` bound the time; `actor` matches exactly; `action` and `object` match ' +
      'exactly or, ending in `*`, by prefix. At most ' +
      `${AUDIT_SCAN_BUDGET} entries are examined per request: a page can hold fewer than ` +
      '`limit` items, or none, and still carry `next`; keep passing it as `cursor` (with the ' +
      'same filters) until it is absent.\n\n' +
      'Entries are written within about 100 ms of the answer, in batches. Retention: ' +
      'FOREST_AUDIT_KEEP entries, none older than FOREST_AUDIT_MAX_AGE_H.',
  })
  @ApiOkResponse({ type: AuditPageDto })
  @ApiErrors(400, 503)
  list(@Query() query: ListAuditQueryDto): Promise<AuditPageDto> {
    const filters: AuditFilters = {
      actor: query.actor,
      action: query.action,
      object: query.object,
      fromMs: query.from === undefined ? undefined : Date.parse(query.from),
      toMs: query.to === undefined ? undefined : Date.parse(query.to),
    };
    if (
      filters.fromMs !== undefined &&
      filters.toMs !== undefined &&
      filters.fromMs > filters.toMs
    ) {
      throw invalid('to', 'must not be before from');
    }
    let cursorKey: string | undefined;
    if (query.cursor !== undefined) {
      cursorKey = decodeAuditCursor(query.cursor);
      if (cursorKey === undefined) throw invalid('cursor', 'not a `next` this API returned');
    }
    return this.audit.list(filters, query.limit ?? DEFAULT_LIMIT, cursorKey);
  }
}

function invalid(field: string, problem: string): ValidationFailedError {
  return new ValidationFailedError(`${field}: ${problem}`, [{ field, problems: [problem] }]);
}
