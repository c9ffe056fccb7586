import { Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { ForestAlert } from '@forest/plugin-api';
import { ExecutionRecord } from '@forest/protocol';
import { Subscription } from 'rxjs';
import { Dispatcher } from '../dispatch/dispatcher.service';
import { DispatchEvent } from '../dispatch/dispatch.events';
import { LeadershipService } from '../election/leadership.service';
import { PlannerService } from '../planner/planner.service';
import { ExecutionFinished } from '../execution/execution.events';
import { retriesExhausted } from '../execution/execution-ops';
import { ReportService } from '../worker-gateway/report.service';
import { AlertService } from './alert.service';

/**
 * Listens to the modules' events and raises the alerts they mean: executions that failed,
 * timed out or were lost; executions waiting too long for a worker; misfires; a new
 * leader; a lost worker. The sources know nothing about alerting.
 */
@Injectable()
export class AlertSources implements OnModuleInit, OnModuleDestroy {
  private readonly subscriptions: Subscription[] = [];

  constructor(
    private readonly alerts: AlertService,
    private readonly reports: ReportService,
    private readonly dispatcher: Dispatcher,
    private readonly planner: PlannerService,
    private readonly leadership: LeadershipService,
  ) {}

  onModuleInit(): void {
    this.subscriptions.push(
      this.reports.finished$.subscribe((finished) => this.onFinished(finished)),
      this.dispatcher.events$.subscribe((event) => this.onDispatchEvent(event)),
      this.planner.misfires$.subscribe((misfire) =>
        this.alerts.raise({
          event: 'misfire',
          severity: 'warning',
          jobId: misfire.jobId,
          message:
            `job ${misfire.jobId} missed its fire at ${new Date(misfire.dueMs).toISOString()}; ` +
            `misfire policy ${misfire.policy} made ${misfire.catchUps} catch-up execution(s)`,
        }),
      ),
      this.leadership.events$.subscribe((event) => {
        if (event.type !== 'elected') return;
        this.alerts.raise({
          event: 'leader_changed',
          severity: 'info',
          message: `node ${event.nodeId} is now the leader (fencing token ${event.token})`,
        });
      }),
    );
  }

  onModuleDestroy(): void {
    for (const subscription of this.subscriptions.splice(0)) subscription.unsubscribe();
  }

  /**
   * A failed or timed-out execution (reported by its worker, or timed out by the leader):
   * its alert, and `retries_exhausted` when it was the last attempt its policy allowed.
   */
  private onFinished({ record, retry }: ExecutionFinished): void {
    if (record.status !== 'failed' && record.status !== 'timed_out') return;
    const what = record.status === 'failed' ? 'failed' : 'timed out';
    this.alerts.raise({
      event: record.status,
      severity: 'critical',
      jobId: record.jobId,
      execution: executionOf(record),
      message:
        `execution ${record.id} of job ${record.jobName} ${what} on worker ${record.worker ?? '?'}` +
        `${record.error ? `: ${firstLine(record.error)}` : ''}${retryNote(retry)}`,
    });
    this.onLastAttempt(record);
  }

  private onLastAttempt(record: ExecutionRecord): void {
    if (!retriesExhausted(record)) return;
    this.alerts.raise({
      event: 'retries_exhausted',
      severity: 'critical',
      jobId: record.jobId,
      execution: executionOf(record),
      message:
        `execution ${record.id} of job ${record.jobName} ended ${record.status} on its last ` +
        `attempt (${record.attempt} of ${record.attempt}); no retry is left`,
    });
  }

  private onDispatchEvent(event: DispatchEvent): void {
    switch (event.type) {
      case 'execution_lost':
        this.alerts.raise({
          event: 'lost',
          severity: 'critical',
          jobId: event.execution.jobId,
          execution: executionOf(event.execution),
          message: `execution ${event.execution.id} of job ${event.execution.jobName} was lost: ${event.execution.error ?? 'its worker died'}${retryNote(event.retry)}`,
        });
        return this.onLastAttempt(event.execution);
      case 'execution_timed_out':
        return this.onFinished({ record: event.execution, retry: event.retry });
      case 'no_worker':
        return this.alerts.raise({
          event: 'no_worker',
          severity: 'warning',
          jobId: event.jobId,
          message: `execution ${event.executionId} has waited for a worker since ${event.since}: ${event.reason}`,
        });
      case 'worker_lost':
        return this.alerts.raise({
          event: 'worker_lost',
          severity: 'warning',
          worker: { id: event.worker.id, group: event.worker.group, host: event.worker.host },
          message: `worker ${event.worker.id} of group ${event.worker.group} (${event.worker.host}) stopped heartbeating; its ${event.held} execution(s) are being recovered`,
        });
    }
  }
}

function executionOf(record: ExecutionRecord): NonNullable<ForestAlert['execution']> {
  return {
    id: record.id,
    status: record.status,
    attempt: record.attempt,
    scheduledAt: record.scheduledAt,
    ...(record.worker ? { worker: record.worker } : {}),
    ...(record.error ? { error: record.error } : {}),
  };
}

function retryNote(retry: ExecutionRecord | undefined): string {
  if (!retry) return '';
  const at = retry.retryAtMs === undefined ? '' : ` at ${new Date(retry.retryAtMs).toISOString()}`;
  return `; attempt ${retry.attempt} (${retry.id}) follows${at}`;
}

function firstLine(text: string): string {
  const line = text.split('\n', 1)[0];
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}
