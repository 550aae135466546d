/** How much of an error body is kept: enough to classify, small enough to keep out of memory and logs. */
export const ERROR_BODY_LIMIT = 2048;

export interface HttpStatusErrorInit {
  provider: string;
  operation?: string;
  method: string;
  status: number;
  /** Must already be stripped of its query string (tokens and codes travel there). */
  url: string;
  headers: Headers;
  bodyText: string;
}

/**
 * A non-2xx answer the shared client cannot classify on its own (mostly 4xx). Each provider's
 * error mapper turns it into a ProviderError, since the same status means different things
 * per provider (Google's 403 rateLimitExceeded vs. a real permission error).
 */
export class HttpStatusError extends Error {
  override readonly name = 'HttpStatusError';
  readonly provider: string;
  readonly operation?: string;
  readonly method: string;
  readonly status: number;
  readonly url: string;
  readonly headers: Headers;
  /** The first ERROR_BODY_LIMIT characters of the body. */
  readonly bodyText: string;
  /** The whole body parsed, when it was JSON; undefined otherwise. */
  readonly json?: unknown;

  constructor(init: HttpStatusErrorInit) {
    super(`${describeRequest(init)}: HTTP ${init.status}`);
    this.provider = init.provider;
    this.operation = init.operation;
    this.method = init.method;
    this.status = init.status;
    this.url = init.url;
    this.headers = init.headers;
    this.bodyText = init.bodyText.slice(0, ERROR_BODY_LIMIT);
    this.json = tryParseJson(init.bodyText, init.headers.get('content-type'));
  }
}

/** "google events.list: GET https://host/path", the shape every provider HTTP error message uses. */
export function describeRequest(r: {
  provider: string;
  operation?: string;
  method: string;
  url: string;
}): string {
  return `${r.provider}${r.operation ? ` ${r.operation}` : ''}: ${r.method} ${r.url}`;
}

export function isHttpStatusError(e: unknown): e is HttpStatusError {
  return e instanceof HttpStatusError;
}

function tryParseJson(text: string, contentType: string | null): unknown {
  const trimmed = text.trim();
  // Some APIs send JSON errors as text/plain, so the body's shape counts as much as the header.
  const looksJson = trimmed.startsWith('{') || trimmed.startsWith('[');
  if (!trimmed || (!looksJson && !contentType?.toLowerCase().includes('json'))) return undefined;
  try {
    return JSON.parse(trimmed) as unknown;
  } catch {
    return undefined;
  }
}
