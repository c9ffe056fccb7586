import { hostname, networkInterfaces } from 'node:os';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ForestConfig } from '../config/forest.config';
import type { ErrorResponseDto } from '../common/error-response.dto';

const WILDCARDS = new Set(['0.0.0.0', '::', '[::]', '']);
const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** What a Host header (host[:port]) may hold at all: names, IPv4, bracketed IPv6. */
const HOST_HEADER = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(:\d{1,5})?$/;

/**
 * The canonical form of a host name or address: the WHATWG URL parser's (lower case,
 * IDNA, IPv4 and IPv6 normalised, IPv6 without brackets), no trailing dot.
 */
export function canonicalHost(host: string): string | undefined {
  let text = host.trim();
  if (text.includes(':') && !text.startsWith('[')) text = `[${text}]`; // bare IPv6
  try {
    const name = new URL(`http://${text}`).hostname;
    return name.replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
  } catch {
    return undefined;
  }
}

/** The host part of a Host header value, canonical, or undefined when it is not one. */
export function hostOfHeader(header: string | undefined): string | undefined {
  if (header === undefined || !HOST_HEADER.test(header)) return undefined;
  const match = /^(\[[^\]]+\]|[^:]+)/.exec(header);
  return match ? canonicalHost(match[1]) : undefined;
}

/** An allowed-hosts entry may carry a port (ignored: any port is allowed). */
function canonicalEntry(entry: string): string | undefined {
  const text = entry.trim();
  if (text.startsWith('[')) return canonicalHost(text.slice(0, text.indexOf(']') + 1) || text);
  const colons = text.split(':').length - 1;
  return canonicalHost(colons === 1 ? text.slice(0, text.indexOf(':')) : text);
}

/**
 * The host names and addresses this node answers to (any port): loopback, this machine's
 * name, FOREST_ADVERTISE_URL's host, the listen address (every local interface address
 * when it is a wildcard: an IP address cannot be rebound, and probes often use it), and
 * FOREST_ALLOWED_HOSTS.
 */
export function allowedHosts(config: ForestConfig): Set<string> {
  const entries = ['localhost', '127.0.0.1', '::1', hostname(), ...config.allowedHosts];
  try {
    entries.push(new URL(config.advertiseUrl).hostname);
  } catch {
    // validated at start-up
  }
  if (WILDCARDS.has(config.httpHost)) {
    for (const addresses of Object.values(networkInterfaces())) {
      for (const address of addresses ?? []) entries.push(address.address.replace(/%.*$/, ''));
    }
  } else {
    entries.push(config.httpHost);
  }
  const hosts = new Set<string>();
  for (const entry of entries) {
    const host = canonicalEntry(entry);
    if (host) hosts.add(host);
  }
  return hosts;
}

export type RequestVerdict =
  | { ok: true }
  | { ok: false; status: number; code: 'HOST_NOT_ALLOWED' | 'ORIGIN_NOT_ALLOWED'; message: string };

/** A short, printable prefix of client input for an error message. */
export function quote(text: string, max = 64): string {
  const printable = text.replace(/[^\x20-\x7e]/g, '?');
  return JSON.stringify(printable.length > max ? `${printable.slice(0, max)}…` : printable);
}

/**
 * Decides whether a request may proceed, from its headers alone:
 * - its Host must name this node (DNS rebinding: a page of evil.example whose name now
 *   resolves to this node's address sends `Host: evil.example`) → else 421 HOST_NOT_ALLOWED;
 * - a state-changing request (POST, PUT, PATCH, DELETE) from a browser page of another
 *   site is refused (CSRF): an `Origin` must be one of FOREST_CORS_ORIGINS or name an
 *   allowed host, and `Sec-Fetch-Site: cross-site` without such an Origin is refused
 *   → 403 ORIGIN_NOT_ALLOWED. Requests without Origin (curl, the SDK, workers) pass.
 */
export class RequestOriginPolicy {
  private readonly hosts: Set<string>;
  private readonly corsOrigins: Set<string>;

  constructor(config: ForestConfig) {
    this.hosts = allowedHosts(config);
    this.corsOrigins = new Set(config.corsOrigins.map((origin) => new URL(origin).origin));
  }

  check(method: string, headers: FastifyRequest['headers']): RequestVerdict {
    const hostHeader = headers.host;
    const host = hostOfHeader(hostHeader);
    if (host === undefined || !this.hosts.has(host)) {
      return {
        ok: false,
        status: 421,
        code: 'HOST_NOT_ALLOWED',
        message:
          hostHeader === undefined
            ? 'the request has no Host header'
            : `host ${quote(hostHeader)} is not one this node answers to; add it to FOREST_ALLOWED_HOSTS`,
      };
    }
    if (!STATE_CHANGING.has(method)) return { ok: true };
    const origin = headers.origin;
    if (origin !== undefined) {
      if (this.originAllowed(origin)) return { ok: true };
      return {
        ok: false,
        status: 403,
        code: 'ORIGIN_NOT_ALLOWED',
        message: `origin ${quote(origin)} may not change state on this node; allow it with FOREST_CORS_ORIGINS`,
      };
    }
    if (headers['sec-fetch-site'] === 'cross-site') {
      return {
        ok: false,
        status: 403,
        code: 'ORIGIN_NOT_ALLOWED',
        message: 'a cross-site request may not change state on this node',
      };
    }
    return { ok: true };
  }

  private originAllowed(origin: string): boolean {
    if (origin === 'null') return false;
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      return false;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
    if (this.corsOrigins.has(url.origin)) return true;
    const host = canonicalHost(url.hostname);
    return host !== undefined && this.hosts.has(host);
  }
}

/** The onRequest hook that applies RequestOriginPolicy, answering in the one error shape. */
export function requestOriginHook(policy: RequestOriginPolicy) {
  return (request: FastifyRequest, reply: FastifyReply, done: () => void): void => {
    const verdict = policy.check(request.method, request.headers);
    if (verdict.ok) return done();
    const body: ErrorResponseDto = {
      status: verdict.status,
      code: verdict.code,
      message: verdict.message,
    };
    void reply
      .code(verdict.status)
      .header('content-type', 'application/json')
      .header('connection', 'close')
      .send(body);
  };
}
