/**
 * The alert channel contract: deliver one alert somewhere (a log, a webhook, a chat) and
 * say whether it arrived.
 */

/**
 * Events about one job's executions; a job chooses which of them reach its channels.
 * (The same list as `ALERT_EVENTS` in the job record.)
 */
export type JobAlertEvent =
  'failed' | 'timed_out' | 'lost' | 'retries_exhausted' | 'misfire' | 'no_worker';

/** Events about the cluster; they go to the default channels only. */
export type ClusterAlertEvent = 'leader_changed' | 'worker_lost';

export type ForestAlertEvent = JobAlertEvent | ClusterAlertEvent;

export type AlertSeverity = 'critical' | 'warning' | 'info';

export interface ForestAlert {
  /** Unique per alert; receivers can use it to drop duplicates. */
  readonly id: string;
  readonly event: ForestAlertEvent;
  readonly severity: AlertSeverity;
  /** When it happened (ISO). */
  readonly at: string;
  /** The scheduler node that raised it. */
  readonly node: string;
  /** One human-readable line. */
  readonly message: string;
  readonly job?: { readonly id: string; readonly name: string; readonly group: string };
  readonly execution?: {
    readonly id: string;
    readonly status: string;
    readonly attempt: number;
    readonly scheduledAt: string;
    readonly worker?: string;
    readonly error?: string;
  };
  readonly worker?: { readonly id: string; readonly group: string; readonly host: string };
  /**
   * Set on a summary: this many alerts of the same event and job were held back since
   * `since` (repeats are rate-limited), and this alert stands for all of them.
   */
  readonly suppressed?: { readonly count: number; readonly since: string };
}

export type AlertDelivery =
  | { readonly status: 'delivered'; readonly detail?: string }
  | { readonly status: 'failed'; readonly error: string };

export interface AlertSendContext {
  /** Aborted when the host's timeout for this delivery passes: stop retrying then. */
  readonly signal: AbortSignal;
}

/**
 * An alert channel. Decorate the class with `@AlertChannel('name')` and list it in its
 * plugin's providers. `send` may retry inside itself; the host cuts it off at its timeout
 * (FOREST_ALERT_TIMEOUT_MS) and aborts `context.signal`. Throwing counts as `failed`.
 */
export interface ForestAlertChannel {
  send(alert: ForestAlert, context: AlertSendContext): AlertDelivery | Promise<AlertDelivery>;
}

export function delivered(detail?: string): AlertDelivery {
  return { status: 'delivered', detail };
}

export function deliveryFailed(error: string): AlertDelivery {
  return { status: 'failed', error };
}
