import {
  allWorkersFull,
  assignTo,
  DispatchContext,
  DispatchDecision,
  DispatchStrategy,
  DispatchWorker,
  ForestDispatchStrategy,
  noLiveWorker,
  unknownOptions,
} from '@forest/plugin-api';

export interface ConsistentHashOptions {
  /** What is hashed: the job id (default) or one of the execution's params. */
  by?: 'job' | 'param';
  /** With `by: 'param'`: a top-level key of the execution's params object. */
  param?: string;
  /** Points on the ring per worker (1..1000, default 160): more evens out the spread. */
  replicas?: number;
}

const ALLOWED = ['by', 'param', 'replicas'];
export const DEFAULT_REPLICAS = 160;
export const MAX_REPLICAS = 1000;
/** Rings kept: one per distinct (worker set, replicas) in use, e.g. per group and target. */
const MAX_RINGS = 64;

interface Ring {
  /** Ring points, ascending. */
  readonly points: Uint32Array;
  /** For each point, the index (in id order) of the worker that owns it. */
  readonly owners: Uint16Array | Uint32Array;
  /** Worker ids, ascending. */
  readonly ids: readonly string[];
}

/**
 * `consistent-hash`: the same key always goes to the same worker while that worker lives,
 * and when workers join or leave only the keys of the changed worker move (about 1/n of
 * them). Good for caches warmed per key, or anything that benefits from affinity.
 *
 * Every worker owns `replicas` points on a 32-bit ring (the hash of `${workerId}#${i}`); a
 * key goes to the owner of the first point at or after the key's hash. When that worker is
 * full the execution goes to the next distinct worker clockwise with a free slot, so a busy
 * owner sheds its overflow to the same neighbour each time rather than to a random one.
 *
 * The key is the job id with `by: 'job'` (default), so all executions of a job stick to one
 * worker. With `by: 'param'` it is `JSON.stringify(params[param])` of the execution, so
 * executions sharing e.g. a tenant stick together; when the params are not an object or
 * lack the key, the job id is hashed instead: the execution still runs, with job affinity.
 *
 * Rings are rebuilt only when the set of worker ids (or `replicas`) changes, and a few are
 * cached so jobs of different groups or targets do not evict each other's.
 */
@DispatchStrategy('consistent-hash')
export class ConsistentHashStrategy implements ForestDispatchStrategy<ConsistentHashOptions> {
  /** Cached rings by `replicas` and worker ids; Map order = least recently used first. */
  private readonly rings = new Map<string, Ring>();

  select(context: DispatchContext<ConsistentHashOptions>): DispatchDecision {
    const { workers, job } = context;
    if (workers.length === 0) return noLiveWorker(job);
    if (!workers.some((w) => w.free > 0)) return allWorkersFull(workers);
    const ring = this.ring(workers, context.options.replicas ?? DEFAULT_REPLICAS);
    const byId = new Map(workers.map((w) => [w.id, w]));
    const start = firstPointAtOrAfter(ring.points, hash32(keyOf(context)));
    // Walk clockwise from the key's point; each worker is looked at once.
    const seen = new Set<number>();
    for (let step = 0; step < ring.points.length && seen.size < ring.ids.length; step++) {
      const owner = ring.owners[(start + step) % ring.points.length];
      if (seen.has(owner)) continue;
      seen.add(owner);
      const candidate = byId.get(ring.ids[owner]) as DispatchWorker;
      if (candidate.free > 0) return assignTo(candidate);
    }
    // Unreachable: some worker has a free slot and the walk visits every worker.
    return allWorkersFull(workers);
  }

  validateOptions(options: Record<string, unknown>): string[] {
    const problems = unknownOptions('consistent-hash', options, ALLOWED);
    const { by, param, replicas } = options;
    if (by !== undefined && by !== 'job' && by !== 'param') {
      problems.push(`dispatch.options.by must be "job" or "param" (got ${show(by)})`);
    }
    if (param !== undefined && (typeof param !== 'string' || param === '')) {
      problems.push(`dispatch.options.param must be a non-empty string (got ${show(param)})`);
    } else if (by === 'param' && param === undefined) {
      problems.push(
        'dispatch.options.param is required with by: "param" (the params key whose value is hashed)',
      );
    } else if (param !== undefined && by !== 'param') {
      // Probably meant by: "param"; hashing the job id silently would hide the mistake.
      problems.push('dispatch.options.param is only used with by: "param" (add it, or drop param)');
    }
    if (
      replicas !== undefined &&
      (!Number.isInteger(replicas) ||
        (replicas as number) < 1 ||
        (replicas as number) > MAX_REPLICAS)
    ) {
      problems.push(
        `dispatch.options.replicas must be a whole number in 1..${MAX_REPLICAS} (got ${show(replicas)})`,
      );
    }
    return problems;
  }

  private ring(workers: readonly DispatchWorker[], replicas: number): Ring {
    const ids = workers.map((w) => w.id);
    // Worker ids are key segments ([A-Za-z0-9._-]), so ',' cannot be part of one.
    const key = `${replicas}:${ids.join(',')}`;
    let ring = this.rings.get(key);
    if (ring) {
      this.rings.delete(key); // re-inserted below: most recently used
    } else {
      ring = buildRing(ids, replicas);
      if (this.rings.size >= MAX_RINGS) this.rings.delete(this.rings.keys().next().value!);
    }
    this.rings.set(key, ring);
    return ring;
  }
}

function keyOf(context: DispatchContext<ConsistentHashOptions>): string {
  const { options, execution } = context;
  if (options.by === 'param' && options.param !== undefined) {
    const params = execution.params;
    if (params !== null && typeof params === 'object' && !Array.isArray(params)) {
      const value = (params as Record<string, unknown>)[options.param];
      if (value !== undefined) return JSON.stringify(value);
    }
  }
  return execution.jobId;
}

function buildRing(unsortedIds: readonly string[], replicas: number): Ring {
  // The ring must not depend on the order workers are offered in.
  const ids = [...unsortedIds].sort();
  const count = ids.length * replicas;
  const hashes = new Uint32Array(count);
  for (let w = 0; w < ids.length; w++) {
    for (let i = 0; i < replicas; i++) hashes[w * replicas + i] = hash32(`${ids[w]}#${i}`);
  }
  // Sort point slots by hash; on a (rare) collision the lower id owns the point, so adding
  // a worker can only take points away from others, never shuffle them among the others.
  const order = Array.from({ length: count }, (_, i) => i).sort(
    (a, b) => hashes[a] - hashes[b] || a - b,
  );
  const points = new Uint32Array(count);
  const owners = ids.length <= 0xffff ? new Uint16Array(count) : new Uint32Array(count);
  order.forEach((slot, i) => {
    points[i] = hashes[slot];
    owners[i] = Math.floor(slot / replicas);
  });
  return { points, owners, ids };
}

/** Index of the first point >= h, or 0 when h is past the last point (the ring wraps). */
function firstPointAtOrAfter(points: Uint32Array, h: number): number {
  let lo = 0;
  let hi = points.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (points[mid] < h) lo = mid + 1;
    else hi = mid;
  }
  return lo === points.length ? 0 : lo;
}

/**
 * FNV-1a over UTF-16 code units, then murmur3's finalizer: FNV alone clusters on short keys
 * that differ only in their last characters (`w-1#0`, `w-1#1`), the finalizer spreads them.
 * Unsigned 32-bit.
 */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function show(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? String(value);
  return 'an object';
}
