import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnModuleInit,
} from '@nestjs/common';
import { ForestWorker } from '../forest-worker';
import type { ForestWorkerStatus } from '../forest-worker.types';
import { FOREST_WORKER_OPTIONS } from './forest-worker.constants';
import { ForestWorkerExplorer } from './forest-worker.explorer';
import type { ForestWorkerModuleOptions } from './forest-worker-module.options';

/**
 * The module's facade: finds `@ForestJob` methods when the module initialises (a duplicate
 * target fails the boot), starts the worker at bootstrap, and stops it gracefully at shutdown.
 */
@Injectable()
export class ForestWorkerService
  implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown
{
  private readonly logger = new Logger('ForestWorker');
  private worker: ForestWorker | undefined;

  constructor(
    @Inject(FOREST_WORKER_OPTIONS) private readonly options: ForestWorkerModuleOptions,
    private readonly explorer: ForestWorkerExplorer,
  ) {}

  onModuleInit(): void {
    const jobs = this.explorer.explore();
    const { shutdownTimeoutMs: _shutdown, ...workerOptions } = this.options;
    const worker = new ForestWorker({
      ...workerOptions,
      logger: this.options.logger ?? this.logger,
    });
    for (const job of jobs) worker.register(job.target, job.handler);
    this.worker = worker;
    if (jobs.length > 0) {
      this.logger.log(
        `@ForestJob handlers: ${jobs.map((j) => `${j.target} -> ${j.className}.${j.methodName}()`).join(', ')}`,
      );
    }
  }

  onApplicationBootstrap(): void {
    const worker = this.worker;
    if (!worker) return;
    if (worker.targets.length === 0) {
      this.logger.warn(
        `no @ForestJob methods found; the worker for group=${this.options.group} is not started`,
      );
      return;
    }
    // Registration retries until a node answers; the application does not wait for it.
    worker.start().catch((error: unknown) => {
      this.logger.error(`the worker did not start: ${String(error)}`);
    });
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.worker?.stop({ timeoutMs: this.options.shutdownTimeoutMs ?? 30_000 });
  }

  /** The worker's status (see ForestWorkerStatus); undefined before the module initialised. */
  get status(): ForestWorkerStatus | undefined {
    return this.worker?.status;
  }

  /** The targets served, from `@ForestJob` methods. */
  get targets(): string[] {
    return this.worker?.targets ?? [];
  }
}
