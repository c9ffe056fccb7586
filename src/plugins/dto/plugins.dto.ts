import { ApiProperty } from '@nestjs/swagger';

export class PluginProvisionDto {
  @ApiProperty({ enum: ['dispatch-strategy', 'alert-channel'] })
  kind: 'dispatch-strategy' | 'alert-channel';

  @ApiProperty({ example: 'round-robin', description: 'The name jobs use' })
  name: string;
}

export class PluginViewDto {
  @ApiProperty({ example: 'dispatch-round-robin' })
  name: string;

  @ApiProperty({ example: '1.0.0' })
  version: string;

  @ApiProperty({ example: '^1.0.0', description: 'Plugin API versions it supports' })
  compatibility: string;

  @ApiProperty({ example: 'Each execution to the next worker in turn' })
  description: string;

  @ApiProperty({ enum: ['builtin', 'path', 'package'] })
  source: 'builtin' | 'path' | 'package';

  @ApiProperty({
    example: 'plugins/dispatch-round-robin',
    description: 'Its folder, or its npm package name',
  })
  location: string;

  @ApiProperty({ type: [PluginProvisionDto] })
  provides: PluginProvisionDto[];
}

export class SkippedPluginDto {
  @ApiProperty({ enum: ['builtin', 'path', 'package'] })
  source: 'builtin' | 'path' | 'package';

  @ApiProperty()
  location: string;

  @ApiProperty({ description: 'Why it was not loaded' })
  reason: string;
}

export class PluginsViewDto {
  @ApiProperty({ example: '1.0.0', description: 'The plugin API version this node implements' })
  apiVersion: string;

  @ApiProperty({ type: [PluginViewDto] })
  plugins: PluginViewDto[];

  @ApiProperty({
    type: [SkippedPluginDto],
    description: 'Plugins left out under FOREST_PLUGIN_ON_ERROR=skip',
  })
  skipped: SkippedPluginDto[];
}
