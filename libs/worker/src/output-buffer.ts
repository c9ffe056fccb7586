import { inspect, types } from 'node:util';

/** Cuts `text` to at most `maxBytes` UTF-8 bytes without splitting a character. */
export function cutUtf8(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return text;
  let end = Math.max(0, maxBytes);
  // Step back over continuation bytes (10xxxxxx) so a multi-byte character stays whole.
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString('utf8');
}

export function truncationMarker(droppedBytes: number): string {
  return `\n…[truncated: ${droppedBytes} more bytes not kept]\n`;
}

/**
 * Text bounded to `limitBytes` UTF-8 bytes: keeps the head; if more was written, the end
 * says how many bytes were cut. The result never exceeds the limit, marker included.
 */
export function boundText(text: string, limitBytes: number): string {
  const total = Buffer.byteLength(text, 'utf8');
  if (total <= limitBytes) return text;
  return withMarker(text, total, limitBytes);
}

function withMarker(head: string, totalBytes: number, limitBytes: number): string {
  // The marker's length depends on the number it shows; the bound is reached in two steps.
  let kept = cutUtf8(head, limitBytes - Buffer.byteLength(truncationMarker(totalBytes), 'utf8'));
  let marker = truncationMarker(totalBytes - Buffer.byteLength(kept, 'utf8'));
  kept = cutUtf8(kept, limitBytes - Buffer.byteLength(marker, 'utf8'));
  marker = truncationMarker(totalBytes - Buffer.byteLength(kept, 'utf8'));
  return kept + marker;
}

/** Collects an execution's output, keeping at most `limitBytes` (the head) in memory. */
export class OutputBuffer {
  private head = '';
  private headBytes = 0;
  private totalBytes = 0;

  constructor(private readonly limitBytes: number) {}

  append(text: string): void {
    if (text.length === 0) return;
    const bytes = Buffer.byteLength(text, 'utf8');
    this.totalBytes += bytes;
    if (this.headBytes >= this.limitBytes) return;
    const room = this.limitBytes - this.headBytes;
    const part = bytes <= room ? text : cutUtf8(text, room);
    this.head += part;
    this.headBytes += bytes <= room ? bytes : Buffer.byteLength(part, 'utf8');
  }

  get truncated(): boolean {
    return this.totalBytes > this.headBytes;
  }

  toString(): string {
    if (!this.truncated) return this.head;
    return withMarker(this.head, this.totalBytes, this.limitBytes);
  }
}

/** A value as text: strings as they are, anything else as JSON (or inspected, if JSON cannot). */
export function valueText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'bigint' || typeof value === 'symbol' || typeof value === 'function') {
    return String(value);
  }
  try {
    const json = JSON.stringify(value);
    if (json !== undefined) return json;
  } catch {
    // circular structures and throwing toJSON: fall through to inspect
  }
  return inspect(value, { depth: 4, breakLength: Infinity });
}

function isErrorLike(value: unknown): value is Error {
  return value instanceof Error || types.isNativeError(value);
}

/**
 * What a handler threw, as report text: an Error's message and stack (and its causes),
 * a string as it is, anything else as JSON.
 */
export function thrownText(thrown: unknown, depth = 0): string {
  if (!isErrorLike(thrown)) return valueText(thrown);
  const head = `${thrown.name}: ${thrown.message}`;
  const stack = typeof thrown.stack === 'string' ? thrown.stack : '';
  // V8 stacks start with "Name: message"; keep the message if a custom stack does not.
  let text = stack.includes(thrown.message) ? stack : stack ? `${head}\n${stack}` : head;
  const cause: unknown = thrown.cause;
  if (cause !== undefined && depth < 3) text += `\nCaused by: ${thrownText(cause, depth + 1)}`;
  return text;
}

/** A short reason for logs: the message, plus the system error code fetch hides in `cause`. */
export function reasonText(error: unknown): string {
  if (!isErrorLike(error)) return valueText(error);
  const cause = error.cause as { code?: unknown; message?: unknown } | undefined;
  const detail =
    cause && typeof cause === 'object'
      ? typeof cause.code === 'string'
        ? cause.code
        : typeof cause.message === 'string'
          ? cause.message
          : undefined
      : undefined;
  return detail ? `${error.message} (${detail})` : error.message;
}
