import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Logger as Pino } from 'pino';
import { AppModule, loadConfiguredPlugins } from './app.module';
import { configureApp } from './app.setup';
import { SETTINGS } from './config/config.settings';
import { ConfigError, configHelp, loadConfig, PluginSettingsHelp } from './config/forest.config';
import { createForestAdapter, FOREST_NEST_OPTIONS } from './http/http-server';
import { forestLogger, PinoLoggerService } from './logging/forest-logger';
import { BUILTIN_PLUGINS_DIR, loadPlugins } from './plugins/plugin-loader';
import { defaultChannelsProblem } from './plugins/plugin-provides';
import { PluginLoadError } from './plugins/plugin.errors';

/** The node's logger once the config is read; start-up failures are logged through it. */
let log: Pino | undefined;

async function bootstrap(): Promise<void> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    process.stdout.write(configHelp(pluginSettingsForHelp()));
    return;
  }
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // A usage message, before any logger: plain text on stderr, and the process stops.
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
  log = forestLogger(config);
  // Everything from here on is a JSON line (FOREST_LOG_FORMAT), Nest's own messages too.
  // Nest's ExceptionHandler is left out: a failed start is logged once, below.
  const nestLogger = new PinoLoggerService(log, ['ExceptionHandler']);
  Logger.overrideLogger(nestLogger);
  const plugins = loadConfiguredPlugins(config);
  const channels = defaultChannelsProblem(config.alertDefaultChannels, plugins);
  if (channels) {
    process.stderr.write(`${new ConfigError([channels]).message}\n`);
    process.exit(2);
  }
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot(config, plugins),
    createForestAdapter(config),
    // abortOnError: false: a failure comes back here instead of Nest's process.exit(1).
    { ...FOREST_NEST_OPTIONS, logger: nestLogger, abortOnError: false },
  );
  configureApp(app);
  await app.listen(config.httpPort, config.httpHost);
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.httpPort;
  new Logger('Bootstrap').log(
    `node=${config.nodeId} listening on http://${config.httpHost}:${port} (Swagger UI at /docs)`,
  );
}

/**
 * The settings of the plugins this environment would load, for --help. Help never fails:
 * unparsable plugin settings and plugins that do not load are left out.
 */
function pluginSettingsForHelp(): PluginSettingsHelp[] {
  const lenient = <T>(parse: () => T, fallback: T): T => {
    try {
      return parse();
    } catch {
      return fallback;
    }
  };
  const env = process.env;
  const loaded = lenient(
    () =>
      loadPlugins({
        builtinDir: BUILTIN_PLUGINS_DIR,
        paths: lenient(() => SETTINGS.pluginPaths.parse(env.FOREST_PLUGIN_PATHS), []),
        packages: lenient(() => SETTINGS.plugins.parse(env.FOREST_PLUGINS), []),
        onError: 'skip',
      }).plugins,
    [],
  );
  return loaded.map((p) => ({ plugin: p.info.name, settings: p.info.settings ?? [] }));
}

bootstrap().catch((error: unknown) => {
  // A plugin problem is the operator's to fix: the message names the plugin, no stack.
  const plugin = error instanceof PluginLoadError;
  const message = `Forest failed to start: ${error instanceof Error ? error.message : String(error)}`;
  if (log) {
    if (plugin) log.fatal(message);
    else log.fatal({ err: error }, message);
  } else {
    process.stderr.write(`${plugin ? message : String((error as Error)?.stack ?? error)}\n`);
  }
  // The log is written synchronously: nothing is pending, exit now.
  process.exit(plugin ? 2 : 1);
});
