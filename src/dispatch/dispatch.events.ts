import { Injectable } from '@nestjs/common';
import { ExecutionRecord, WorkerRecord } from '@forest/protocol';
import { Observable, Subject } from 'rxjs';

/**
 * What the dispatcher announces (on the leader) for others to act on — alerting turns
 * them into alerts. Typed events keep the dispatcher unaware of who listens.
 */
export type DispatchEvent =
  /** A worker vanished without saying goodbye (its lease expired). */
  | { type: 'worker_lost'; worker: WorkerRecord; held: number }
  /** An execution was running on a worker that was lost (`retry`: its next attempt). */
  | { type: 'execution_lost'; execution: ExecutionRecord; retry?: ExecutionRecord }
  /** The leader timed out a running execution past its deadline (`retry`: its next attempt). */
  | { type: 'execution_timed_out'; execution: ExecutionRecord; retry?: ExecutionRecord }
  /** An execution has waited for a worker longer than FOREST_ALERT_NO_WORKER_MS. */
  | {
      type: 'no_worker';
      executionId: string;
      jobId: string;
      group: string;
      target: string;
      since: string;
      reason: string;
    };

/** Where the dispatch units announce their DispatchEvents; the Dispatcher exposes them. */
@Injectable()
export class DispatchEventBus {
  private readonly subject = new Subject<DispatchEvent>();
  readonly events$: Observable<DispatchEvent> = this.subject.asObservable();

  emit(event: DispatchEvent): void {
    this.subject.next(event);
  }

  complete(): void {
    this.subject.complete();
  }
}
