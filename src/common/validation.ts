import { ArgumentMetadata, Type, ValidationError, ValidationPipe } from '@nestjs/common';
import { plainToInstance, classToPlain, ClassTransformOptions } from 'class-transformer';
import { getMetadataStorage, ValidationTypes } from 'class-validator';
import { ValidationFailedError } from './domain-error';

export interface FieldProblem {
  field: string;
  problems: string[];
}

/** At most this many field problems are listed in a 400; the rest are counted. */
export const MAX_LISTED_PROBLEMS = 20;
/** Client input (a field name, a value) is quoted in messages up to this many characters. */
export const MAX_QUOTED_INPUT = 64;
/** No single problem message is longer than this. */
const MAX_PROBLEM_LENGTH = 300;

/** A short prefix of client input, for messages. */
function shorten(text: string, max = MAX_QUOTED_INPUT): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/**
 * A problem message with the client's own input (the property name, the value) shortened:
 * class-validator messages may repeat both in full (`property <name> should not exist`,
 * `(got "$value")`), and both can be as long as the body.
 */
function boundProblem(problem: string, property: string, value: unknown): string {
  let text = problem;
  if (property.length > MAX_QUOTED_INPUT) text = text.split(property).join(shorten(property));
  if (typeof value === 'string' && value.length > MAX_QUOTED_INPUT) {
    text = text.split(value).join(shorten(value));
  }
  return text.length > MAX_PROBLEM_LENGTH ? `${text.slice(0, MAX_PROBLEM_LENGTH)}…` : text;
}

