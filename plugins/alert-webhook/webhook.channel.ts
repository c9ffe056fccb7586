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
import { buildWebhookRequest, readWebhookSettings, WebhookSettings } from './webhook.format';

/**
 * `webhook`: POSTs each alert as JSON to FOREST_WEBHOOK_URL, signed when
 * FOREST_WEBHOOK_SECRET is set (see webhook.format.ts for the headers and how to verify).
 * Settings are read when the provider is created, so a bad value stops the boot.
 */
@AlertChannel('webhook')
export class WebhookChannel implements ForestAlertChannel {
  private readonly settings: WebhookSettings;

  constructor(settings: PluginSettings) {
    this.settings = readWebhookSettings(settings);
  }

  send(alert: ForestAlert, context: AlertSendContext): Promise<AlertDelivery> {
    const { url, delivery } = this.settings;
    // Allowed at boot so the plugin can be loaded everywhere and enabled per environment.
    if (url === undefined) return Promise.resolve(deliveryFailed('FOREST_WEBHOOK_URL is not set'));
    return postWithRetries(
      () => ({ url, ...buildWebhookRequest(alert, this.settings, Date.now()) }),
      delivery,
      context.signal,
    );
  }
}
