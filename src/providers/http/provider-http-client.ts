import { Inject, Injectable } from '@nestjs/common';
import { ProviderError } from '../errors/provider-error.js';
import { APP_CONFIG, type ResolvedAppConfig } from '../../core/config/app-config.js';
import { describeRequest, HttpStatusError } from './http-status-error.js';
import { OriginMap } from './origin-map.js';
import { ProviderRequestObserver } from './request-observer.js';
import { parseRetryAfter } from '../../core/http/retry-after.js';

export { HttpStatusError, isHttpStatusError } from './http-status-error.js';

export type QueryValue = string | number | boolean | undefined | string[];

export interface ProviderRequest {
  provider: string;
  /** Defaults to POST when a body (json, form or body) is given, GET otherwise. */
  method?: string;
  url: string | URL;
  /** Added to any query already in url; undefined values are skipped, arrays repeat the key. */
  query?: Record<string, QueryValue>;
  headers?: Record<string, string>;
  json?: unknown;
  form?: Record<string, string | undefined>;
  body?: string;
  /** Covers the whole exchange, body included. Default 15000. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Default 'json'; an empty body yields undefined. */
  expect?: 'json' | 'text' | 'none';
  /** Short label for logs and metrics, e.g. 'events.list'. */
  operation?: string;
  /**
   * 'follow' (default) follows redirects as fetch does. 'error' refuses them: a 3xx answer
   * fails the call (ProviderError UNKNOWN, detail `redirect_refused`) without following it or
   * reading its Location. Token and revocation endpoints use 'error': a credential posted there
   * must never be re-sent somewhere else.
   */
  redirect?: 'follow' | 'error';
  /**
   * The most response body bytes read (after decompression); a longer body fails the call
   * (ProviderError UNKNOWN, detail `response_too_large`) as soon as the limit is passed, never
   * buffering more. Default DEFAULT_MAX_RESPONSE_BYTES (1 MiB); listing pages declare
   * PAGE_MAX_RESPONSE_BYTES, token endpoints TOKEN_MAX_RESPONSE_BYTES.
   */
  maxResponseBytes?: number;
}

export interface ProviderResponse<T> {
  status: number;
  headers: Headers;
  data: T;
  /** The URL actually fetched (after origin mapping and redirects), without its query string. */
  url: string;
}

export const DEFAULT_TIMEOUT_MS = 15_000;
/** Response body cap of an ordinary API call. */
export const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024;
/**
 * Response body cap of a listing page whose size the provider sets (Google's events.list at
 * 2,500 events, Trello's open cards of a board): tens of kilobytes per item are documented.
 */
export const PAGE_MAX_RESPONSE_BYTES = 32 * 1024 * 1024;
/** Response body cap of token, revocation and OAuth 1.0a endpoints: their answers are a few hundred bytes. */
export const TOKEN_MAX_RESPONSE_BYTES = 64 * 1024;
/** How much of a non-2xx body is read for classification; the rest is discarded unread. */
export const ERROR_BODY_READ_LIMIT = 64 * 1024;
/** Used for a 429 without a usable Retry-After, so callers always get a concrete retryAt. */
export const DEFAULT_RATE_LIMIT_DELAY_MS = 60_000;

/**
 * The one way provider code talks HTTP. It owns what every provider shares (origin overrides,
 * timeouts, rate-limit and outage classification, safe logging) and leaves the meaning of
 * 4xx answers to each provider's error mapper via HttpStatusError.
 */
@Injectable()
export class ProviderHttpClient {
  private readonly origins: OriginMap;

  constructor(
    @Inject(APP_CONFIG) config: ResolvedAppConfig,
    private readonly observer: ProviderRequestObserver,
  ) {
    this.origins = new OriginMap(config.providerOrigins ?? {});
  }

