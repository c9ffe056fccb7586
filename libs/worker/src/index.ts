export * from './client';
export { ForestJob } from './nest/forest-job.decorator';
export { ForestWorkerModule } from './nest/forest-worker.module';
export { ForestWorkerService } from './nest/forest-worker.service';
export { FOREST_JOB_METADATA, FOREST_WORKER_OPTIONS } from './nest/forest-worker.constants';
export type {
  ForestWorkerModuleAsyncOptions,
  ForestWorkerModuleOptions,
} from './nest/forest-worker-module.options';
