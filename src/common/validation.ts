import { ValidationError, ValidationPipe } from '@nestjs/common';
import { ValidationFailedError } from './domain-error';

export interface FieldProblem {
  field: string;
  problems: string[];
}

/** Flattens class-validator's tree into `a.b[0].c: problem` entries. */
export function flattenValidationErrors(errors: ValidationError[], parent = ''): FieldProblem[] {
  return errors.flatMap((error) => {
    const field = /^\d+$/.test(error.property)
      ? `${parent}[${error.property}]`
      : parent
        ? `${parent}.${error.property}`
        : error.property;
    const own = error.constraints
      ? [
          {
            field,
            problems: Object.values(error.constraints).map((p) => stripField(p, error.property)),
          },
        ]
      : [];
    return [...own, ...flattenValidationErrors(error.children ?? [], field)];
  });
}

/** class-validator messages start with the property name; we prefix the full path instead. */
function stripField(problem: string, property: string): string {
  return problem.startsWith(`${property} `) ? problem.slice(property.length + 1) : problem;
}

/**
 * The global pipe: strips nothing silently (unknown fields are an error, so a typo in a
 * field name is reported instead of ignored), transforms into DTO instances, and turns
 * failures into one ValidationFailedError whose message lists every field.
 */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    exceptionFactory: (errors) => {
      const fields = flattenValidationErrors(errors);
      const message = fields.map((f) => `${f.field}: ${f.problems.join('; ')}`).join(', ');
      return new ValidationFailedError(message || 'invalid request', fields);
    },
  });
}
