import { useEffect, useRef, useState } from 'react';
import type { Execution } from './client';
import { tokenStore } from './client';

/**
 * Server-sent events over fetch(): the node's streams (`GET /api/events`,
 * `GET /api/executions/{id}/logs/follow`) need the token in the Authorization header, which
 * EventSource cannot send. `readSse` reads one stream; `subscribe` / `useEvents` keep
 * `/api/events` open (reconnecting with Last-Event-ID) and say whether it is live.
 */

/** One event of a stream: `type` is the `event:` field (`message` when absent). */
export interface SseEvent {
  type: string;
  data: string;
  id?: string;
}

/**
 * An incremental `text/event-stream` parser (the WHATWG rules: `event`, `data` (lines joined
 * by \n), `id`, comments, CR / LF / CRLF line ends, an event dispatched at a blank line).
 */
export class SseParser {
  private buffer = '';
  private type = '';
  private data: string[] = [];
  private id: string | undefined;

  push(chunk: string): SseEvent[] {
    this.buffer += chunk;
    const events: SseEvent[] = [];
    for (;;) {
      const match = /\r\n|\r|\n/.exec(this.buffer);
      if (!match) break;
      // A CR at the very end may be the first half of a CRLF split across chunks.
      if (match[0] === '\r' && match.index === this.buffer.length - 1) break;
      const line = this.buffer.slice(0, match.index);
      this.buffer = this.buffer.slice(match.index + match[0].length);
      const event = this.line(line);
      if (event) events.push(event);
    }
    return events;
  }

  private line(line: string): SseEvent | undefined {
    if (line === '') {
      const event =
        this.data.length > 0
          ? { type: this.type || 'message', data: this.data.join('\n'), id: this.id }
          : undefined;
      this.type = '';
      this.data = [];
      this.id = undefined;
      return event;
    }
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.type = value;
    else if (field === 'data') this.data.push(value);
    else if (field === 'id' && !value.includes('\0')) this.id = value;
    return undefined;
  }
}

/** A stream the node refused (`status` 0: it could not be reached). */
export class StreamError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Seconds to wait before trying again (a 429's Retry-After). */
    readonly retryAfterS?: number,
  ) {
    super(message);
    this.name = 'StreamError';
  }
}

/**
 * Opens one SSE stream of the node with the tab's token and hands each event to `onEvent`
 * until the node closes it (resolves) or it fails (rejects with a StreamError; an abort
 * through `signal` resolves). `onOpen` is called once the node answered 200.
 */
export async function readSse(
  path: string,
  {
    signal,
    lastEventId,
    onOpen,
    onEvent,
  }: {
    signal: AbortSignal;
    lastEventId?: string;
    onOpen?: () => void;
    onEvent: (event: SseEvent) => void;
  },
): Promise<void> {
  const headers: Record<string, string> = { Accept: 'text/event-stream' };
  const token = tokenStore.get();
  if (token) headers.Authorization = `Bearer ${token}`;
  if (lastEventId) headers['Last-Event-ID'] = lastEventId;
  let response: Response;
  try {
    response = await fetch(path, { headers, signal, cache: 'no-store' });
  } catch (cause) {
    if (signal.aborted) return;
    throw new StreamError(0, 'UNREACHABLE', String(cause));
  }
  if (!response.ok || !response.body) {
    let code = `HTTP_${response.status}`;
    let message = response.statusText;
    try {
      const body = (await response.json()) as { code?: string; message?: string };
      code = body.code ?? code;
      message = body.message ?? message;
    } catch {
      // not JSON: keep the status
    }
    const retry = Number(response.headers.get('Retry-After'));
    throw new StreamError(
      response.status,
      code,
      message,
      Number.isFinite(retry) && retry > 0 ? retry : undefined,
    );
  }
  onOpen?.();
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  const parser = new SseParser();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      for (const event of parser.push(value)) onEvent(event);
    }
  } catch (cause) {
    if (signal.aborted) return;
    throw new StreamError(0, 'STREAM_BROKEN', String(cause));
  } finally {
    reader.releaseLock();
  }
}

/** `GET /api/events` payloads (see the API's description of the stream). */
export type ExecutionEvent = Pick<
  Execution,
  | 'id'
  | 'jobId'
  | 'jobName'
  | 'group'
  | 'status'
  | 'worker'
  | 'trigger'
  | 'attempt'
  | 'scheduledAt'
  | 'startedAt'
  | 'finishedAt'
>;
export interface NodeEvent {
  change: 'joined' | 'left' | 'leader';
  nodeId: string;
  leader: boolean;
  version?: string;
  startedAt?: string;
}
export interface WorkerEvent {
  change: 'registered' | 'left';
  group: string;
  workerId: string;
  host?: string;
  capacity?: number;
  labels?: Record<string, string>;
}
export type LiveEvent =
  | { type: 'execution'; data: ExecutionEvent }
  | { type: 'node'; data: NodeEvent }
  | { type: 'worker'; data: WorkerEvent };
