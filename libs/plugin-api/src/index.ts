/**
 * @forest/plugin-api: everything a Forest plugin imports. A plugin is a Nest module marked
 * with `@ForestPlugin`, whose providers are dispatch strategies (`@DispatchStrategy`) and
 * alert channels (`@AlertChannel`). See plugins/README.md for the authoring guide.
 */
export * from './plugin-api.version';
export * from './forest-plugin.decorator';
export * from './plugin-provider.decorators';
export * from './dispatch-strategy.interface';
export * from './dispatch-helpers';
export * from './alert-channel.interface';
export * from './plugin-settings';
