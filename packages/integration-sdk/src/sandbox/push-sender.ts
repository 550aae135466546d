import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface PushAttempt {
  at: string;
  url: string;
  /** HTTP status, or 0 when the connection failed. */
  status: number;
  attempt: number;
  headers: Record<string, string>;
  /** The exact bytes sent, so a test can replay a delivery as a provider's duplicate. */
  body: string;
}

export interface PushSenderOptions {
  /** Extra attempts after a retryable failure (5xx from the list below, or a network error). */
  retries?: number;
  baseDelayMs?: number;
  timeoutMs?: number;
  /** Statuses worth another try; Google retries 500, 502, 503 and 504 with backoff. */
  retryStatuses?: number[];
}

/**
 * Delivers webhooks the way a provider does: fire-and-forget from the data change, retried with
 * exponential backoff, every attempt logged so tests can assert headers and counts. `idle()`
 * lets a test wait until nothing is in flight instead of sleeping.
 */
export class PushSender {
  private readonly attempts: PushAttempt[] = [];
  private readonly inflight = new Set<Promise<void>>();
  private delivered = 0;
  private failed = 0;

  constructor(private readonly options: PushSenderOptions = {}) {}

  /** Starts a delivery and returns at once; failures are recorded, never thrown. */
  send(url: string, headers: Record<string, string>, body = ''): void {
    const job = this.deliver(url, headers, body).finally(() => this.inflight.delete(job));
    this.inflight.add(job);
  }

  async idle(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled(this.inflight);
  }

  log(limit = 100): PushAttempt[] {
    return this.attempts.slice(-limit);
  }

  stats(): { attempts: number; delivered: number; failed: number; inflight: number } {
    return {
      attempts: this.attempts.length,
      delivered: this.delivered,
      failed: this.failed,
      inflight: this.inflight.size,
    };
  }

  private async deliver(url: string, headers: Record<string, string>, body: string): Promise<void> {
    const retries = this.options.retries ?? 2;
    const retryable = this.options.retryStatuses ?? [500, 502, 503, 504];
    for (let attempt = 1; ; attempt++) {
      const status = await post(url, headers, body, this.options.timeoutMs ?? 5_000);
      this.attempts.push({ at: new Date().toISOString(), url, status, attempt, headers, body });
      if (this.attempts.length > 5_000) this.attempts.splice(0, 1_000);
      if (status >= 200 && status < 300) {
        this.delivered += 1;
        return;
      }
      if ((status !== 0 && !retryable.includes(status)) || attempt > retries) {
        this.failed += 1;
        return;
      }
      await new Promise((r) =>
        setTimeout(r, (this.options.baseDelayMs ?? 100) * 2 ** (attempt - 1)),
      );
    }
  }
}

/** node:http rather than fetch, so the exact headers (Content-Length: 0, User-Agent) go out. */
function post(
  url: string,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
): Promise<number> {
  return new Promise((resolve) => {
    const target = new URL(url);
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(
      target,
      {
        method: 'POST',
        agent: false,
        timeout: timeoutMs,
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', () => resolve(0));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(0));
    req.end(body);
  });
}
