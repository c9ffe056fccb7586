import { Injectable, PipeTransform } from '@nestjs/common';
import { isValidKeySegment } from '@forest/store';
import { ValidationFailedError } from './domain-error';

/** Validates a path parameter that names a key segment (group name, job id...). */
@Injectable()
export class KeySegmentPipe implements PipeTransform<string, string> {
  constructor(private readonly what: string) {}

  transform(value: string): string {
    if (!isValidKeySegment(value)) {
      const problem = `must be 1-64 characters of A-Z a-z 0-9 . _ - (got "${value.slice(0, 80)}")`;
      throw new ValidationFailedError(`${this.what}: ${problem}`, [
        { field: this.what, problems: [problem] },
      ]);
    }
    return value;
  }
}
