import { ForestPlugin } from '@forest/plugin-api';
import { SlackChannel } from './slack.channel';
import { WebhookChannel } from './webhook.channel';

export { SlackChannel } from './slack.channel';
export { WebhookChannel } from './webhook.channel';
export { buildSlackMessage } from './slack.format';
export { buildWebhookRequest, signWebhookBody, verifyWebhookSignature } from './webhook.format';

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
  providers: [WebhookChannel, SlackChannel],
})
export class WebhookAlertPlugin {}
