import { randomUUID } from 'node:crypto';
import { Injectable, Logger, OnModuleDestroy, OnModuleInit, Optional } from '@nestjs/common';
import { AlertDelivery, AlertSeverity, ForestAlert, ForestAlertEvent } from '@forest/plugin-api';
import { ForestConfig } from '../config/forest.config';
import { JobService } from '../job/job.service';
import { AlertMetrics, PluginMetrics } from '../metrics/metric-families';
import { MetricsService } from '../metrics/metrics.service';
import { callWithin, failureOf, ThrottledWarnings, wrap } from '../plugins/plugin-call';
import { PluginRegistry } from '../plugins/plugin-registry';
import { RepeatLimiter } from './repeat-limiter';

/** What a source says happened; the service adds id, time, node and channels. */
export interface AlertInput {
  event: ForestAlertEvent;
  severity: AlertSeverity;
  message: string;
  /** For job events: whose channels and event selection apply. */
  jobId?: string;
  execution?: ForestAlert['execution'];
  worker?: ForestAlert['worker'];
}

export interface AlertRecord {
  alert: ForestAlert;
  deliveries: { channel: string; delivery: AlertDelivery }[];
}

/** Deliveries running at once; more wait in a queue of at most MAX_QUEUED. */
const MAX_IN_FLIGHT = 32;
const MAX_QUEUED = 1000;
/** Recent alerts kept in memory for GET /api/alerts. */
const RECENT = 100;
const SUMMARY_CHECK_MS = 1000;

/**
 * Turns what happened into alerts and delivers them: to the default channels
 * (FOREST_ALERT_DEFAULT_CHANNELS) always, and to a job's own channels when the job selected
 * the event. Repeats of one job and event are held back and summarised (RepeatLimiter).
 * Every channel call is guarded by FOREST_ALERT_TIMEOUT_MS and runs off the caller's path:
 * `raise` never waits and never throws, so no scheduler loop stalls on a channel.
 */
@Injectable()
export class AlertService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(AlertService.name);
  private readonly warnings = new ThrottledWarnings((message) => this.logger.warn(message));
  private readonly limiter: RepeatLimiter<AlertInput>;
  private readonly queue: (() => Promise<void>)[] = [];
  private readonly recentAlerts: AlertRecord[] = [];
  private inFlight = 0;
  private timer?: NodeJS.Timeout;
  private readonly metrics?: { alerts: AlertMetrics; plugins: PluginMetrics };

  constructor(
    private readonly config: ForestConfig,
    private readonly plugins: PluginRegistry,
    private readonly jobs: JobService,
    @Optional() metrics?: MetricsService,
  ) {
    this.limiter = new RepeatLimiter(config.alertRepeatWindowS * 1000);
    this.metrics = metrics && { alerts: metrics.alerts, plugins: metrics.plugins };
  }

  onModuleInit(): void {
    const unknown = this.config.alertDefaultChannels.filter((name) => !this.plugins.channel(name));
    if (unknown.length > 0) {
      this.logger.warn(
        `FOREST_ALERT_DEFAULT_CHANNELS names ${unknown.join(', ')}, which no plugin provides ` +
          `(loaded channels: ${this.plugins.channelNames().join(', ') || 'none'}); those alerts are not sent`,
      );
    }
    this.timer = setInterval(() => this.sendSummaries(), SUMMARY_CHECK_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** Raises an alert; returns at once. */
  raise(input: AlertInput): void {
    const key = `${input.jobId ?? input.worker?.id ?? '-'}|${input.event}`;
    if (!this.limiter.admit(key, input, Date.now())) return;
    void this.send(input);
  }

  /** The latest alerts this node raised, newest first, with each channel's outcome. */
  recent(): AlertRecord[] {
    return [...this.recentAlerts].reverse();
  }

  private sendSummaries(): void {
    for (const held of this.limiter.due(Date.now())) {
      const { latest, count, since } = held;
      const subject = latest.jobId ? `job ${latest.jobId}` : (latest.worker?.id ?? 'the cluster');
      void this.send(
        {
          ...latest,
          message: `${count} more ${latest.event} alert(s) for ${subject} since ${new Date(since).toISOString()}; the latest: ${latest.message}`,
        },
        { count, since: new Date(since).toISOString() },
      );
    }
  }

  private async send(input: AlertInput, suppressed?: ForestAlert['suppressed']): Promise<void> {
    try {
      const job = input.jobId ? await this.jobs.get(input.jobId).catch(() => undefined) : undefined;
      const alert: ForestAlert = {
        id: randomUUID(),
        event: input.event,
        severity: input.severity,
        at: new Date().toISOString(),
        node: this.config.nodeId,
        message: input.message,
        ...(input.jobId
          ? { job: { id: input.jobId, name: job?.name ?? input.jobId, group: job?.group ?? '' } }
          : {}),
        ...(input.execution ? { execution: input.execution } : {}),
        ...(input.worker ? { worker: input.worker } : {}),
        ...(suppressed ? { suppressed } : {}),
      };
      const channels = new Set(this.config.alertDefaultChannels);
      // Cluster events are not a job's to select; job events reach the job's channels
      // when the job selected them.
      if (job && (job.alerts.events as readonly string[]).includes(input.event)) {
        for (const channel of job.alerts.channels) channels.add(channel);
      }
      const record: AlertRecord = { alert, deliveries: [] };
      this.recentAlerts.push(record);
      if (this.recentAlerts.length > RECENT) this.recentAlerts.shift();
      for (const name of channels) this.enqueue(() => this.deliver(name, alert, record));
    } catch (error) {
      this.logger.error(`alert ${input.event} could not be prepared: ${String(error)}`);
    }
  }

  private enqueue(task: () => Promise<void>): void {
    if (this.queue.length >= MAX_QUEUED) {
      this.queue.shift();
      this.warnings.warnOnce(
        'queue',
        `alert queue full (${MAX_QUEUED}): dropped the oldest delivery`,
      );
    }
    this.queue.push(task);
    this.pump();
  }

  private pump(): void {
    while (this.inFlight < MAX_IN_FLIGHT && this.queue.length > 0) {
      const task = this.queue.shift()!;
      this.inFlight++;
      void task().finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  private async deliver(name: string, alert: ForestAlert, record: AlertRecord): Promise<void> {
    const registered = this.plugins.channel(name);
    let delivery: AlertDelivery;
    if (!registered) {
      delivery = { status: 'failed', error: `alert channel "${name}" is not loaded` };
    } else {
      const plugin = registered.plugin ? ` of plugin ${registered.plugin.info.name}` : '';
      const label = `alert channel "${name}"${plugin}`;
      try {
        delivery = await callWithin(label, this.config.alertTimeoutMs, (signal) =>
          registered.instance.send(alert, { signal }),
        );
        if (delivery?.status !== 'delivered' && delivery?.status !== 'failed') {
          this.metrics?.plugins.failed('send', name, 'invalid_answer');
          delivery = { status: 'failed', error: `${label} answered ${JSON.stringify(delivery)}` };
        }
      } catch (error) {
        this.metrics?.plugins.failed('send', name, failureOf(error));
        delivery = { status: 'failed', error: wrap(label, error).message };
      }
    }
    this.metrics?.alerts.deliveries.inc({ channel: name, outcome: delivery.status });
    record.deliveries.push({ channel: name, delivery });
    if (delivery.status === 'failed') {
      this.warnings.warnOnce(
        `failed:${name}`,
        `alert ${alert.event} (${alert.id}) not delivered to ${name}: ${delivery.error}`,
      );
    }
  }
}
