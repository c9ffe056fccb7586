import { applyDecorators, Injectable, SetMetadata } from '@nestjs/common';

/** Metadata keys of the provider decorators; strings, so two copies of this file agree. */
export const DISPATCH_STRATEGY_METADATA = 'forest:dispatch-strategy';
export const ALERT_CHANNEL_METADATA = 'forest:alert-channel';

/** Names jobs use to refer to a strategy or channel: also safe as a URL and key segment. */
export const PLUGIN_NAME_PATTERN = /^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$/;

/**
 * Registers the provider as the dispatch strategy `name` (a job selects it with
 * `dispatch.strategy`). The class must implement `ForestDispatchStrategy`.
 */
export function DispatchStrategy(name: string): ClassDecorator {
  return applyDecorators(Injectable(), SetMetadata(DISPATCH_STRATEGY_METADATA, name));
}

/**
 * Registers the provider as the alert channel `name` (a job selects it in
 * `alerts.channels`, operators in FOREST_ALERT_DEFAULT_CHANNELS). The class must implement
 * `ForestAlertChannel`.
 */
export function AlertChannel(name: string): ClassDecorator {
  return applyDecorators(Injectable(), SetMetadata(ALERT_CHANNEL_METADATA, name));
}
