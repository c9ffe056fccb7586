import { ArgumentsHost, Catch, ExceptionFilter } from '@nestjs/common';
import { FastifyReply } from 'fastify';
import { ErrorResponseDto } from '../common/error-response.dto';
import { AuthError } from './auth.errors';

/** Answers AuthErrors (401, 403, 429) in the one error shape, with their headers. */
@Catch(AuthError)
export class AuthExceptionFilter implements ExceptionFilter<AuthError> {
  catch(error: AuthError, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const body: ErrorResponseDto = {
      status: error.statusCode,
      code: error.code,
      message: error.message,
    };
    void reply.headers({ ...error.headers, 'content-type': 'application/json' });
    void reply.status(error.statusCode).send(body);
  }
}
