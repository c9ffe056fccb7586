import type { InjectionToken, ModuleMetadata, OptionalFactoryDependency } from '@nestjs/common';
import type { ForestWorkerOptions } from '../forest-worker.types';

/** ForestWorker options without handlers (they come from `@ForestJob` methods). */
export interface ForestWorkerModuleOptions extends Omit<ForestWorkerOptions, 'handlers'> {
  /** How long shutdown waits for running handlers before aborting them (ms). Default 30000. */
  shutdownTimeoutMs?: number;
}

export interface ForestWorkerModuleAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  // Nest's factory-provider shape: injected values arrive untyped.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  useFactory: (...args: any[]) => ForestWorkerModuleOptions | Promise<ForestWorkerModuleOptions>;
  inject?: Array<InjectionToken | OptionalFactoryDependency>;
}
