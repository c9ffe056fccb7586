import { ForestNodeError, ForestUnavailableError } from './forest-worker.errors';
import type { ForestWorkerLogger } from './forest-worker.types';
import { reasonText } from './output-buffer';

export type HttpMethod = 'GET' | 'POST' | 'DELETE';

export interface NodeRequestOptions {
  body?: unknown;
  query?: Record<string, string | number>;
  /** Aborts the request (no failover); the request rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Time limit per node attempt (ms); default the client's request timeout. */
  timeoutMs?: number;
  /** Sent as `Authorization: Bearer <bearer>` (the worker token, or the session secret). */
  bearer?: string;
  /**
   * Called with each node's base URL as the request goes to it: the last call names the
   * node a pending request waits on, and the node that answered once it resolves.
   */
  onAttempt?: (node: string) => void;
}

/** A failure that another node might not have: network error, timeout, 5xx, 408, 429. */
class NodeAttemptError extends Error {}

/**
 * HTTP to scheduler nodes with failover. Requests go to the current node; on a network
 * error, a timeout or a 5xx the next node is tried, and the one that answers becomes the
 * current node (sticky). A 4xx is the node's verdict and is thrown as ForestNodeError.
 */
export class NodeClient {
  private readonly nodes: string[];
  private current: number;

  constructor(
    nodes: string[],
    private readonly requestTimeoutMs: number,
    private readonly logger: ForestWorkerLogger,
    /** The index of the node to use first (ForestWorker picks one at random to spread load). */
    first = 0,
  ) {
    this.nodes = nodes.map((node) => node.replace(/\/+$/, ''));
    this.current = Math.min(Math.max(0, Math.floor(first)), this.nodes.length - 1);
  }

  /** The base URL requests go to now. */
  get node(): string {
    return this.nodes[this.current];
  }

  async request<T>(method: HttpMethod, path: string, options: NodeRequestOptions = {}): Promise<T> {
    const label = `${method} ${path}`;
    const failures: { node: string; reason: string }[] = [];
    const first = this.current;
    for (let i = 0; i < this.nodes.length; i++) {
      const index = (first + i) % this.nodes.length;
      const node = this.nodes[index];
      options.onAttempt?.(node);
      try {
        const result = await this.attempt<T>(node, method, path, options);
        if (this.current !== index) {
          this.current = index;
          this.logger.log(`forest worker: now using node ${node}`);
        }
        return result;
      } catch (error) {
        if (options.signal?.aborted) throw abortReason(options.signal);
        if (!(error instanceof NodeAttemptError)) throw error;
        failures.push({ node, reason: error.message });
        if (this.nodes.length > 1) {
          this.logger.warn(`forest worker: ${label} on ${node} failed: ${error.message}`);
        }
        if (this.current === index) this.current = (index + 1) % this.nodes.length;
      }
    }
    throw new ForestUnavailableError(label, failures);
  }

  private async attempt<T>(
    node: string,
    method: HttpMethod,
    path: string,
    { body, query, signal, bearer, timeoutMs = this.requestTimeoutMs }: NodeRequestOptions,
  ): Promise<T> {
    if (signal?.aborted) throw abortReason(signal);
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    const onAbort = () => controller.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    const label = `${method} ${path}`;
    try {
      const headers: Record<string, string> = { accept: 'application/json' };
      if (body !== undefined) headers['content-type'] = 'application/json';
      if (bearer !== undefined) headers.authorization = `Bearer ${bearer}`;
      const response = await fetch(node + path + queryString(query), {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: controller.signal,
      });
      const text = await response.text();
      if (response.ok) {
        if (text.length === 0) return undefined as T;
        try {
          return JSON.parse(text) as T;
        } catch {
          throw new NodeAttemptError(`answered ${response.status} with a body that is not JSON`);
        }
      }
      const error = toNodeError(response.status, text, label, node);
      if (response.status >= 500 || response.status === 408 || response.status === 429) {
        throw new NodeAttemptError(`answered ${error.status} ${error.code}: ${error.message}`);
      }
      throw error;
    } catch (error) {
      if (error instanceof ForestNodeError || error instanceof NodeAttemptError) throw error;
      if (signal?.aborted) throw abortReason(signal);
      if (timedOut) throw new NodeAttemptError(`no answer within ${timeoutMs}ms`);
      throw new NodeAttemptError(reasonText(error));
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }
}

function queryString(query: Record<string, string | number> | undefined): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) params.set(key, String(value));
  return `?${params.toString()}`;
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new Error('aborted');
}

/** Reads the node error shape `{status, code, message, details}`; anything else still makes an error. */
function toNodeError(status: number, text: string, request: string, node: string): ForestNodeError {
  let code = `HTTP_${status}`;
  let message = text.slice(0, 200) || 'no body';
  let details: unknown;
  try {
    const body = JSON.parse(text) as { code?: unknown; message?: unknown; details?: unknown };
    if (body && typeof body === 'object') {
      if (typeof body.code === 'string') code = body.code;
      if (typeof body.message === 'string') message = body.message;
      details = body.details;
    }
  } catch {
    // not JSON (a proxy's page, say): keep the start of the text
  }
  return new ForestNodeError(status, code, message, details, request, node);
}
