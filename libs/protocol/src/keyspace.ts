/**
 * The keyspace, relative to the store prefix (FOREST_KEY_PREFIX). One place builds every
 * key so modules cannot disagree on a layout; see ARCHITECTURE.md "Keyspace".
 */
export const Keyspace = {
  nodes: 'nodes/',
  node: (nodeId: string) => `nodes/${nodeId}`,
  election: 'election/',
  candidate: (nodeId: string) => `election/${nodeId}`,
  groups: 'groups/',
  group: (name: string) => `groups/${name}`,
  /**
   * A group being deleted: written (on a short lease) before the delete lists the group's
   * jobs; every job create or move into the group compares it absent, so no job can join
   * a group whose delete already listed its jobs.
   */
  groupDeleting: (name: string) => `groupdeleting/${name}`,
  jobs: 'jobs/',
  job: (jobId: string) => `jobs/${jobId}`,
  /** The last scheduled time the leader fired per job, written in the fire txn. */
  jobStates: 'jobstate/',
  jobState: (jobId: string) => `jobstate/${jobId}`,
  executions: 'executions/',
  jobExecutions: (jobId: string) => `executions/${jobId}/`,
  execution: (jobId: string, execKey: string) => `executions/${jobId}/${execKey}`,
  /** Live workers, each on its own lease. */
  workers: 'workers/',
  groupWorkers: (group: string) => `workers/${group}/`,
  worker: (group: string, workerId: string) => `workers/${group}/${workerId}`,
  /** Each worker's inbox: an execution from assignment until its final report. */
  assignments: 'assignments/',
  workerAssignments: (group: string, workerId: string) => `assignments/${group}/${workerId}/`,
  assignment: (group: string, workerId: string, executionId: string) =>
    `assignments/${group}/${workerId}/${executionId}`,
  /** Executions waiting for a worker of their group. */
  pending: 'pending/',
  groupPending: (group: string) => `pending/${group}/`,
  pendingExecution: (group: string, executionId: string) => `pending/${group}/${executionId}`,
  /**
   * A job's concurrency marker (jobs with `forbid` or `replace`): the id of the execution
   * that holds the job busy. Written in the txn that creates that execution and removed
   * (or handed to its retry) in the txn that finishes it, so "is the job running?" is one
   * key a fire txn can compare.
   */
  active: 'active/',
  activeExecution: (jobId: string) => `active/${jobId}`,
  /** API tokens (FOREST_AUTH=on): each holds the SHA-256 of its secret, never the secret. */
  tokens: 'tokens/',
  token: (tokenId: string) => `tokens/${tokenId}`,
  /**
   * The audit log: one key per state-changing API call, `audit/{15-digit epoch ms}-{random}`,
   * so keys sort by time; the leader deletes the oldest (FOREST_AUDIT_KEEP,
   * FOREST_AUDIT_MAX_AGE_H).
   */
  audit: 'audit/',
  auditEntry: (atMs: number, suffix: string) => `audit/${scheduledExecKey(atMs)}-${suffix}`,
  /**
   * Execution history kept in the store (StoreHistory, when no FOREST_HISTORY_URL is set):
   * one key per final execution, `history/{sortKey}` with the sort key
   * `{15-digit key time}-{executionId}` (see historySortKey), so keys sort by time and a
   * fire's attempts are neighbours. Written once (create-if-absent) when an execution
   * leaves `executions/`; deleted by history retention.
   */
  history: 'history/',
  historyEntry: (sortKey: string) => `history/${sortKey}`,
} as const;

/** The parts of `assignments/{group}/{workerId}/{executionId}`; undefined if malformed. */
export function parseAssignmentKey(
  key: string,
): { group: string; workerId: string; executionId: string } | undefined {
  const parts = splitUnder(key, Keyspace.assignments, 3);
  return parts && { group: parts[0], workerId: parts[1], executionId: parts[2] };
}

/** The parts of `pending/{group}/{executionId}`; undefined if malformed. */
export function parsePendingKey(key: string): { group: string; executionId: string } | undefined {
  const parts = splitUnder(key, Keyspace.pending, 2);
  return parts && { group: parts[0], executionId: parts[1] };
}

/** The parts of `workers/{group}/{workerId}`; undefined if malformed. */
export function parseWorkerKey(key: string): { group: string; workerId: string } | undefined {
  const parts = splitUnder(key, Keyspace.workers, 2);
  return parts && { group: parts[0], workerId: parts[1] };
}

function splitUnder(key: string, prefix: string, count: number): string[] | undefined {
  if (!key.startsWith(prefix)) return undefined;
  const parts = key.slice(prefix.length).split('/');
  return parts.length === count && parts.every((part) => part.length > 0) ? parts : undefined;
}

/** Width of a zero-padded epoch-ms execution key: sorts by time until the year 33658. */
const EXEC_KEY_DIGITS = 15;

/**
 * The execution key of a scheduled fire: its scheduled epoch ms, zero-padded so keys sort
 * by time. One key per (job, scheduled time) is what makes a fire exactly-once: the fire
 * txn creates it only if it does not exist.
 */
export function scheduledExecKey(scheduledMs: number): string {
  return String(scheduledMs).padStart(EXEC_KEY_DIGITS, '0');
}

/**
 * An execution's id as the API shows it: `{jobId}~{execKey}`. `~` cannot occur in a job
 * id (key segments are `[A-Za-z0-9._-]`), so the id splits back unambiguously, and it is
 * an unreserved URL character, so ids travel in paths unescaped.
 */
export function executionId(jobId: string, execKey: string): string {
  return `${jobId}~${execKey}`;
}

/** The id of shard `index` (>= 1) of the broadcast execution whose shard 0 is `id`. */
export function shardExecutionId(id: string, index: number): string {
  return `${id}.s${index}`;
}

/**
 * The id of attempt `attempt` (>= 2) of the fire whose attempts began with `id`: one id per
 * (fire, attempt), so the txn that finishes attempt n creates attempt n+1 only if absent,
 * and no two writers can both create it. `{first}.r{n}` sorts right after the first
 * attempt, so a fire's attempts are neighbours in the keyspace.
 */
export function retryExecutionId(id: string, attempt: number): string {
  return `${firstAttemptId(id)}.r${attempt}`;
}

/** The id of the first attempt of the fire `id` belongs to (itself for a first attempt). */
export function firstAttemptId(id: string): string {
  return id.replace(/\.r\d+$/, '');
}

/** The key of a manual execution: its creation time, then a unique suffix. */
export function uniqueExecKey(atMs: number, suffix: string): string {
  return `${scheduledExecKey(atMs)}-${suffix}`;
}

/** The store key of an execution, from its id. */
export function executionKeyOf(id: string): string | undefined {
  const parts = parseExecutionId(id);
  return parts && Keyspace.execution(parts.jobId, parts.execKey);
}

export function parseExecutionId(id: string): { jobId: string; execKey: string } | undefined {
  const at = id.lastIndexOf('~');
  if (at <= 0 || at === id.length - 1) return undefined;
  return { jobId: id.slice(0, at), execKey: id.slice(at + 1) };
}
