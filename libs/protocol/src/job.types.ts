/**
 * Job and group records as stored under `jobs/{id}` and `groups/{name}`. Shared by the
 * job API (which writes them) and the planner and dispatcher (which read them), so the
 * stored shape is defined once. API responses are separate DTOs built from these.
 */

export const JOB_STATES = ['active', 'paused'] as const;
export type JobState = (typeof JOB_STATES)[number];

export const CONCURRENCY_POLICIES = ['allow', 'forbid', 'replace'] as const;
export type ConcurrencyPolicy = (typeof CONCURRENCY_POLICIES)[number];

export const MISFIRE_POLICIES = ['skip', 'fire_once', 'fire_all'] as const;
export type MisfirePolicy = (typeof MISFIRE_POLICIES)[number];

export const RETRY_BACKOFFS = ['fixed', 'exponential'] as const;
export type RetryBackoff = (typeof RETRY_BACKOFFS)[number];

export const ALERT_EVENTS = [
  'failed',
  'timed_out',
  'lost',
  'retries_exhausted',
  'misfire',
  'no_worker',
] as const;
export type AlertEvent = (typeof ALERT_EVENTS)[number];

/** Alert events about the cluster rather than one job: sent to the default channels. */
export const CLUSTER_ALERT_EVENTS = ['leader_changed', 'worker_lost'] as const;
export type ClusterAlertEvent = (typeof CLUSTER_ALERT_EVENTS)[number];

export interface GroupRecord {
  name: string;
  remark: string;
  createdAt: string;
  updatedAt: string;
  /**
   * When the job last became active (created active, or resumed). The planner never fires
   * a scheduled time before it, so a resumed job goes on from its resume, with no catch-up
   * for the time it was paused. Absent in records written before it existed: createdAt.
   */
  activeSince?: string;
}

export interface JobSchedule {
  /** 5 fields, 6 with seconds first, or a macro (@daily...). */
  cron: string;
  /** IANA time zone the cron fields are read in. */
  timezone: string;
}

export interface JobDispatch {
  /** Name of a dispatch strategy plugin. */
  strategy: string;
  /** Strategy-specific options, validated by the strategy. */
  options: Record<string, unknown>;
}

export interface JobRetry {
  /** Extra attempts after the first one fails (0: never retry). */
  maxAttempts: number;
  backoff: RetryBackoff;
  initialDelayMs: number;
  maxDelayMs: number;
}

export interface JobMisfire {
  policy: MisfirePolicy;
  /** How far back missed fires are made up (fire_once / fire_all). */
  catchUpWindowMs: number;
}

export interface JobAlerts {
  channels: string[];
  events: AlertEvent[];
}

export interface JobRecord {
  id: string;
  name: string;
  group: string;
  schedule: JobSchedule;
  /** The handler name a worker runs. */
  target: string;
  /** Any JSON value, handed to the handler. */
  params: unknown;
  state: JobState;
  dispatch: JobDispatch;
  concurrency: ConcurrencyPolicy;
  /** Per-execution time limit in ms; 0: none. */
  timeoutMs: number;
  retry: JobRetry;
  misfire: JobMisfire;
  alerts: JobAlerts;
  remark: string;
  createdAt: string;
  updatedAt: string;
  /**
   * When the job last became active (created active, or resumed). The planner never fires
   * a scheduled time before it, so a resumed job goes on from its resume, with no catch-up
   * for the time it was paused. Absent in records written before it existed: createdAt.
   */
  activeSince?: string;
}
