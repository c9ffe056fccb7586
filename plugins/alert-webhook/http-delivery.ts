import { setTimeout as sleep } from 'node:timers/promises';
import { AlertDelivery, delivered, deliveryFailed, PluginSettings } from '@forest/plugin-api';

/**
 * The HTTP delivery both channels of this plugin share: one POST, retried on errors that
 * may pass (network errors, timeouts, 5xx, 429) with exponential backoff, and given up at
 * once on errors that will not (other 4xx, redirects) or when the host aborts.
 *
 * A small loop rather than cockatiel's retry policy: cockatiel's backoff delay does not
 * listen to the abort signal (an abort during a 10 s backoff would wait it out), and the
 * Retry-After header and the "why did it fail" text would need a result-typed policy plus
 * a delegate backoff, which is more code than the loop below.
 */

export interface HttpDeliveryOptions {
  /** Per attempt, including reading the response. */
  readonly timeoutMs: number;
  /** Extra attempts after the first. */
  readonly retries: number;
  /** The delay before the first retry; doubled for each later one. */
  readonly backoffMs: number;
  /** No delay (backoff or Retry-After) is longer than this. */
  readonly maxBackoffMs: number;
}

export interface HttpPost {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export const MAX_BACKOFF_MS = 10_000;
export const USER_AGENT = 'forest-alert-webhook/1.0';
/** How much of an error response's body a failure quotes. */
const EXCERPT_CHARS = 200;

/** What one attempt came to. */
export type AttemptOutcome =
  | { readonly kind: 'ok'; readonly status: number }
  | { readonly kind: 'retry'; readonly error: string; readonly retryAfterMs?: number }
  | { readonly kind: 'fail'; readonly error: string }
  | { readonly kind: 'aborted' };

/**
 * POSTs `build()` until it is accepted, retries run out, or `signal` aborts. `build` runs
 * for every attempt so a signed request carries a fresh timestamp. Never throws.
 */
export async function postWithRetries(
  build: () => HttpPost,
  options: HttpDeliveryOptions,
  signal: AbortSignal,
  random: () => number = Math.random,
): Promise<AlertDelivery> {
  let attempts = 0;
  let lastError: string | undefined;
  const aborted = () =>
    deliveryFailed(
      attempts === 0
        ? 'aborted before the first attempt'
        : `aborted after ${attempts} attempt(s)${lastError ? `; last error: ${lastError}` : ''}`,
    );

  for (;;) {
    if (signal.aborted) return aborted();
    attempts++;
    const outcome = await attemptOnce(build(), options.timeoutMs, signal);
    switch (outcome.kind) {
      case 'ok':
        return delivered(`HTTP ${outcome.status} after ${attempts} attempt(s)`);
      case 'aborted':
        return aborted();
      case 'fail':
        return deliveryFailed(`${outcome.error} (after ${attempts} attempt(s))`);
      case 'retry':
        lastError = outcome.error;
    }
    if (attempts > options.retries) {
      return deliveryFailed(`${lastError} (gave up after ${attempts} attempt(s))`);
    }
    const delay =
      outcome.retryAfterMs !== undefined
        ? Math.min(outcome.retryAfterMs, options.maxBackoffMs)
        : backoffDelay(attempts, options.backoffMs, options.maxBackoffMs, random);
    try {
      await sleep(delay, undefined, { signal });
    } catch {
      return aborted();
    }
  }
}

/** One POST within its own timeout; `outer` aborting wins over everything. */
export async function attemptOnce(
  post: HttpPost,
  timeoutMs: number,
  outer: AbortSignal,
): Promise<AttemptOutcome> {
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(), timeoutMs);
  try {
    const response = await fetch(post.url, {
      method: 'POST',
      headers: post.headers,
      body: post.body,
      signal: AbortSignal.any([outer, timeout.signal]),
      // fetch would turn a POST into a GET on 301/302, and a redirect could carry a signed
      // body to another host: a moved endpoint is a configuration error to report.
      redirect: 'manual',
    });
    if (response.status >= 200 && response.status < 300) {
      // Not read: nobody needs it, and cancelling frees the connection now.
      await response.body?.cancel().catch(() => undefined);
      return { kind: 'ok', status: response.status };
    }
    const excerpt = bodyExcerpt(await response.text());
    return classifyResponse(response.status, excerpt, response.headers.get('retry-after'));
  } catch (error) {
    if (outer.aborted) return { kind: 'aborted' };
    if (timeout.signal.aborted) return { kind: 'retry', error: `timed out after ${timeoutMs}ms` };
    return { kind: 'retry', error: `network error: ${describeFetchError(error)}` };
  } finally {
    clearTimeout(timer);
  }
}

