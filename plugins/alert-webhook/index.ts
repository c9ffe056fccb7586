import { ForestPlugin, ForestPluginSetting } from '@forest/plugin-api';
import { MAX_BACKOFF_MS } from './http-delivery';
import { SlackChannel } from './slack.channel';
import { WebhookChannel } from './webhook.channel';

export { SlackChannel } from './slack.channel';
export { WebhookChannel } from './webhook.channel';
export { buildSlackMessage } from './slack.format';
export { buildWebhookRequest, signWebhookBody, verifyWebhookSignature } from './webhook.format';

/** The retry settings each channel reads (readDeliveryOptions). */
function deliverySettings(prefix: string, channel: string): ForestPluginSetting[] {
  return [
    {
      env: `${prefix}_TIMEOUT_MS`,
      description: `${channel}: timeout of one attempt, 10..600000`,
      default: '5000',
    },
    { env: `${prefix}_RETRIES`, description: `${channel}: extra attempts, 0..10`, default: '3' },
    {
      env: `${prefix}_BACKOFF_MS`,
      description: `${channel}: delay before the first retry, 0..${MAX_BACKOFF_MS}`,
      default: '500',
    },
  ];
}

/**
 * The `webhook` and `slack` alert channels: HTTP POSTs with a per-attempt timeout and
 * retries with backoff. Each reads its settings when created; unset URLs leave the channel
 * loaded but failing every send with a message naming the setting.
 */
@ForestPlugin({
  name: 'alert-webhook',
  version: '1.0.0',
  compatibility: '^1.0.0',
  description: 'webhook: signed JSON POSTs to FOREST_WEBHOOK_URL; slack: Slack incoming webhooks',
  settings: [
    { env: 'FOREST_WEBHOOK_URL', description: 'webhook: http(s) URL the alerts are POSTed to' },
    {
      env: 'FOREST_WEBHOOK_HEADERS',
      description: 'webhook: JSON object of extra request headers (string values)',
      default: '{}',
    },
    {
      env: 'FOREST_WEBHOOK_SECRET',
      description: 'webhook: signs each request (X-Forest-Signature-256, HMAC-SHA256)',
    },
    ...deliverySettings('FOREST_WEBHOOK', 'webhook'),
    { env: 'FOREST_SLACK_WEBHOOK_URL', description: 'slack: Slack incoming-webhook URL' },
    ...deliverySettings('FOREST_SLACK', 'slack'),
  ],
  providers: [WebhookChannel, SlackChannel],
})
export class WebhookAlertPlugin {}
