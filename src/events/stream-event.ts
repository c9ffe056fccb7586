import type { ExecutionRecord, WorkerRecord } from '@forest/protocol';
import type { NodeRecord } from '../election/leadership.events';

/**
 * What GET /api/events sends: summaries of changes in the coordination store, each tagged
 * with the store revision of the change (the SSE `id:`), so a client that reconnects with
 * `Last-Event-ID` resumes right after the last change it saw.
 */
export const STREAM_TYPES = ['execution', 'node', 'worker'] as const;
export type StreamType = (typeof STREAM_TYPES)[number];

/** An execution as the stream shows it: never its params or output (they can be 64 KiB). */
export interface ExecutionSummary {
  id: string;
  jobId: string;
  jobName: string;
  group: string;
  status: string;
  worker?: string;
  trigger: string;
  attempt: number;
  scheduledAt: string;
  startedAt?: string;
  finishedAt?: string;
}

export interface NodeChange {
  change: 'joined' | 'left' | 'leader';
  nodeId: string;
  /** Whether this node leads after the change. */
  leader: boolean;
  version?: string;
  startedAt?: string;
}

export interface WorkerChange {
  change: 'registered' | 'left';
  group: string;
  workerId: string;
  host?: string;
  capacity?: number;
  labels?: Record<string, string>;
}

export type StreamEvent =
  | { type: 'execution'; revision: number; data: ExecutionSummary }
  | { type: 'node'; revision: number; data: NodeChange }
  | { type: 'worker'; revision: number; data: WorkerChange };

/** The group an event belongs to (scope and the `group` filter); undefined: cluster-wide. */
export function groupOf(event: StreamEvent): string | undefined {
  return event.type === 'node' ? undefined : event.data.group;
}

export function executionSummary(record: ExecutionRecord): ExecutionSummary {
  return {
    id: record.id,
    jobId: record.jobId,
    jobName: record.jobName,
    group: record.group,
    status: record.status,
    worker: record.worker,
    trigger: record.trigger,
    attempt: record.attempt,
    scheduledAt: record.scheduledAt,
    startedAt: record.startedAt,
    finishedAt: record.finishedAt,
  };
}

export function workerChange(change: WorkerChange['change'], record: WorkerRecord): WorkerChange {
  return {
    change,
    group: record.group,
    workerId: record.id,
    host: record.host,
    capacity: record.capacity,
    labels: record.labels,
  };
}

export function nodeChange(
  change: NodeChange['change'],
  nodeId: string,
  leader: boolean,
  record: NodeRecord | undefined,
): NodeChange {
  return { change, nodeId, leader, version: record?.version, startedAt: record?.startedAt };
}

// One event goes to every subscribed client of a node: its text is built once.
const texts = new WeakMap<StreamEvent, string>();

/** The event in SSE wire format (`id`, `event`, one `data` line of JSON, blank line). */
export function sseText(event: StreamEvent): string {
  let text = texts.get(event);
  if (text === undefined) {
    text = `id: ${event.revision}\nevent: ${event.type}\ndata: ${JSON.stringify(event.data)}\n\n`;
    texts.set(event, text);
  }
  return text;
}

/** A control event (`reset`, `overflow`): no id, so it does not move the client's resume point. */
export function controlText(name: 'reset' | 'overflow', data: object): string {
  return `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** A comment line: keeps proxies and the client from timing out an idle stream. */
export const HEARTBEAT_TEXT = ': heartbeat\n\n';
