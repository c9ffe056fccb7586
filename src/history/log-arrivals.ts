import { Injectable } from '@nestjs/common';

/**
 * Tells this node's log follow streams that lines of an execution were just stored here, so
 * a stream reads them at once instead of at the end of its poll pause. Lines a worker posts
 * through another node still reach a stream by its poll; this only takes the poll's wait
 * out of the usual case, where the follower and the worker talk to the same node.
 */
@Injectable()
export class LogArrivals {
  private readonly waiting = new Map<string, Set<() => void>>();

  /** Calls `listener` each time lines of `executionId` are stored; returns the unsubscribe. */
  subscribe(executionId: string, listener: () => void): () => void {
    let listeners = this.waiting.get(executionId);
    if (!listeners) {
      listeners = new Set();
      this.waiting.set(executionId, listeners);
    }
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
      if (listeners.size === 0 && this.waiting.get(executionId) === listeners) {
        this.waiting.delete(executionId);
      }
    };
  }

  stored(executionId: string): void {
    const listeners = this.waiting.get(executionId);
    if (listeners) for (const listener of [...listeners]) listener();
  }
}
