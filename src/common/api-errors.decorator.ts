import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { ErrorResponseDto } from './error-response.dto';

const MEANING: Record<number, string> = {
  400: 'Invalid input: the message names each field and what to fix',
  404: 'Not found',
  409: 'Conflict: already exists, or changed since you read it',
  413: 'Too large',
  503: 'The coordination store or the leader is unavailable; retry shortly',
};

/** Documents error answers in Swagger, all in the one ErrorResponse shape. */
export function ApiErrors(
  ...statuses: (keyof typeof MEANING | { status: number; description: string })[]
) {
  return applyDecorators(
    ...statuses.map((entry) =>
      typeof entry === 'number'
        ? ApiResponse({ status: entry, description: MEANING[entry], type: ErrorResponseDto })
        : ApiResponse({
            status: entry.status,
            description: entry.description,
            type: ErrorResponseDto,
          }),
    ),
  );
}
