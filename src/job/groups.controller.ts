import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { ApiErrors } from '../common/api-errors.decorator';
import { KeySegmentPipe } from '../common/key-segment.pipe';
import { CreateGroupDto, DeleteGroupQueryDto, GroupDto, UpdateGroupDto } from './dto/group.dto';
import { GroupService } from './group.service';

@ApiTags('groups')
@Controller('api/groups')
export class GroupsController {
  constructor(private readonly groups: GroupService) {}

  @Post()
  @ApiOperation({ summary: 'Create a group (a named pool of workers)' })
  @ApiCreatedResponse({ type: GroupDto })
  @ApiErrors(400, { status: 409, description: 'GROUP_EXISTS' })
  create(@Body() dto: CreateGroupDto): Promise<GroupDto> {
    return this.groups.create(dto);
  }

  @Get()
  @ApiOperation({ summary: 'List every group' })
  @ApiOkResponse({ type: [GroupDto] })
  list(): Promise<GroupDto[]> {
    return this.groups.list();
  }

  @Get(':name')
  @ApiOperation({ summary: 'Get a group' })
  @ApiOkResponse({ type: GroupDto })
  @ApiErrors(400, 404)
  get(@Param('name', new KeySegmentPipe('name')) name: string): Promise<GroupDto> {
    return this.groups.get(name);
  }

  @Put(':name')
  @ApiOperation({ summary: "Update a group's remark" })
  @ApiOkResponse({ type: GroupDto })
  @ApiErrors(400, 404)
  update(
    @Param('name', new KeySegmentPipe('name')) name: string,
    @Body() dto: UpdateGroupDto,
  ): Promise<GroupDto> {
    return this.groups.update(name, dto);
  }

  @Delete(':name')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a group; ?force=true also deletes its jobs' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiErrors(400, 404, {
    status: 409,
    description: 'GROUP_NOT_EMPTY: the group has jobs and force is not set',
  })
  async delete(
    @Param('name', new KeySegmentPipe('name')) name: string,
    @Query() query: DeleteGroupQueryDto,
  ): Promise<void> {
    await this.groups.delete(name, query.force === 'true');
  }
}