  async request<T = unknown>(req: ProviderRequest): Promise<ProviderResponse<T>> {
    const url = this.origins.rewrite(req.url);
    appendQuery(url, req.query);
    const headers = new Headers(req.headers);
    const body = encodeBody(req, headers);
    const method = (req.method ?? (body === undefined ? 'GET' : 'POST')).toUpperCase();
    const expect = req.expect ?? 'json';
    if (expect === 'json' && !headers.has('accept')) headers.set('accept', 'application/json');

    const timeout = AbortSignal.timeout(req.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    const signal = req.signal ? AbortSignal.any([req.signal, timeout]) : timeout;
    const ctx = { provider: req.provider, operation: req.operation, method, url: stripQuery(url) };
    const started = performance.now();
    const limit = req.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    const redirect = req.redirect === 'error' ? 'manual' : 'follow';
    let status = 0;
    try {
      const res = await fetch(url, { method, headers, body, signal, redirect });
      status = res.status;
      const finalUrl = res.url ? stripQuery(new URL(res.url)) : ctx.url;
      if (redirect === 'manual' && status >= 300 && status < 400) {
        await res.body?.cancel().catch(() => undefined);
        throw redirectRefused(ctx, status);
      }
      if (res.ok) {
        const data = await readBody(res, expect, ctx, limit);
        return { status, headers: res.headers, data: data as T, url: finalUrl };
      }
      const text = await readText(res, Math.min(limit, ERROR_BODY_READ_LIMIT), ctx, 'truncate');
      throw this.classify(res, text, { ...ctx, url: finalUrl });
    } catch (err) {
      if (err instanceof ProviderError || err instanceof HttpStatusError) throw err;
      // The caller cancelled: that is their decision, not a provider failure, so pass it through.
      if (req.signal?.aborted) throw req.signal.reason;
      const what = timeout.aborted ? 'timed out' : 'network error';
      throw new ProviderError('TEMPORARY', `${describeRequest(ctx)}: ${what}`, {
        cause: err,
        provider: req.provider,
        status: status || undefined,
        operation: req.operation,
      });
    } finally {
      this.observe(ctx, url.host, status, performance.now() - started);
    }
  }

  /** Overridable so tests can pin the clock that Retry-After dates are measured against. */
  protected now(): Date {
    return new Date();
  }

  private classify(res: Response, text: string, ctx: RequestContext): Error {
    const status = res.status;
    const httpError = new HttpStatusError({ ...ctx, status, headers: res.headers, bodyText: text });
    const opts = { cause: httpError, provider: ctx.provider, status };
    const now = this.now();
    const retryAt = parseRetryAfter(res.headers.get('retry-after'), now);
    if (status === 429 || (status === 503 && retryAt)) {
      const at = retryAt ?? new Date(now.getTime() + DEFAULT_RATE_LIMIT_DELAY_MS);
      return new ProviderError('RATE_LIMITED', `${describeRequest(ctx)}: HTTP ${status}`, {
        ...opts,
        retryAt: at,
      });
    }
    if (status >= 500) {
      return new ProviderError('TEMPORARY', `${describeRequest(ctx)}: HTTP ${status}`, opts);
    }
    return httpError;
  }

  private observe(ctx: RequestContext, host: string, status: number, elapsed: number): void {
    const { provider, operation, method } = ctx;
    try {
      this.observer.observe({ provider, operation, method, host, status, ms: Math.round(elapsed) });
    } catch {
      // Telemetry must never fail a provider call.
    }
  }
}

interface RequestContext {
  provider: string;
  operation?: string;
  method: string;
  url: string;
}

function appendQuery(url: URL, query: ProviderRequest['query']): void {
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) url.searchParams.append(key, String(v));
  }
}

function encodeBody(req: ProviderRequest, headers: Headers): string | undefined {
  const given = [req.json !== undefined, req.form !== undefined, req.body !== undefined].filter(
    Boolean,
  );
  if (given.length > 1) throw new Error('ProviderHttpClient: give only one of json, form and body');
  const setType = (type: string) =>
    headers.has('content-type') || headers.set('content-type', type);
  if (req.json !== undefined) {
    setType('application/json');
    return JSON.stringify(req.json);
  }
  if (req.form !== undefined) {
    setType('application/x-www-form-urlencoded');
    const form = new URLSearchParams();
    for (const [k, v] of Object.entries(req.form)) if (v !== undefined) form.append(k, v);
    return form.toString();
  }
  return req.body;
}

async function readBody(
  res: Response,
  expect: ProviderRequest['expect'],
  ctx: RequestContext,
  limit: number,
): Promise<unknown> {
  if (expect === 'none') {
    await res.body?.cancel();
    return undefined;
  }
  const text = await readText(res, limit, ctx, 'fail');
  if (expect === 'text') return text;
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    // A 2xx that is not JSON is usually a proxy or maintenance page; worth a bounded retry.
    throw new ProviderError('UNKNOWN', `${describeRequest(ctx)}: response is not JSON`, {
      cause: err,
      provider: ctx.provider,
      status: res.status,
      detail: 'invalid_json',
      operation: ctx.operation,
    });
  }
}

/**
 * The body as UTF-8 text (a BOM dropped, as Response.text() does), reading at most `limit` bytes:
 * past it the stream is cancelled and the call fails ('fail'), or the text read so far is kept
 * ('truncate', for error bodies that are only classified). A Content-Length over the limit fails
 * before anything is read.
 */
async function readText(
  res: Response,
  limit: number,
  ctx: RequestContext,
  overflow: 'fail' | 'truncate',
): Promise<string> {
  const declared = Number(res.headers.get('content-length') ?? Number.NaN);
  if (overflow === 'fail' && Number.isFinite(declared) && declared > limit) {
    await res.body?.cancel().catch(() => undefined);
    throw tooLarge(ctx, res.status, limit);
  }
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (total + value.byteLength > limit) {
      await reader.cancel().catch(() => undefined);
      if (overflow === 'fail') throw tooLarge(ctx, res.status, limit);
      chunks.push(value.subarray(0, limit - total));
      total = limit;
      break;
    }
    chunks.push(value);
    total += value.byteLength;
  }
  return new TextDecoder('utf-8').decode(Buffer.concat(chunks, total));
}

function tooLarge(ctx: RequestContext, status: number, limit: number): ProviderError {
  return new ProviderError(
    'UNKNOWN',
    `${describeRequest(ctx)}: response body larger than ${limit} bytes`,
    { provider: ctx.provider, status, detail: 'response_too_large', operation: ctx.operation },
  );
}

/** The Location is never read: it can carry the credential the request was about. */
function redirectRefused(ctx: RequestContext, status: number): ProviderError {
  return new ProviderError(
    'UNKNOWN',
    `${describeRequest(ctx)}: redirect refused (HTTP ${status})`,
    {
      provider: ctx.provider,
      status,
      detail: 'redirect_refused',
      operation: ctx.operation,
    },
  );
}

function stripQuery(url: URL): string {
  return `${url.origin}${url.pathname}`;
}
