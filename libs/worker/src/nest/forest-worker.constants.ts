/** Injection token of the module's options (ForestWorkerModuleOptions). */
export const FOREST_WORKER_OPTIONS = Symbol('FOREST_WORKER_OPTIONS');

/** Metadata key `@ForestJob(target)` puts on a method. */
export const FOREST_JOB_METADATA = 'forest:job';
