import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import fastifyRateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ForestConfig } from '../config/forest.config';

const WINDOW_MS = 60_000;

type Limiter = ReturnType<FastifyInstance['createRateLimit']>;

/**
 * Failed authentications per client address (FOREST_AUTH_FAILURES_PER_MIN a minute), on
 * @fastify/rate-limit: registered without global hooks (so it counts nothing by itself),
 * its limiter is peeked at before a token is checked (`increment: false`) and incremented
 * only when authentication fails. Successful requests never spend the budget; once it is
 * spent every authenticated route answers 429 from that address until the window ends,
 * valid token or not (a token that worked would otherwise tell a guesser it is right).
 */
@Injectable()
export class AuthFailureLimiter implements OnModuleInit {
  private readonly logger = new Logger(AuthFailureLimiter.name);
  private limiter?: Limiter;

  constructor(
    private readonly config: ForestConfig,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  async onModuleInit(): Promise<void> {
    if (this.config.auth !== 'on') return;
    const fastify = this.adapterHost.httpAdapter?.getInstance<FastifyInstance>();
    if (!fastify || typeof fastify.register !== 'function') return; // not a Fastify app
    if (!fastify.hasDecorator('createRateLimit')) {
      await fastify.register(fastifyRateLimit, { global: false });
    }
    this.limiter = fastify.createRateLimit({
      max: this.config.authFailuresPerMinute,
      timeWindow: WINDOW_MS,
    });
  }

  /** Seconds to wait when the address spent its budget; undefined when it may try. */
  async blockedFor(request: FastifyRequest): Promise<number | undefined> {
    if (!this.limiter) return undefined;
    const state = await this.limiter(request, { increment: false });
    if (state.isAllowed || state.remaining > 0) return undefined;
    return Math.max(1, state.ttlInSeconds);
  }

  /** Counts one failed authentication from the request's address. */
  async recordFailure(request: FastifyRequest): Promise<void> {
    if (!this.limiter) return;
    const state = await this.limiter(request);
    if (!state.isAllowed && state.remaining === 0) {
      this.logger.warn(
        `address=${request.ip} reached ${this.config.authFailuresPerMinute} failed ` +
          'authentications in a minute: refused (429) until the minute ends',
      );
    }
  }
}
