import {
  Global,
  Inject,
  Logger,
  Module,
  OnApplicationShutdown,
  OnModuleInit,
} from '@nestjs/common';
import { CoordinationStore } from '@forest/store';
import { ForestConfig } from '../config/forest.config';
import { MetricsService } from '../metrics/metrics.service';
import { InstrumentedStore } from './instrumented-store';
import { createCoordinationStore } from './store.factory';
import { COORDINATION_STORE } from './store.tokens';

/**
 * Provides the CoordinationStore to every module (measured: InstrumentedStore) and closes
 * it last on shutdown.
 *
 * The node's start-up waits for the store (the plan loads before the node listens), and
 * Nest holds start-up log lines back until the node listens. So that an unreachable store
 * or refused credentials are reported while the node waits, rather than never, the held
 * lines are written out here, once the app's logger is in place and before any module
 * waits for the store.
 */
@Global()
@Module({
  providers: [
    {
      provide: COORDINATION_STORE,
      inject: [ForestConfig, MetricsService],
      // Measured (latency, errors, watch restarts) whichever adapter runs.
      useFactory: async (config: ForestConfig, metrics: MetricsService) =>
        new InstrumentedStore(await createCoordinationStore(config), metrics.store),
    },
  ],
  exports: [COORDINATION_STORE],
})
export class StoreModule implements OnModuleInit, OnApplicationShutdown {
  constructor(@Inject(COORDINATION_STORE) private readonly store: CoordinationStore) {}

  onModuleInit(): void {
    Logger.flush();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
  }
}
