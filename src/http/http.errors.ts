import { DomainError } from '../common/domain-error';

/** A JSON body nests objects and arrays deeper than FOREST_JSON_MAX_DEPTH. */
export class JsonTooDeepError extends DomainError {
  constructor(maxDepth: number) {
    super(
      'invalid',
      'JSON_TOO_DEEP',
      `the JSON body nests objects and arrays deeper than ${maxDepth} levels`,
      { maxDepth },
    );
  }
}

/** A JSON body has more object keys and array items in all than FOREST_JSON_MAX_KEYS. */
export class JsonTooWideError extends DomainError {
  constructor(maxKeys: number) {
    super(
      'invalid',
      'JSON_TOO_WIDE',
      `the JSON body has more than ${maxKeys} object keys and array items in all`,
      { maxKeys },
    );
  }
}
