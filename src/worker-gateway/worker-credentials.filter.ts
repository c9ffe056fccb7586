import { ArgumentsHost, Catch, ExceptionFilter } from '@nestjs/common';
import { FastifyReply } from 'fastify';
import { ErrorResponseDto } from '../common/error-response.dto';
import { WorkerCredentialsError } from './worker.errors';

/**
 * Answers a refused worker credential (401 / 403) in the one error shape; a 401 says which
 * scheme to use. Everything else goes on to ForestExceptionFilter.
 */
@Catch(WorkerCredentialsError)
export class WorkerCredentialsFilter implements ExceptionFilter<WorkerCredentialsError> {
  catch(error: WorkerCredentialsError, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const body: ErrorResponseDto = {
      status: error.status,
      code: error.code,
      message: error.message,
    };
    if (error.status === 401) void reply.header('www-authenticate', 'Bearer realm="forest"');
    void reply.status(error.status).header('content-type', 'application/json').send(body);
  }
}
