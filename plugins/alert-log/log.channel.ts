import { Logger } from '@nestjs/common';
import {
  AlertChannel,
  AlertDelivery,
  AlertSendContext,
  delivered,
  ForestAlert,
  ForestAlertChannel,
} from '@forest/plugin-api';

/**
 * `log`: each alert as one line in the node's log, at the level its severity maps to
 * (critical → error, warning → warn, info → log). Needs no settings and cannot fail, so it
 * is the default channel (FOREST_ALERT_DEFAULT_CHANNELS=log) and a safe fallback.
 */
@AlertChannel('log')
export class LogChannel implements ForestAlertChannel {
  private readonly logger = new Logger('AlertChannel:log');

  send(alert: ForestAlert, _context?: AlertSendContext): AlertDelivery {
    const line = formatAlertLine(alert);
    switch (alert.severity) {
      case 'critical':
        this.logger.error(line);
        break;
      case 'warning':
        this.logger.warn(line);
        break;
      default:
        this.logger.log(line);
    }
    return delivered();
  }
}

/**
 * `failed job=nightly execution=nightly~42 worker=w-1: <message> (3 more since <T>)`: the
 * ids first, as key=value, so log searches can filter on them.
 */
export function formatAlertLine(alert: ForestAlert): string {
  const parts: string[] = [alert.event];
  if (alert.job) parts.push(`job=${alert.job.id}`);
  if (alert.execution) parts.push(`execution=${alert.execution.id}`);
  const worker = alert.worker?.id ?? alert.execution?.worker;
  if (worker) parts.push(`worker=${worker}`);
  const summary = alert.suppressed
    ? ` (${alert.suppressed.count} more since ${alert.suppressed.since})`
    : '';
  return `${parts.join(' ')}: ${alert.message}${summary}`;
}