/** What a non-2xx response means: retry (5xx, 429) or fail at once (other statuses). */
export function classifyResponse(
  status: number,
  excerpt: string,
  retryAfter: string | null,
): AttemptOutcome {
  const error = `HTTP ${status}${excerpt ? `: ${excerpt}` : ''}`;
  if (status === 429 || status >= 500) {
    const retryAfterMs = parseRetryAfter(retryAfter);
    return retryAfterMs === undefined
      ? { kind: 'retry', error }
      : { kind: 'retry', error, retryAfterMs };
  }
  if (status >= 300 && status < 400) {
    return { kind: 'fail', error: `HTTP ${status}: redirects are not followed; set the final URL` };
  }
  return { kind: 'fail', error };
}

/**
 * Retry-After in whole seconds, as milliseconds; undefined when absent or an HTTP date
 * (rare from webhook receivers, so the usual backoff applies then).
 */
export function parseRetryAfter(value: string | null): number | undefined {
  if (value === null || !/^\s*\d+\s*$/.test(value)) return undefined;
  return Number(value) * 1000;
}

/**
 * The delay before retry number `retry` (1 for the first): `firstMs` doubled per retry,
 * capped, then spread by ±20% so many nodes retrying one receiver do not move in lockstep.
 */
export function backoffDelay(
  retry: number,
  firstMs: number,
  capMs: number,
  random: () => number = Math.random,
): number {
  const base = Math.min(capMs, firstMs * 2 ** (retry - 1));
  return Math.round(Math.min(capMs, base * (0.8 + 0.4 * random())));
}

/** The start of an error body on one line, for a failure message. */
export function bodyExcerpt(body: string): string {
  const line = body.replace(/\s+/g, ' ').trim();
  return line.length > EXCERPT_CHARS ? `${line.slice(0, EXCERPT_CHARS)}…` : line;
}

/**
 * fetch says only "fetch failed"; the cause says why (ECONNREFUSED, ENOTFOUND, ...). Duck
 * typed: fetch's errors may come from another realm (as under jest), failing instanceof.
 */
function describeFetchError(error: unknown): string {
  const { message, cause } = (error ?? {}) as { message?: unknown; cause?: unknown };
  if (typeof message !== 'string') return String(error);
  const { code, message: causeMessage } = (cause ?? {}) as { code?: unknown; message?: unknown };
  const why = typeof code === 'string' && code ? code : causeMessage;
  return typeof why === 'string' && why ? `${message} (${why})` : message;
}

/**
 * An http(s) URL setting, or undefined when unset. The value is not echoed in errors:
 * webhook URLs often carry a token (Slack's do), and boot errors end up in logs.
 */
export function readHttpUrl(settings: PluginSettings, name: string): string | undefined {
  const raw = settings.get(name);
  if (raw === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`${name}: not a valid URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`${name}: must be an http:// or https:// URL (got ${url.protocol})`);
  }
  return url.href;
}

/**
 * The retry settings of one channel: `${prefix}_TIMEOUT_MS` (default 5000),
 * `${prefix}_RETRIES` (default 3, 0..10) and `${prefix}_BACKOFF_MS` (default 500).
 * The defaults fit the host's default FOREST_ALERT_TIMEOUT_MS (30 s): four attempts of
 * 5 s plus 3.5 s of backoff.
 */
export function readDeliveryOptions(settings: PluginSettings, prefix: string): HttpDeliveryOptions {
  return {
    timeoutMs: settings.integer(`${prefix}_TIMEOUT_MS`, 5000, 10, 600_000),
    retries: settings.integer(`${prefix}_RETRIES`, 3, 0, 10),
    backoffMs: settings.integer(`${prefix}_BACKOFF_MS`, 500, 0, MAX_BACKOFF_MS),
    maxBackoffMs: MAX_BACKOFF_MS,
  };
}
