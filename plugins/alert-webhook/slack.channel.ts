import {
  AlertChannel,
  AlertDelivery,
  AlertSendContext,
  deliveryFailed,
  ForestAlert,
  ForestAlertChannel,
  PluginSettings,
} from '@forest/plugin-api';
import { postWithRetries } from './http-delivery';
import { buildSlackMessage, readSlackSettings, SlackSettings, slackHeaders } from './slack.format';

/**
 * `slack`: posts each alert to a Slack incoming webhook (FOREST_SLACK_WEBHOOK_URL), with
 * the same timeout and retry rules as `webhook`. Slack answers 429 with Retry-After when
 * a webhook is rate-limited (about one message a second), which the retry honours.
 */
@AlertChannel('slack')
export class SlackChannel implements ForestAlertChannel {
  private readonly settings: SlackSettings;

  constructor(settings: PluginSettings) {
    this.settings = readSlackSettings(settings);
  }

  send(alert: ForestAlert, context: AlertSendContext): Promise<AlertDelivery> {
    const { url, delivery } = this.settings;
    if (url === undefined) {
      return Promise.resolve(deliveryFailed('FOREST_SLACK_WEBHOOK_URL is not set'));
    }
    const body = JSON.stringify(buildSlackMessage(alert));
    const headers = slackHeaders();
    return postWithRetries(() => ({ url, headers, body }), delivery, context.signal);
  }
}