/** Flattens class-validator's tree into `a.b[0].c: problem` entries. */
export function flattenValidationErrors(errors: ValidationError[], parent = ''): FieldProblem[] {
  return errors.flatMap((error) => {
    const property = shorten(error.property);
    const field = /^\d+$/.test(error.property)
      ? `${parent}[${property}]`
      : parent
        ? `${parent}.${property}`
        : property;
    const own = error.constraints
      ? [
          {
            field,
            problems: Object.values(error.constraints).map((p) =>
              boundProblem(stripField(p, error.property), error.property, error.value),
            ),
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
 * The one ValidationFailedError for a list of field problems: at most MAX_LISTED_PROBLEMS
 * are listed (message and details), then "and N more".
 */
export function validationFailed(
  fields: FieldProblem[],
  total = fields.length,
): ValidationFailedError {
  const listed = fields.slice(0, MAX_LISTED_PROBLEMS);
  const more = total - listed.length;
  const message =
    listed.map((f) => `${f.field}: ${f.problems.join('; ')}`).join(', ') +
    (more > 0 ? `, and ${more} more` : '');
  return new ValidationFailedError(message || 'invalid request', listed);
}

// ---------------------------------------------------------------------------------------
// Unknown keys, found cheaply: one pass over the plain value guided by the DTO's metadata,
// before class-transformer copies it (whose per-object key de-duplication is quadratic:
// 20,000 keys in one object take over 100 ms) and class-validator builds one error each.

interface DtoShape {
  /** Every property with validation metadata: what whitelist lets through. */
  known: Set<string>;
  /** Properties validated as nested DTOs (@ValidateNested + @Type): their class. */
  nested: Map<string, Type<unknown>>;
}

interface TypeMetadataStorage {
  findTypeMetadata(
    target: object,
    property: string,
  ): { typeFunction: (options?: unknown) => unknown } | undefined;
}

interface TransformerStorage {
  defaultMetadataStorage: TypeMetadataStorage;
}

// class-transformer keeps @Type metadata in this singleton and exports it only here.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const transformerStorage = require('class-transformer/cjs/storage') as TransformerStorage;
const typeMetadata = transformerStorage.defaultMetadataStorage;

const shapes = new WeakMap<object, DtoShape>();

function shapeOf(dto: Type<unknown>): DtoShape {
  let shape = shapes.get(dto);
  if (shape) return shape;
  const metadatas = getMetadataStorage().getTargetValidationMetadatas(dto, '', false, false);
  shape = { known: new Set(), nested: new Map() };
  for (const metadata of metadatas) {
    shape.known.add(metadata.propertyName);
    if (metadata.type !== ValidationTypes.NESTED_VALIDATION) continue;
    try {
      const nested = typeMetadata.findTypeMetadata(dto, metadata.propertyName)?.typeFunction();
      if (typeof nested === 'function') {
        shape.nested.set(metadata.propertyName, nested as Type<unknown>);
      }
    } catch {
      // a @Type function that needs a value: leave the property to class-validator
    }
  }
  shapes.set(dto, shape);
  return shape;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** Collects `path: property x should not exist` problems (the first `limit`) and counts all. */
function findUnknownKeys(
  dto: Type<unknown>,
  value: Record<string, unknown>,
  parent: string,
  found: { fields: FieldProblem[]; total: number; limit: number },
): void {
  const shape = shapeOf(dto);
  if (shape.known.size === 0) return; // no rules: class-validator decides (forbidUnknownValues)
  for (const key of Object.keys(value)) {
    if (!shape.known.has(key)) {
      if (++found.total <= found.limit) {
        const name = shorten(key);
        found.fields.push({
          field: parent ? `${parent}.${name}` : name,
          problems: [`property ${name} should not exist`],
        });
      }
      continue;
    }
    const nested = shape.nested.get(key);
    if (!nested) continue;
    const child = value[key];
    const field = parent ? `${parent}.${key}` : key;
    if (Array.isArray(child)) {
      child.forEach((item, index) => {
        if (isPlainObject(item)) findUnknownKeys(nested, item, `${field}[${index}]`, found);
      });
    } else if (isPlainObject(child)) {
      findUnknownKeys(nested, child, field, found);
    }
  }
}

// ---------------------------------------------------------------------------------------
// Wide free-form objects (a job's params, a strategy's options) are set aside while
// class-transformer copies the DTO, and put back after: it would copy them key by key in
// quadratic time, and, having no type, only as plain copies of the same values.

/** Objects with more keys than this are set aside. */
const WIDE_OBJECT_KEYS = 256;

type Path = (string | number)[];

function setAsideWide(
  value: unknown,
  path: Path,
  aside: { path: Path; holder: Record<string | number, unknown>; value: unknown }[],
): void {
  if (value === null || typeof value !== 'object') return;
  const holder = value as Record<string | number, unknown>;
  const keys = Array.isArray(value) ? value.keys() : Object.keys(value);
  for (const key of keys) {
    const child = holder[key];
    if (isPlainObject(child) && Object.keys(child).length > WIDE_OBJECT_KEYS) {
      aside.push({ path: [...path, key], holder, value: child });
      holder[key] = {};
    } else {
      setAsideWide(child, [...path, key], aside);
    }
  }
}

/** class-transformer's plainToInstance, with wide free-form objects set aside (see above). */
export function plainToInstanceSettingAside<T>(
  cls: Type<T>,
  plain: unknown,
  options?: ClassTransformOptions,
): T | T[] {
  const aside: { path: Path; holder: Record<string | number, unknown>; value: unknown }[] = [];
  setAsideWide(plain, [], aside);
  try {
    const entity = plainToInstance(cls, plain, options) as T | T[];
    for (const { path, value } of aside) {
      let target: unknown = entity;
      for (const key of path.slice(0, -1)) {
        target =
          target !== null && typeof target === 'object'
            ? (target as Record<string | number, unknown>)[key]
            : undefined;
      }
      if (target !== null && typeof target === 'object') {
        (target as Record<string | number, unknown>)[path[path.length - 1]] = value;
      }
    }
    return entity;
  } finally {
    for (const { path, holder, value } of aside) holder[path[path.length - 1]] = value;
  }
}

/**
 * A hand-written check for a DTO on a hot path (the worker reports: thousands a second),
 * where class-validator costs about 10 µs per item. It must accept only values the DTO's
 * decorators accept too (a subset; a test holds it to that): whatever it does not accept
 * goes through class-validator as usual, which also names the problem, so the answers to
 * bad input stay the same. An accepted value reaches the handler as the plain parsed
 * object, not a DTO instance.
 */
export type FastCheck = (value: unknown) => boolean;
const fastChecks = new Map<unknown, FastCheck>();

/** Class decorator: the body DTO's FastCheck. */
export function FastPath(check: FastCheck): ClassDecorator {
  return (target) => {
    fastChecks.set(target, check);
  };
}

/**
 * The global pipe: strips nothing silently (unknown fields are an error, so a typo in a
 * field name is reported instead of ignored), transforms into DTO instances, and turns
 * failures into one ValidationFailedError whose message lists the fields (at most
 * MAX_LISTED_PROBLEMS of them, client input quoted shortly). Unknown fields are found in
 * one linear pass before anything else, so a body of 20,000 unknown keys costs
 * milliseconds and answers a short 400.
 */
class ForestValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const metatype = metadata.metatype;
    // A hot body its DTO's fast check accepts is passed as it is (see FastPath).
    if (metatype && fastChecks.get(metatype)?.(value)) return value;
    if (metatype && this.toValidate(metadata) && isPlainObject(value)) {
      const found = { fields: [] as FieldProblem[], total: 0, limit: MAX_LISTED_PROBLEMS };
      findUnknownKeys(metatype as Type<unknown>, value, '', found);
      if (found.total > 0) throw validationFailed(found.fields, found.total);
    }
    return super.transform(value, metadata) as Promise<unknown>;
  }
}

export function createValidationPipe(): ValidationPipe {
  return new ForestValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    transformerPackage: { plainToInstance: plainToInstanceSettingAside, classToPlain },
    exceptionFactory: (errors) => validationFailed(flattenValidationErrors(errors)),
  });
}
