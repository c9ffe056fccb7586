import { DynamicModule, Logger, Module } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { LoggerModule } from 'nestjs-pino';
import { AlertingModule } from './alerting/alerting.module';
import { AuditModule } from './audit/audit.module';
import { AuthModule } from './auth/auth.module';
import {
  ForestExceptionFilter,
  requestErrorObject,
  requestLogLevel,
} from './common/forest-exception.filter';
import { createValidationPipe } from './common/validation';
import { ForestConfigModule } from './config/config.module';
import { ForestConfig } from './config/forest.config';
import { ElectionModule } from './election/election.module';
import { EventsModule } from './events/events.module';
import { ExecutionModule } from './execution/execution.module';
import { ExecutionLogsModule } from './execution-logs/execution-logs.module';
import { HealthModule } from './health/health.module';
import { HistoryModule } from './history/history.module';
import { HistoryMoverModule } from './history/history-mover.module';
import { JobModule } from './job/job.module';
import { forestLogger } from './logging/forest-logger';
import { MetricsModule } from './metrics/metrics.module';
import { BUILTIN_PLUGINS_DIR, loadPlugins, PluginLoadResult } from './plugins/plugin-loader';
import { PluginsModule } from './plugins/plugins.module';
import { PlannerModule } from './planner/planner.module';
import { WorkerGatewayModule } from './worker-gateway/worker-gateway.module';
import { StoreModule } from './store/store.module';
import { StatsModule } from './stats/stats.module';

/**
 * The scheduler node. Built from an already validated config so tests can start nodes
 * with any configuration without touching process.env. Plugins are loaded and checked
 * here, before Nest starts: a bad plugin throws PluginLoadError naming it.
 */
@Module({})
export class AppModule {
  static forRoot(config: ForestConfig, plugins?: PluginLoadResult): DynamicModule {
    const loaded = plugins ?? loadConfiguredPlugins(config);
    return {
      module: AppModule,
      imports: [
        ForestConfigModule.forRoot(config),
        LoggerModule.forRoot({
          pinoHttp: {
            // The node's one pino logger (level, format, node id, redaction): main.ts logs
            // through it too, before and after Nest.
            logger: forestLogger(config),
            // Request logs at debug (a busy worker fleet polls constantly); 503s and aborted
            // uploads without a made-up error stack (see requestLogLevel).
            customLogLevel: requestLogLevel,
            customErrorObject: requestErrorObject,
          },
        }),
        MetricsModule,
        StoreModule,
        HistoryModule,
        AuthModule,
        PluginsModule.forRoot(loaded),
        HealthModule,
        ElectionModule,
        HistoryMoverModule,
        JobModule,
        PlannerModule,
        ExecutionModule,
        ExecutionLogsModule,
        WorkerGatewayModule,
        AlertingModule,
        AuditModule,
        EventsModule,
        StatsModule,
      ],
      providers: [
        { provide: APP_PIPE, useFactory: createValidationPipe },
        {
          provide: APP_FILTER,
          inject: [ForestConfig],
          useFactory: (cfg: ForestConfig) => new ForestExceptionFilter(cfg.httpBodyLimit),
        },
      ],
    };
  }
}

/** The plugins the config names: built-in, FOREST_PLUGIN_PATHS, FOREST_PLUGINS. */
export function loadConfiguredPlugins(config: ForestConfig): PluginLoadResult {
  const logger = new Logger('PluginLoader');
  return loadPlugins({
    builtinDir: BUILTIN_PLUGINS_DIR,
    paths: config.pluginPaths,
    packages: config.plugins,
    onError: config.pluginOnError,
    warn: (message) => logger.warn(message),
  });
}
