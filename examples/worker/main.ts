import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';

/**
 * A worker is an ordinary Nest application; it needs no HTTP server of its own, as it only
 * talks to the scheduler nodes. On SIGTERM / SIGINT (Ctrl-C) the shutdown hooks stop the
 * worker gracefully: running handlers may finish, then it leaves its group.
 */
async function bootstrap(): Promise<void> {
  const app = await NestFactory.createApplicationContext(AppModule);
  app.enableShutdownHooks();
}

void bootstrap();
