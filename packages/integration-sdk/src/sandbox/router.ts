import type { IncomingMessage, ServerResponse } from 'node:http';

/** What a handler receives: the parsed request, with path params already URL-decoded. */
export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  params: Record<string, string>;
  /** URLSearchParams, because some APIs repeat a parameter (Google's `eventTypes`). */
  query: URLSearchParams;
  /** JSON object, form fields as a plain object, or the raw text for other content types. */
  body: unknown;
  rawBody: string;
  /** Set when the content type claimed JSON but the text did not parse. */
  bodyError?: 'invalid_json';
}

/** A handler either returns a Reply or writes `res` itself (streaming, redirects by hand). */
export interface Reply {
  status: number;
  /** Strings and Buffers go out as-is; anything else is serialized as JSON. */
  body?: unknown;
  headers?: Record<string, string>;
}

export type Handler = (ctx: RequestContext) => Reply | void | Promise<Reply | void>;

export interface Route {
  method: string;
  /** `GET /calendar/v3/calendars/:calendarId/events`: the key of the per-route counters. */
  name: string;
  handler: Handler;
  segments: string[];
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Reply {
  return { status, body, headers };
}

export function html(status: number, text: string): Reply {
  return { status, body: text, headers: { 'content-type': 'text/html; charset=utf-8' } };
}

export function redirect(location: string): Reply {
  return { status: 302, headers: { location } };
}

export function empty(status = 204): Reply {
  return { status };
}

/**
 * Matches on raw path segments and decodes params afterwards, so an encoded slash or `#`
 * inside a calendar id (`en.usa%23holiday@group.v.calendar.google.com`) stays one segment.
 */
export class Router {
  private readonly routes: Route[] = [];

  add(method: string, pattern: string, handler: Handler): Route {
    const route = { method, name: `${method} ${pattern}`, handler, segments: pattern.split('/') };
    this.routes.push(route);
    return route;
  }

  match(
    method: string,
    pathname: string,
  ): { route: Route; params: Record<string, string> } | undefined {
    const parts = pathname.split('/');
    for (const route of this.routes) {
      if (route.method !== method || route.segments.length !== parts.length) continue;
      const params = matchSegments(route.segments, parts);
      if (params) return { route, params };
    }
    return undefined;
  }

  /** True when the path exists under another method: the server answers 405, not 404. */
  hasPath(pathname: string): boolean {
    const parts = pathname.split('/');
    return this.routes.some(
      (r) => r.segments.length === parts.length && matchSegments(r.segments, parts) !== undefined,
    );
  }
}

function matchSegments(pattern: string[], parts: string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const want = pattern[i];
    if (want.startsWith(':')) {
      try {
        params[want.slice(1)] = decodeURIComponent(parts[i]);
      } catch {
        return undefined;
      }
    } else if (want !== parts[i]) {
      return undefined;
    }
  }
  return params;
}
