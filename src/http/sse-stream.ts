import { PassThrough } from 'node:stream';
import { FastifyReply } from 'fastify';
import { ValidationFailedError } from '../common/domain-error';

/**
 * The plumbing every server-sent-events route shares (live events, log follow): the
 * stream, the sink its producer writes to, the answer's headers, and `Last-Event-ID`.
 */

/** Where a stream's producer writes its events. */
export interface SseSink {
  write(text: string): void;
  /** Characters written but not yet taken by the connection (a slow client's backlog). */
  readonly queuedBytes: number;
  end(): void;
}

/**
 * A stream whose first line goes out at once (`: {banner}`), so the answer's headers leave
 * with it and the client knows the stream is open before the first event.
 */
export function openSseStream(banner: string): { stream: PassThrough; sink: SseSink } {
  const stream = new PassThrough();
  stream.write(`: ${banner}\n\n`);
  return {
    stream,
    sink: {
      write: (text) => void stream.write(text),
      get queuedBytes() {
        return stream.writableLength;
      },
      end: () => void stream.end(),
    },
  };
}

/** Answers with the stream; `onClose` runs when the connection closes (the client left). */
export function sendSseStream(reply: FastifyReply, stream: PassThrough, onClose: () => void): void {
  // Fastify destroys the stream when the connection closes.
  stream.once('close', onClose);
  void reply
    .status(200)
    .headers({
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      // Proxies (nginx) must pass events on as they come, not buffer them.
      'x-accel-buffering': 'no',
    })
    .send(stream);
}

/**
 * The `Last-Event-ID` to resume after: a whole number up to `max` of this stream's ids;
 * absent or blank: undefined; anything else a 400 that says what `problem` describes.
 */
export function parseLastEventId(
  value: string | undefined,
  max: number,
  problem: string,
): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const text = value.trim();
  if (!/^\d{1,16}$/.test(text) || Number(text) > max) {
    throw new ValidationFailedError(`Last-Event-ID: ${problem}`, [
      { field: 'Last-Event-ID', problems: [problem] },
    ]);
  }
  return Number(text);
}
