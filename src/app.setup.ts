import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import { ErrorResponseDto } from './common/error-response.dto';

/**
 * Everything main.ts does to the app besides listening, shared with the e2e tests so they
 * exercise the same pipeline: logger, Swagger, shutdown hooks. (Fastify's own errors, such
 * as a body over FOREST_HTTP_BODY_LIMIT, reach ForestExceptionFilter through Nest.)
 */
export function configureApp(app: NestFastifyApplication): void {
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
      .build(),
    { extraModels: [ErrorResponseDto] },
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
}
