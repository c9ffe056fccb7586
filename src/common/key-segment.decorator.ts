import { applyDecorators } from '@nestjs/common';
import { IsString, Matches, NotEquals } from 'class-validator';
import { KEY_SEGMENT_PATTERN } from '@forest/store';

/**
 * For names that become store key segments (group, job id, worker id, plugin names):
 * `[A-Za-z0-9._-]{1,64}` and not `.` or `..`, so no input can reach another key.
 * `each` validates every element of an array.
 */
export function IsKeySegment(what: string, options: { each?: boolean } = {}): PropertyDecorator {
  const each = options.each ?? false;
  const message = `${what} must be 1-64 characters of A-Z a-z 0-9 . _ - (got "$value")`;
  return applyDecorators(
    IsString({ each, message: `${what} must be a string` }),
    Matches(KEY_SEGMENT_PATTERN, { each, message }),
    NotEquals('.', { each, message }),
    NotEquals('..', { each, message }),
  );
}
