import { HttpException } from '@nestjs/common';

/** Seconds a refused client should wait before trying to open a stream again. */
export const STREAMS_RETRY_AFTER_S = 5;

/** The node already serves FOREST_EVENTS_MAX_STREAMS streams: 429 with Retry-After. */
export class TooManyStreamsError extends HttpException {
  constructor(readonly max: number) {
    super(
      {
        message:
          `this node already serves ${max} event streams (FOREST_EVENTS_MAX_STREAMS): ` +
          `retry in ${STREAMS_RETRY_AFTER_S} s or use another node`,
      },
      429,
    );
  }
}
