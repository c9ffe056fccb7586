import { Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { AuthExceptionFilter } from './auth-exception.filter';
import { AuthFailureLimiter } from './auth-failure.limiter';
import { AuthGuard } from './auth.guard';
import { TokenRepository } from './token.repository';
import { TokenService } from './token.service';
import { TokensController } from './tokens.controller';

/**
 * Authentication and roles: API tokens (stored hashed under `tokens/`), the tokens API,
 * the first admin token, and the global guard every route goes through (see access.ts).
 */
@Module({
  controllers: [TokensController],
  providers: [
    TokenRepository,
    TokenService,
    AuthFailureLimiter,
    { provide: APP_GUARD, useClass: AuthGuard },
    { provide: APP_FILTER, useClass: AuthExceptionFilter },
  ],
  exports: [TokenService, AuthFailureLimiter],
})
export class AuthModule {}
