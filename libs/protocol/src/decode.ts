import { EXECUTION_STATUSES, ExecutionRecord, PendingEntry } from './execution.types';
import { ApiTokenRecord, TOKEN_ROLES } from './token.types';
import { ASSIGNMENT_STATES, Assignment, WorkerRecord } from './worker-protocol.types';

/**
 * Checked decoding of the JSON records Forest stores. A value that does not parse, or is
 * not the shape it claims to be (written by hand, by an older or newer version, or
 * damaged), throws a RecordDecodeError naming the key, instead of reaching the scheduler
 * as a half-typed object. Only the fields the scheduler relies on are checked.
 */
export class RecordDecodeError extends Error {
  constructor(
    readonly key: string,
    problem: string,
  ) {
    super(`stored record ${key} is not valid: ${problem}`);
    this.name = 'RecordDecodeError';
  }
}

type Check = (value: unknown) => boolean;
const isString: Check = (value) => typeof value === 'string';
const isBoolean: Check = (value) => typeof value === 'boolean';
const isNumber: Check = (value) => typeof value === 'number' && Number.isFinite(value);
const oneOf =
  (values: readonly string[]): Check =>
  (value) =>
    typeof value === 'string' && values.includes(value);

function decode<T>(key: string, text: string, fields: Record<string, Check>): T {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new RecordDecodeError(key, 'not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new RecordDecodeError(key, 'not an object');
  }
  const record = value as Record<string, unknown>;
  for (const [field, check] of Object.entries(fields)) {
    if (!check(record[field]))
      throw new RecordDecodeError(key, `field ${field} is missing or wrong`);
  }
  return value as T;
}

export function decodeExecution(key: string, text: string): ExecutionRecord {
  return decode<ExecutionRecord>(key, text, {
    id: isString,
    jobId: isString,
    group: isString,
    target: isString,
    status: oneOf(EXECUTION_STATUSES),
    attempt: isNumber,
    scheduledMs: isNumber,
    timeline: Array.isArray,
  });
}

export function decodeAssignment(key: string, text: string): Assignment {
  return decode<Assignment>(key, text, {
    executionId: isString,
    jobId: isString,
    target: isString,
    workerId: isString,
    state: oneOf(ASSIGNMENT_STATES),
    scheduledMs: isNumber,
  });
}

/**
 * An inbox entry stored under `parts` (its parsed key): decoded, and refused when it names
 * another inbox or execution than its key. The key decides whose entry it is; every reader
 * of `assignments/` must agree on that.
 */
export function decodeAssignmentAt(
  parts: { group: string; workerId: string; executionId: string },
  key: string,
  text: string,
): Assignment {
  const value = decodeAssignment(key, text);
  if (
    value.group !== parts.group ||
    value.workerId !== parts.workerId ||
    value.executionId !== parts.executionId
  ) {
    throw new RecordDecodeError(key, `names ${value.group}/${value.workerId}/${value.executionId}`);
  }
  return value;
}

export function decodePendingEntry(key: string, text: string): PendingEntry {
  return decode<PendingEntry>(key, text, {
    executionId: isString,
    jobId: isString,
    target: isString,
    since: isString,
  });
}

export function decodeWorker(key: string, text: string): WorkerRecord {
  return decode<WorkerRecord>(key, text, {
    id: isString,
    group: isString,
    targets: Array.isArray,
    capacity: isNumber,
    lease: isString,
  });
}

/** A worker record stored under `parts` (its parsed key), refused when it names another worker. */
export function decodeWorkerAt(
  parts: { group: string; workerId: string },
  key: string,
  text: string,
): WorkerRecord {
  const record = decodeWorker(key, text);
  if (record.group !== parts.group || record.id !== parts.workerId) {
    throw new RecordDecodeError(key, `names worker ${record.group}/${record.id}`);
  }
  return record;
}

export function decodeApiToken(key: string, text: string): ApiTokenRecord {
  return decode<ApiTokenRecord>(key, text, {
    id: isString,
    name: isString,
    role: oneOf(TOKEN_ROLES),
    groups: (value) =>
      value === undefined || (Array.isArray(value) && value.every((group) => isString(group))),
    revealData: isBoolean,
    secretHash: (value) => typeof value === 'string' && /^[0-9a-f]{64}$/.test(value),
    createdBy: isString,
    createdAt: isString,
  });
}
