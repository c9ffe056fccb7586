import { Subscription } from 'rxjs';
import { LeadershipService } from './leadership.service';

/** One leadership term of a LeaderInterval; `stopped` once this node is demoted or closes. */
export interface LeaderTerm {
  readonly stopped: boolean;
}

/**
 * Runs `pass` every `intervalMs` while this node leads: the first pass one interval after
 * it is elected, passes never overlap, and a demotion or `stop()` marks the term stopped
 * (a long pass checks `term.stopped` between steps and returns early). The scaffolding of
 * the leader's periodic chores (history sweep and retention, audit retention), in one place.
 */
export class LeaderInterval {
  private subscription?: Subscription;
  private term?: { stopped: boolean };
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;

  constructor(
    private readonly leadership: LeadershipService,
    private readonly intervalMs: () => number,
    private readonly pass: (term: LeaderTerm) => Promise<void>,
  ) {}

  start(): void {
    this.subscription = this.leadership.events$.subscribe((event) => {
      if (event.type === 'elected') this.begin();
      else this.end();
    });
    if (this.leadership.isLeader) this.begin();
  }

  /** Ends the current term and waits for a pass in progress. */
  async stop(): Promise<void> {
    this.subscription?.unsubscribe();
    this.end();
    await this.running;
  }

  private begin(): void {
    this.end();
    const term = { stopped: false };
    this.term = term;
    this.schedule(term);
  }

  private end(): void {
    if (this.term) this.term.stopped = true;
    this.term = undefined;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(term: { stopped: boolean }): void {
    if (term.stopped) return;
    this.timer = setTimeout(() => {
      const pass = this.pass(term).finally(() => {
        if (this.running === pass) this.running = undefined;
        this.schedule(term);
      });
      this.running = pass;
    }, this.intervalMs());
    this.timer.unref();
  }
}