export type LiveEventType = LiveEvent['type'];

/**
 * `live`: the stream is open; `polling`: it dropped (or the node refused it) and is being
 * reopened meanwhile, so screens poll; `connecting`: the first attempt.
 */
export type StreamStatus = 'connecting' | 'live' | 'polling';

export interface EventFilter {
  types: LiveEventType[];
  group?: string;
  jobId?: string;
}

const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 30_000;

/**
 * Keeps `GET /api/events` open: events go to `onEvent`; `onReset` when changes were missed
 * (the node's `reset`, or the stream came back without a resume point) so the caller reloads
 * what it shows. Reconnects with Last-Event-ID and a growing delay (Retry-After on 429).
 * Returns the function that closes it.
 */
export function subscribe(
  filter: EventFilter,
  handlers: {
    onEvent: (event: LiveEvent) => void;
    onReset?: () => void;
    onStatus?: (status: StreamStatus) => void;
  },
): () => void {
  const query = new URLSearchParams({ types: filter.types.join(',') });
  if (filter.group) query.set('group', filter.group);
  if (filter.jobId) query.set('jobId', filter.jobId);
  const path = `/api/events?${query.toString()}`;
  const controller = new AbortController();
  let lastEventId: string | undefined;
  let delay = RETRY_MIN_MS;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let dropped = false;

  const connect = () => {
    readSse(path, {
      signal: controller.signal,
      lastEventId,
      onOpen: () => {
        delay = RETRY_MIN_MS;
        handlers.onStatus?.('live');
        // Back after a drop without a resume point: what was missed is unknown.
        if (dropped && !lastEventId) handlers.onReset?.();
      },
      onEvent: (event) => {
        if (event.id) lastEventId = event.id;
        if (event.type === 'reset') {
          handlers.onReset?.();
          return;
        }
        if (event.type === 'overflow') return; // the node closes the stream next
        if (event.type !== 'execution' && event.type !== 'node' && event.type !== 'worker') return;
        try {
          handlers.onEvent({ type: event.type, data: JSON.parse(event.data) } as LiveEvent);
        } catch {
          // a malformed event: skip it
        }
      },
    }).then(
      () => retry(),
      (error: unknown) => retry(error instanceof StreamError ? error.retryAfterS : undefined),
    );
  };

  const retry = (afterS?: number) => {
    if (controller.signal.aborted) return;
    dropped = true;
    handlers.onStatus?.('polling');
    const wait = afterS !== undefined ? afterS * 1000 : delay;
    delay = Math.min(RETRY_MAX_MS, delay * 2);
    timer = setTimeout(connect, wait);
  };

  handlers.onStatus?.('connecting');
  connect();
  return () => {
    controller.abort();
    if (timer) clearTimeout(timer);
  };
}

/**
 * React hook over `subscribe`: follows the events of `filter` while mounted (and `enabled`),
 * returns the stream's status. The handlers may change on every render.
 *
 *   const live = useEvents({ types: ['execution'] }, { onEvent: (e) => …, onReset: reload });
 *   const list = usePaged(…, deps, live === 'live' ? undefined : 5000);
 */
export function useEvents(
  filter: EventFilter,
  handlers: { onEvent: (event: LiveEvent) => void; onReset?: () => void },
  enabled = true,
): StreamStatus {
  const [status, setStatus] = useState<StreamStatus>('connecting');
  const ref = useRef(handlers);
  ref.current = handlers;
  const key = JSON.stringify([filter.types, filter.group ?? '', filter.jobId ?? '']);
  useEffect(() => {
    if (!enabled) return;
    return subscribe(filter, {
      onEvent: (event) => ref.current.onEvent(event),
      onReset: () => ref.current.onReset?.(),
      onStatus: setStatus,
    });
  }, [key, enabled]);
  return status;
}

/**
 * Calls `fn` at most once per `ms` (the first call at once, later ones folded into one at
 * the end of the period): a list reloaded on every event would otherwise hammer the node.
 */
export function useThrottled(fn: () => void, ms: number): () => void {
  const ref = useRef(fn);
  ref.current = fn;
  const state = useRef<{ last: number; timer?: ReturnType<typeof setTimeout> }>({ last: 0 });
  useEffect(() => () => clearTimeout(state.current.timer), []);
  const [run] = useState(() => () => {
    const s = state.current;
    if (s.timer) return;
    const wait = s.last + ms - Date.now();
    if (wait <= 0) {
      s.last = Date.now();
      ref.current();
      return;
    }
    s.timer = setTimeout(() => {
      s.timer = undefined;
      s.last = Date.now();
      ref.current();
    }, wait);
  });
  return run;
}
