import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { mayAccessGroup, Principal, RequireAccess } from '../auth/access';
import { ForbiddenError } from '../auth/auth.errors';
import { CurrentPrincipal } from '../auth/principal.decorator';
import { requireGroupInScope } from '../auth/scope';
import { ApiErrors } from '../common/api-errors.decorator';
import { KeySegmentPipe } from '../common/key-segment.pipe';
import { pageOf } from '../common/paging';
import {
  CreateGroupDto,
  DeleteGroupQueryDto,
  GroupDto,
  GroupPageDto,
  ListGroupsQueryDto,
  UpdateGroupDto,
} from './dto/group.dto';
import { GroupService } from './group.service';
import { GroupNotFoundError } from './job.errors';

const NAME = new KeySegmentPipe('name');

/** A group outside the caller's groups does not exist for it (404, as a missing one). */
function requireVisible(principal: Principal, name: string): void {
  if (!mayAccessGroup(principal, name)) throw new GroupNotFoundError(name);
}

@ApiTags('groups')
@Controller('api/groups')
export class GroupsController {
  constructor(private readonly groups: GroupService) {}

  @Post()
  @RequireAccess('operate')
  @ApiOperation({ summary: 'Create a group (a named pool of workers)' })
  @ApiCreatedResponse({ type: GroupDto })
  @ApiErrors(
    400,
    { status: 403, description: 'GROUP_OUT_OF_SCOPE: the token is limited to other groups' },
    { status: 409, description: 'GROUP_EXISTS' },
  )
  create(@Body() dto: CreateGroupDto, @CurrentPrincipal() principal: Principal): Promise<GroupDto> {
    requireGroupInScope(principal, dto.name);
    return this.groups.create(dto);
  }

  @Get()
  @RequireAccess('read')
  @ApiOperation({
    summary: 'List groups by name, one page at a time (a token limited to groups: those)',
  })
  @ApiOkResponse({ type: GroupPageDto })
  @ApiErrors(400)
  async list(
    @Query() query: ListGroupsQueryDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<GroupPageDto> {
    const visible = (await this.groups.list()).filter((group) =>
      mayAccessGroup(principal, group.name),
    );
    return pageOf(visible, (group) => group.name, query, 'groups');
  }

  @Get(':name')
  @RequireAccess('read')
  @ApiOperation({ summary: 'Get a group' })
  @ApiOkResponse({ type: GroupDto })
  @ApiErrors(400, 404)
  get(
    @Param('name', NAME) name: string,
    @CurrentPrincipal() principal: Principal,
  ): Promise<GroupDto> {
    requireVisible(principal, name);
    return this.groups.get(name);
  }

  @Put(':name')
  @RequireAccess('operate')
  @ApiOperation({ summary: "Update a group's remark" })
  @ApiOkResponse({ type: GroupDto })
  @ApiErrors(400, 404)
  update(
    @Param('name', NAME) name: string,
    @Body() dto: UpdateGroupDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<GroupDto> {
    requireVisible(principal, name);
    return this.groups.update(name, dto);
  }

  @Delete(':name')
  @RequireAccess('operate')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Delete a group; ?force=true also deletes its jobs',
    description: 'An empty group: operator or admin. With force (its jobs too): admin only.',
  })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiErrors(
    400,
    404,
    { status: 403, description: 'FORBIDDEN: force=true needs an admin token' },
    { status: 409, description: 'GROUP_NOT_EMPTY: the group has jobs and force is not set' },
  )
  async delete(
    @Param('name', NAME) name: string,
    @Query() query: DeleteGroupQueryDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<void> {
    requireVisible(principal, name);
    const force = query.force === 'true';
    if (force && principal.kind === 'token' && principal.role !== 'admin') {
      throw new ForbiddenError(principal.role, 'admin (force=true deletes the jobs too)');
    }
    await this.groups.delete(name, force);
  }
}
