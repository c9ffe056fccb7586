import { SetMetadata } from '@nestjs/common';
import { FOREST_JOB_METADATA } from './forest-worker.constants';

/**
 * Marks a provider (or controller) method as the handler of `target` (`job.target`).
 * The method gets the ForestJobContext; ForestWorkerModule finds it at bootstrap, binds
 * it to its instance and serves the target. Only records metadata.
 */
export function ForestJob(target: string): MethodDecorator {
  return SetMetadata(FOREST_JOB_METADATA, target);
}
