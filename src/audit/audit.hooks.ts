import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { AuditService } from './audit.service';

/**
 * Feeds the audit log from Fastify's hooks rather than a Nest interceptor: `onResponse`
 * runs for every answer, including those a guard (401/403), a pipe (400) or a filter
 * produced, with the final status code; `onSend` lets a create name the object it made.
 */
@Injectable()
export class AuditHooks implements OnModuleInit {
  private readonly logger = new Logger(AuditHooks.name);

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly audit: AuditService,
  ) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter?.getInstance<FastifyInstance>();
    if (!fastify || typeof fastify.addHook !== 'function') {
      this.logger.warn('audit log: no Fastify instance; API calls are not audited');
      return;
    }
    fastify.addHook('onSend', (request, reply, payload, done) => {
      this.audit.noteAnswer(request, reply, payload);
      done(null, payload);
    });
    fastify.addHook('onResponse', (request, reply, done) => {
      this.audit.recordAnswered(request, reply);
      done();
    });
  }
}
