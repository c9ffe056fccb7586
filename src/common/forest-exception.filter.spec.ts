import { ArgumentsHost, BadRequestException, HttpException, Logger } from '@nestjs/common';
import {
  StoreAccessDeniedError,
  StoreClosedError,
  StoreError,
  StoreUnavailableError,
} from '@forest/store';
import { DomainError } from './domain-error';
import {
  ForestExceptionFilter,
  isClientAbortError,
  toErrorResponse,
} from './forest-exception.filter';

function fakeHost(raw: { aborted?: boolean; destroyed?: boolean } = {}) {
  const headers: Record<string, string> = {};
  const sent: { status?: number; body?: unknown } = {};
  const reply = {
    header: (name: string, value: string) => {
      headers[name.toLowerCase()] = value;
      return reply;
    },
    status: (status: number) => {
      sent.status = status;
      return reply;
    },
    send: (body: unknown) => {
      sent.body = body;
      return reply;
    },
  };
  const request = {
    method: 'POST',
    url: '/api/jobs',
    raw: { aborted: raw.aborted ?? false, socket: { destroyed: raw.destroyed ?? false } },
  };
  const host = {
    switchToHttp: () => ({ getResponse: () => reply, getRequest: () => request }),
  } as unknown as ArgumentsHost;
  return { host, headers, sent };
}

describe('toErrorResponse: store errors', () => {
  it.each([
    [
      'StoreUnavailableError',
      new StoreUnavailableError('etcd unavailable: circuit breaker is open'),
    ],
    ['StoreAccessDeniedError', new StoreAccessDeniedError('etcd refused the credentials')],
    ['StoreClosedError', new StoreClosedError()],
  ])('%s is 503 STORE_UNAVAILABLE without internals', (_name, error) => {
    const body = toErrorResponse(error);
    expect(body).toMatchObject({ status: 503, code: 'STORE_UNAVAILABLE' });
    expect(body.message).not.toMatch(/etcd|circuit|credentials/);
  });

  it('a store error that is not "try later" stays a 500', () => {
    expect(toErrorResponse(new StoreError('embedded store: writing the log failed'))).toMatchObject(
      {
        status: 500,
        code: 'INTERNAL',
      },
    );
  });
});

describe('ForestExceptionFilter', () => {
  let warn: jest.SpyInstance;
  let error: jest.SpyInstance;
  let debug: jest.SpyInstance;

  beforeEach(() => {
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    error = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    debug = jest.spyOn(Logger.prototype, 'debug').mockImplementation(() => undefined);
  });

  afterEach(() => jest.restoreAllMocks());

  it('answers a store outage 503 with Retry-After, logs one line without a stack, then holds back', () => {
    const filter = new ForestExceptionFilter();
    for (let i = 0; i < 5; i++) {
      const { host, headers, sent } = fakeHost();
      filter.catch(new StoreUnavailableError('etcd unavailable: circuit breaker is open'), host);
      expect(sent.status).toBe(503);
      expect(headers['retry-after']).toMatch(/^[1-5]$/);
      expect(sent.body).toMatchObject({ status: 503, code: 'STORE_UNAVAILABLE' });
    }
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]).toHaveLength(1); // a message, no stack
    expect(warn.mock.calls[0][0]).toMatch(/503 STORE_UNAVAILABLE: etcd unavailable/);
    expect(error).not.toHaveBeenCalled();
  });

  it('logs refused credentials as an error line, still without a stack', () => {
    const { host } = fakeHost();
    new ForestExceptionFilter().catch(new StoreAccessDeniedError('etcd refused'), host);
    expect(error).toHaveBeenCalledTimes(1);
    expect(error.mock.calls[0]).toHaveLength(1);
  });

  it('every 503 carries Retry-After, a DomainError may set its own', () => {
    const filter = new ForestExceptionFilter();
    const noLeader = fakeHost();
    filter.catch(new DomainError('unavailable', 'NO_LEADER', 'no leader'), noLeader.host);
    expect(noLeader.headers['retry-after']).toBe('2');
    const hinted = fakeHost();
    filter.catch(
      Object.assign(new DomainError('unavailable', 'BUSY', 'busy'), { retryAfterS: 5 }),
      hinted.host,
    );
    expect(hinted.headers['retry-after']).toBe('5');
    const notFound = fakeHost();
    filter.catch(new DomainError('not_found', 'X', 'x'), notFound.host);
    expect(notFound.headers['retry-after']).toBeUndefined();
  });

  it('an upload the client aborted is a debug line, not a 500 with a stack', () => {
    const aborted = Object.assign(new Error('aborted'), { code: 'ECONNRESET', statusCode: 400 });
    expect(isClientAbortError(aborted)).toBe(true);
    const { host, sent } = fakeHost({ aborted: true });
    new ForestExceptionFilter().catch(aborted, host);
    expect(sent.status).toBe(400);
    expect(sent.body).toMatchObject({ code: 'REQUEST_ABORTED' });
    expect(debug).toHaveBeenCalledTimes(1);
    expect(error).not.toHaveBeenCalled();
    expect(warn).not.toHaveBeenCalled();
  });

  it('a Fastify body error of a client that hung up (content length mismatch) is quiet too', () => {
    const { host, sent } = fakeHost({ destroyed: true });
    new ForestExceptionFilter().catch(
      new HttpException('Request body size did not match Content-Length', 400),
      host,
    );
    expect(sent.status).toBe(400);
    expect(debug).toHaveBeenCalledTimes(1);
  });

  it('an unexpected error is still a 500 logged with its stack', () => {
    const { host, sent } = fakeHost();
    new ForestExceptionFilter().catch(new TypeError('bug'), host);
    expect(sent.status).toBe(500);
    expect(error).toHaveBeenCalledWith(
      'request failed: INTERNAL',
      expect.stringContaining('TypeError: bug'),
    );
    expect(isClientAbortError(new BadRequestException('aborted'))).toBe(false);
  });
});
