import { Inject, Injectable } from '@nestjs/common';
import {
  DEFAULT_MAX_RESPONSE_BYTES,
  DEFAULT_RATE_LIMIT_DELAY_MS,
  DEFAULT_TIMEOUT_MS,
  describeRequest,
  ERROR_BODY_READ_LIMIT,
  HttpStatusError,
  parseRetryAfter,
  ProviderError,
  type ProviderRequest,
  type ProviderResponse,
} from '@pdeck/integration-sdk';
import { APP_CONFIG, type ResolvedAppConfig } from '../../core/config/app-config.js';
import { OriginMap } from './origin-map.js';
import { ProviderRequestObserver } from './request-observer.js';

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
