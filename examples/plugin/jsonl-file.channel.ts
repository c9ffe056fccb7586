import { appendFile } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import {
  AlertChannel,
  AlertDelivery,
  AlertSendContext,
  delivered,
  deliveryFailed,
  ForestAlert,
  ForestAlertChannel,
  PluginSettings,
} from '@forest/plugin-api';

export const ALERT_FILE_SETTING = 'FOREST_ALERT_FILE';

/**
 * `jsonl-file`: appends each alert as one JSON line (the `ForestAlert` as it is) to the
 * file named by FOREST_ALERT_FILE, for log shippers and `tail -f | jq`.
 *
 * The setting is read once, when Nest creates the provider: a relative path throws there,
 * so the node does not start with a file in some unexpected working directory. An unset
 * setting is allowed (the plugin can be installed everywhere and enabled where wanted):
 * every send then fails saying so.
 */
@AlertChannel('jsonl-file')
export class JsonlFileChannel implements ForestAlertChannel {
  private readonly file: string | undefined;

  constructor(settings: PluginSettings) {
    const file = settings.string(ALERT_FILE_SETTING);
    if (file !== undefined && !isAbsolute(file)) {
      throw new Error(`${ALERT_FILE_SETTING}: must be an absolute path (got "${file}")`);
    }
    this.file = file;
  }

  async send(alert: ForestAlert, context: AlertSendContext): Promise<AlertDelivery> {
    if (this.file === undefined) return deliveryFailed(`${ALERT_FILE_SETTING} is not set`);
    // The host gave up on this delivery (FOREST_ALERT_TIMEOUT_MS): a late line would be a
    // duplicate of nothing the host counts as delivered.
    if (context.signal.aborted) return deliveryFailed('aborted before writing');
    try {
      // One append per alert: the file is opened with O_APPEND, so lines of deliveries
      // running at once land whole, one after the other.
      await appendFile(this.file, `${JSON.stringify(alert)}\n`, 'utf8');
    } catch (error) {
      return deliveryFailed(
        `cannot append to ${this.file}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    return delivered(this.file);
  }
}
