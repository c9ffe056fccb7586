import type { ForestConfig } from '../config/forest.config';
import type { RouteBodyLimits } from '../http/json-body';

/**
 * POST /api/jobs/import takes a whole schedule in one body, so it has its own limits,
 * larger than the node's (FOREST_HTTP_BODY_LIMIT, FOREST_JSON_MAX_KEYS) and for that route
 * only: 32 MiB, 1,000,000 keys + items (a job is about 30), at most 20,000 jobs. The body
 * is read before the route's access check, as for every route; these bounds are what an
 * unauthenticated caller can make a node read and parse (one linear scan, then
 * JSON.parse). Where the node's own limits are larger, they apply.
 */
export const JOB_IMPORT_PATH = '/api/jobs/import';
export const IMPORT_BODY_LIMIT = 32 * 1024 * 1024;
export const IMPORT_JSON_MAX_KEYS = 1_000_000;
export const IMPORT_MAX_JOBS = 20_000;

export function jobImportLimits(config: ForestConfig): RouteBodyLimits {
  return {
    method: 'POST',
    url: JOB_IMPORT_PATH,
    bodyLimit: Math.max(IMPORT_BODY_LIMIT, config.httpBodyLimit),
    limits: {
      maxDepth: config.jsonMaxDepth,
      maxKeys: Math.max(IMPORT_JSON_MAX_KEYS, config.jsonMaxKeys),
    },
  };
}
