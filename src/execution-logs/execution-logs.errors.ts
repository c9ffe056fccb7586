import { HttpException } from '@nestjs/common';
import { DomainError } from '../common/domain-error';

/** Seconds a refused client should wait before opening a follow stream again. */
export const FOLLOW_RETRY_AFTER_S = 5;

/**
 * This node keeps no execution logs: on etcd without FOREST_HISTORY_URL logs have nowhere
 * to go (they never go into etcd). Answered to workers posting lines and to API readers.
 */
export class LogsNotKeptError extends DomainError {
  constructor() {
    super(
      'conflict',
      'LOGS_NOT_KEPT',
      'this node keeps no execution logs: on etcd they need a history database (FOREST_HISTORY_URL)',
    );
  }
}

/** The node already serves FOREST_LOG_FOLLOW_MAX_STREAMS follow streams: 429 with Retry-After. */
export class TooManyLogStreamsError extends HttpException {
  constructor(readonly max: number) {
    super(
      {
        message:
          `this node already serves ${max} log follow streams (FOREST_LOG_FOLLOW_MAX_STREAMS): ` +
          `retry in ${FOLLOW_RETRY_AFTER_S} s or use another node`,
      },
      429,
    );
  }
}
