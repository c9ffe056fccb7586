import { createHmac, timingSafeEqual } from 'node:crypto';
import { ForestAlert, PluginSettings } from '@forest/plugin-api';
import { HttpDeliveryOptions, readDeliveryOptions, readHttpUrl, USER_AGENT } from './http-delivery';

/**
 * The `webhook` channel's request: the alert as JSON, with headers that name the event and
 * alert, and an optional HMAC signature.
 *
 * Signature (when FOREST_WEBHOOK_SECRET is set):
 *
 *     X-Forest-Timestamp: <unix seconds>
 *     X-Forest-Signature-256: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>
 *
 * The timestamp is inside the signed text, so a captured request cannot be replayed later
 * with a new timestamp. A receiver verifies it like `verifyWebhookSignature` below:
 * recompute the HMAC over the raw body bytes as received (not re-serialised JSON), compare
 * with a constant-time comparison, and reject timestamps older than a few minutes. Use the
 * alert id (X-Forest-Alert-Id) to drop duplicates: a retry after a timeout may deliver an
 * alert twice.
 */

export const SIGNATURE_HEADER = 'X-Forest-Signature-256';
export const TIMESTAMP_HEADER = 'X-Forest-Timestamp';
export const EVENT_HEADER = 'X-Forest-Event';
export const ALERT_ID_HEADER = 'X-Forest-Alert-Id';

/** Headers the channel sets itself; FOREST_WEBHOOK_HEADERS may not replace them. */
const RESERVED_HEADERS = [
  'content-type',
  'content-length',
  'host',
  SIGNATURE_HEADER.toLowerCase(),
  TIMESTAMP_HEADER.toLowerCase(),
  EVENT_HEADER.toLowerCase(),
  ALERT_ID_HEADER.toLowerCase(),
];
/** RFC 9110 token characters. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export interface WebhookSettings {
  /** Unset: the channel is loaded but every send fails with a message saying so. */
  readonly url?: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly secret?: string;
  readonly delivery: HttpDeliveryOptions;
}

/** Reads and checks the FOREST_WEBHOOK_* settings; throws naming the bad variable. */
export function readWebhookSettings(settings: PluginSettings): WebhookSettings {
  return {
    url: readHttpUrl(settings, 'FOREST_WEBHOOK_URL'),
    headers: parseExtraHeaders(
      'FOREST_WEBHOOK_HEADERS',
      settings.json<unknown>('FOREST_WEBHOOK_HEADERS', {}),
    ),
    secret: settings.get('FOREST_WEBHOOK_SECRET'),
    delivery: readDeliveryOptions(settings, 'FOREST_WEBHOOK'),
  };
}

/** Checks a parsed JSON value is an object of header names to string values. */
export function parseExtraHeaders(name: string, value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    const got = value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
    throw new Error(`${name}: must be a JSON object of header names to string values (got ${got})`);
  }
  const headers: Record<string, string> = {};
  for (const [header, headerValue] of Object.entries(value)) {
    if (!HEADER_NAME.test(header)) {
      throw new Error(`${name}: "${header}" is not a valid header name`);
    }
    if (RESERVED_HEADERS.includes(header.toLowerCase())) {
      throw new Error(`${name}: "${header}" is set by the webhook channel and cannot be replaced`);
    }
    // Values are not echoed: custom headers are where API keys go.
    if (typeof headerValue !== 'string') {
      throw new Error(`${name}: the value of "${header}" must be a string`);
    }
    if (/[\r\n\0]/.test(headerValue)) {
      throw new Error(`${name}: the value of "${header}" contains a line break or NUL`);
    }
    headers[header] = headerValue;
  }
  return headers;
}

/** `sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`. */
export function signWebhookBody(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** The body and headers of one attempt; `nowMs` sets the signed timestamp. */
export function buildWebhookRequest(
  alert: ForestAlert,
  options: { readonly headers: Readonly<Record<string, string>>; readonly secret?: string },
  nowMs: number,
): { body: string; headers: Record<string, string> } {
  const body = JSON.stringify(alert);
  const custom = options.headers;
  const hasUserAgent = Object.keys(custom).some((h) => h.toLowerCase() === 'user-agent');
  const headers: Record<string, string> = {
    ...(hasUserAgent ? {} : { 'User-Agent': USER_AGENT }),
    ...custom,
    'Content-Type': 'application/json',
    [EVENT_HEADER]: alert.event,
    [ALERT_ID_HEADER]: alert.id,
  };
  if (options.secret !== undefined) {
    const timestamp = Math.floor(nowMs / 1000);
    headers[TIMESTAMP_HEADER] = String(timestamp);
    headers[SIGNATURE_HEADER] = signWebhookBody(options.secret, timestamp, body);
  }
  return { body, headers };
}

/**
 * The receiving side, for receivers written in TypeScript and as the reference for others:
 * true when `signature` is the HMAC of `timestamp` and the raw `body` under `secret`, and
 * the timestamp is within `toleranceS` of now (either way, for clock skew).
 */
export function verifyWebhookSignature(input: {
  secret: string;
  body: string | Buffer;
  signature: string | undefined;
  timestamp: string | undefined;
  toleranceS?: number;
  nowMs?: number;
}): boolean {
  const { secret, body, signature, timestamp } = input;
  if (!signature || !timestamp || !/^\d+$/.test(timestamp)) return false;
  const ageS = Math.abs((input.nowMs ?? Date.now()) / 1000 - Number(timestamp));
  if (ageS > (input.toleranceS ?? 300)) return false;
  const expected = Buffer.from(
    `sha256=${createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex')}`,
  );
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
