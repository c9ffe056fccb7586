import { PluginSettings } from '@forest/plugin-api';

/** PluginSettings over the FOREST_* variables captured when the config was loaded. */
export class EnvPluginSettings extends PluginSettings {
  constructor(private readonly env: Readonly<Record<string, string>>) {
    super();
  }

  get(name: string): string | undefined {
    const value = this.env[name]?.trim();
    return value ? value : undefined;
  }
}
