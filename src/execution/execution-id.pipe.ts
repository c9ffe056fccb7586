import { Injectable, PipeTransform } from '@nestjs/common';
import { ValidationFailedError } from '../common/domain-error';
import { isValidExecutionId } from './execution-query';

/** Validates an execution id path parameter: `{jobId}~{execKey}`, both key segments. */
@Injectable()
export class ExecutionIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!isValidExecutionId(value)) {
      const problem =
        'must be an execution id as the API returns it, `{jobId}~{execKey}` ' +
        `(got "${value.slice(0, 160)}")`;
      throw new ValidationFailedError(`id: ${problem}`, [{ field: 'id', problems: [problem] }]);
    }
    return value;
  }
}
