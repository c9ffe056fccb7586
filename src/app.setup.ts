import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import { ErrorResponseDto } from './common/error-response.dto';
import { ForestConfig } from './config/forest.config';
import { configureHttp } from './http/configure-http';
import { serveConsole } from './http/console-static';

/** Options of configureApp that tests set; the node uses the defaults. */
export interface ConfigureAppOptions {
  /** The built web console to serve at `/` (default CONSOLE_DIR: dist/console). */
  consoleDir?: string;
}

/**
 * Everything main.ts does to the app besides listening, shared with the e2e tests so they
 * exercise the same pipeline: HTTP hardening (body parser, security headers, Host and
 * Origin checks, CORS), logger, Swagger, the web console at `/`, shutdown hooks. (Fastify's own errors, such as a
 * body over FOREST_HTTP_BODY_LIMIT, reach ForestExceptionFilter through Nest.) The app is
 * created with createForestAdapter and FOREST_NEST_OPTIONS (src/http/http-server.ts).
 */
export function configureApp(app: NestFastifyApplication, options: ConfigureAppOptions = {}): void {
  // First: the body parsers and hooks must be in place before Swagger registers its routes.
  configureHttp(app, app.get(ForestConfig));
  app.useLogger(app.get(Logger));
  app.enableShutdownHooks();

  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Forest')
      .setDescription(
        'Distributed cron scheduler: groups, jobs, executions, the worker protocol, cluster state. ' +
          'Every error answers with the ErrorResponse shape.',
      )
      .setVersion(process.env.npm_package_version ?? '0.1.0')
      .addBearerAuth({
        type: 'http',
        scheme: 'bearer',
        description: 'An API token (FOREST_AUTH=on): Authorization: Bearer <token>',
      })
      .build(),
    { extraModels: [ErrorResponseDto] },
  );
  SwaggerModule.setup('docs', app, document, {
    jsonDocumentUrl: 'docs-json',
    swaggerOptions: { persistAuthorization: true },
  });
  serveConsole(app.getHttpAdapter().getInstance(), options.consoleDir);
}
