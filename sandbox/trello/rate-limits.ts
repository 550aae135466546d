export type TrelloLimitError = 'API_TOKEN_LIMIT_EXCEEDED' | 'API_KEY_LIMIT_EXCEEDED';

export interface RateLimitOptions {
  /** Requests per token per window (Trello: 100 / 10 s). */
  perToken?: number;
  /** Requests per API key per window, shared by every token of the app (Trello: 300 / 10 s). */
  perKey?: number;
  windowMs?: number;
}

/**
 * Trello's two 10-second windows (per API key and per token, as Trello's rate-limit guide
 * documents them), as sliding logs of admitted requests: the strictest reading, so a client that
 * stays under the limit here stays under it however Trello aligns its windows. Rejected calls do
 * not count towards the window. `forceNext` queues 429s for tests.
 */
export class RateLimiter {
  readonly counts = { API_TOKEN_LIMIT_EXCEEDED: 0, API_KEY_LIMIT_EXCEEDED: 0, forced: 0, total: 0 };
  private readonly logs = new Map<string, number[]>();
  private readonly forced: TrelloLimitError[] = [];
  private readonly perToken: number;
  private readonly perKey: number;
  private readonly windowMs: number;

  constructor(
    options: RateLimitOptions | false | undefined,
    private readonly now: () => number,
  ) {
    const off = options === false;
    this.perToken = off ? Infinity : (options?.perToken ?? 100);
    this.perKey = off ? Infinity : (options?.perKey ?? 300);
    this.windowMs = off ? 10_000 : (options?.windowMs ?? 10_000);
  }

  forceNext(count: number, error: TrelloLimitError): void {
    for (let i = 0; i < count; i++) this.forced.push(error);
  }

  /** The 429 body's `error` code, or undefined when the call is admitted (and counted). */
  check(key: string, token: string): TrelloLimitError | undefined {
    const forced = this.forced.shift();
    if (forced) {
      this.counts.forced += 1;
      return this.reject(forced);
    }
    const now = this.now();
    const tokenLog = this.window(`t:${token}`, now);
    const keyLog = this.window(`k:${key}`, now);
    if (tokenLog.length >= this.perToken) return this.reject('API_TOKEN_LIMIT_EXCEEDED');
    if (keyLog.length >= this.perKey) return this.reject('API_KEY_LIMIT_EXCEEDED');
    tokenLog.push(now);
    keyLog.push(now);
    return undefined;
  }

  stats(): Record<string, unknown> {
    return {
      limits: { perToken: this.perToken, perKey: this.perKey, windowMs: this.windowMs },
      rejected: { ...this.counts },
      forcedPending: this.forced.length,
    };
  }

  private reject(error: TrelloLimitError): TrelloLimitError {
    this.counts[error] += 1;
    this.counts.total += 1;
    return error;
  }

  private window(name: string, now: number): number[] {
    let log = this.logs.get(name);
    if (!log) this.logs.set(name, (log = []));
    while (log.length > 0 && log[0] <= now - this.windowMs) log.shift();
    return log;
  }
}

/** The 429 body Trello sends, naming the window that was exceeded (Trello's rate-limit guide). */
export function rateLimitBody(error: TrelloLimitError): { error: string; message: string } {
  return { error, message: 'Rate limit exceeded' };
}
