import type { IncomingMessage } from 'node:http';
import { stdSerializers } from 'pino';

/** What pino-http hands a wrapped `req` serializer: pino-std-serializers' view of the request. */
export interface SerializableRequest {
  id?: unknown;
  method?: string;
  url?: string;
  raw?: IncomingMessage;
}

export interface LoggedRequest {
  id: unknown;
  method: string | undefined;
  url: string | undefined;
}

/**
 * Drops the query string and fragment. OAuth callbacks carry `code` and `state` in the query,
 * and webhook URLs can carry channel tokens, so only the path is ever logged.
 */
export function stripQueryString(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  const cut = url.search(/[?#]/);
  return cut === -1 ? url : url.slice(0, cut);
}

/**
 * The `req` serializer: id, method and path only. Headers, query, params and the remote address
 * are left out on purpose; the redact paths for headers stay as a second line of defence.
 */
export function serializeRequest(req: SerializableRequest): LoggedRequest {
  return { id: req.id, method: req.method, url: stripQueryString(req.url) };
}

/** What pino-http hands a wrapped `res` serializer. */
export interface SerializableResponse {
  statusCode?: number;
  headers?: Record<string, unknown>;
}

/**
 * The `res` serializer: the status, and a redirect's target without its query. The connect
 * callback redirects with a one-time confirmation token in the query; the other response
 * headers (security headers, request id) say nothing a log reader needs.
 */
export function serializeResponse(res: SerializableResponse): {
  statusCode: number | undefined;
  location?: string;
} {
  const location = res.headers?.location;
  return typeof location === 'string'
    ? { statusCode: res.statusCode, location: stripQueryString(location) }
    : { statusCode: res.statusCode };
}

/**
 * The `err` serializer: pino's standard one, with the Error's own `code` renamed to `errorCode`.
 * `code` is a redacted key (OAuth authorization codes), and without the rename every system
 * or driver error code (ECONNRESET, 23505) would be censored too. A TypeORM QueryFailedError's
 * bound `parameters` are dropped (the SQL text stays): they are request and user data, and any
 * failing statement would otherwise print them. pino-http wraps serializers so they receive
 * pino's already-serialized error; a bare pino logger passes the Error itself.
 */
export function serializeError(err: unknown): unknown {
  if (err === null || typeof err !== 'object') return err;
  const base = err instanceof Error ? stdSerializers.err(err) : err;
  const serialized: Record<string, unknown> = { ...base };
  if ('code' in serialized) {
    serialized.errorCode = serialized.code;
    delete serialized.code;
  }
  delete serialized.parameters;
  return serialized;
}
