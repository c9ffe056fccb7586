import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule } from './app.module';
import { configureApp } from './app.setup';
import { ConfigError, configHelp, loadConfig } from './config/forest.config';
import { createForestAdapter, FOREST_NEST_OPTIONS } from './http/http-server';
import { PluginLoadError } from './plugins/plugin.errors';

async function bootstrap(): Promise<void> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    process.stdout.write(configHelp());
    return;
  }
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // No logger exists yet: the problem goes straight to stderr and the process stops.
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot(config),
    createForestAdapter(config),
    { ...FOREST_NEST_OPTIONS, bufferLogs: true },
  );
  configureApp(app);
  await app.listen(config.httpPort, config.httpHost);
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.httpPort;
  new Logger('Bootstrap').log(
    `node=${config.nodeId} listening on http://${config.httpHost}:${port} (Swagger UI at /docs)`,
  );
}

bootstrap().catch((error: unknown) => {
  if (error instanceof PluginLoadError) {
    // A plugin problem is the operator's to fix: the message names the plugin, no stack.
    process.stderr.write(`Forest failed to start: ${error.message}\n`);
    process.exit(2);
  }
  process.stderr.write(
    `Forest failed to start: ${error instanceof Error ? error.stack : String(error)}\n`,
  );
  process.exit(1);
});
