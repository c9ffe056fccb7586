import { LogLine } from '../history/history.port';
import { SseSink } from '../http/sse-stream';

/** Where a follow stream reads: one execution's lines and its status. */
export interface LogFollowSource {
  /** Lines with seq > afterSeq, oldest first, at most `limit`. */
  read(afterSeq: number, limit: number): Promise<LogLine[]>;
  /** The execution's status now; undefined when it no longer exists. */
  status(): Promise<string | undefined>;
}

/** Where a follow stream writes: the HTTP response. */
/** Where a follow's lines are written: its SSE stream (see http/sse-stream.ts). */
export type FollowSink = SseSink;

export interface LogFollowOptions {
  /** How often the log store is read while the execution runs (ms). */
  pollMs: number;
  /** How often the execution's status is read (ms): a store read, so less often than lines. */
  statusEveryMs: number;
  /** Lines read per store read. */
  pageLines: number;
  /** Past this many characters not yet taken by the connection, reading pauses. */
  maxQueuedBytes: number;
  isFinal(status: string): boolean;
  /** A read failed (the stream goes on and reads again). */
  onError(error: unknown): void;
  now?: () => number;
}

export const FOLLOW_HEARTBEAT_TEXT = ': heartbeat\n\n';

/** One SSE event: `id` = seq, so `Last-Event-ID` resumes after it. */
export function lineEventText(line: LogLine): string {
  return `id: ${line.seq}\nevent: line\ndata: ${JSON.stringify(line)}\n\n`;
}

export function endEventText(status: string | undefined, lastSeq: number): string {
  return `event: end\ndata: ${JSON.stringify({ status: status ?? null, lastSeq })}\n\n`;
}

/**
 * One GET /api/executions/{id}/logs/follow stream. It pulls: every `pollMs` it reads the
 * lines after the last one sent, and every `statusEveryMs` whether the execution is
 * final. The status is read *before* the lines: the worker sends an execution's lines
 * before its final report, so once it is final the read that follows sees every line,
 * and then `end` is sent and the stream closes. A slow client costs nothing: while its
 * connection holds `maxQueuedBytes` unsent, nothing more is read (the lines wait in the
 * store). Closing (client gone, node stopping) ends the loop and its timer. `nudge()`
 * (lines of its execution were just stored on this node) cuts the current pause short.
 */
export class LogFollow {
  private closed = false;
  /** Ends the current pause; set only while the loop waits. */
  private wake?: () => void;
  /** A nudge came while the loop was reading: the next pause is skipped. */
  private nudged = false;
  private timer?: NodeJS.Timeout;
  private readonly now: () => number;

  constructor(
    private readonly source: LogFollowSource,
    private readonly sink: FollowSink,
    private lastSeq: number,
    private readonly options: LogFollowOptions,
    private readonly onClosed: (follow: LogFollow) => void,
  ) {
    this.now = options.now ?? Date.now;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Runs until the execution is final and every line was sent, or until closed. */
  async run(): Promise<void> {
    let statusReadAt = -Infinity;
    let final = false;
    let status: string | undefined;
    while (!this.closed) {
      try {
        if (this.now() - statusReadAt >= this.options.statusEveryMs) {
          statusReadAt = this.now();
          status = await this.source.status();
          final = status === undefined || this.options.isFinal(status);
        }
        const caughtUp = await this.drain();
        if (final && caughtUp && !this.closed) {
          this.sink.write(endEventText(status, this.lastSeq));
          this.close(true);
          return;
        }
      } catch (error) {
        this.options.onError(error);
      }
      await this.pause(this.options.pollMs);
    }
  }

  heartbeat(): void {
    if (!this.closed) this.sink.write(FOLLOW_HEARTBEAT_TEXT);
  }

  /** Lines of this execution were stored: read now rather than at the end of the pause. */
  nudge(): void {
    if (this.closed) return;
    if (this.wake) this.wake();
    else this.nudged = true;
  }

  /** Ends the stream from the node's side (shutdown). */
  end(): void {
    this.close(true);
  }

  /** The connection closed (the client left). */
  disconnected(): void {
    this.close(false);
  }

  /** Sends every stored line after the last one sent; true when none is left to read now. */
  private async drain(): Promise<boolean> {
    for (;;) {
      if (this.closed || this.sink.queuedBytes > this.options.maxQueuedBytes) return false;
      const lines = await this.source.read(this.lastSeq, this.options.pageLines);
      if (this.closed) return false;
      for (const line of lines) {
        this.sink.write(lineEventText(line));
        this.lastSeq = line.seq;
      }
      if (lines.length < this.options.pageLines) return true;
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.closed || this.nudged) {
        this.nudged = false;
        return resolve();
      }
      const done = (): void => {
        clearTimeout(this.timer);
        this.wake = undefined;
        resolve();
      };
      this.wake = done;
      this.timer = setTimeout(done, ms);
    });
  }

  private close(endSink: boolean): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    this.wake?.();
    if (endSink) this.sink.end();
    this.onClosed(this);
  }
}
