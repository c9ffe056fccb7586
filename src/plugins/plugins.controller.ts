import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequireAccess } from '../auth/access';
import { PluginsViewDto } from './dto/plugins.dto';
import { PluginRegistry } from './plugin-registry';

@ApiTags('plugins')
@Controller('api/plugins')
export class PluginsController {
  constructor(private readonly registry: PluginRegistry) {}

  @Get()
  @RequireAccess('read')
  @ApiOperation({
    summary: 'List loaded plugins',
    description:
      'Every plugin this node loaded (built-in, FOREST_PLUGIN_PATHS, FOREST_PLUGINS) with the ' +
      'dispatch strategies and alert channels it provides, and the plugins skipped under ' +
      'FOREST_PLUGIN_ON_ERROR=skip with the reason.',
  })
  @ApiOkResponse({ type: PluginsViewDto })
  list(): PluginsViewDto {
    return this.registry.describe();
  }
}
