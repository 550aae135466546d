/**
 * Which limits conversations.history and conversations.replies get: `limited` is what new,
 * commercially distributed apps outside the Marketplace get since 2025 (1 request per minute,
 * `limit` at most and by default 15:
 * https://docs.slack.dev/changelog/2025/05/29/rate-limit-changes-for-non-marketplace-apps);
 * `tier3` is Marketplace and internal apps (50 per minute, `limit` default 100, max 999).
 */
export type HistoryTier = 'limited' | 'tier3';

const HISTORY_METHODS = new Set(['conversations.history', 'conversations.replies']);
/** Requests per minute of the other limited methods (https://docs.slack.dev/apis/web-api/rate-limits). */
const PER_MINUTE: Record<string, number> = {
  'conversations.list': 20,
  'users.list': 20,
  // Tier 4.
  'users.info': 100,
  'auth.revoke': 50,
};
const WINDOW_MS = 60_000;

/**
 * Slack's per-minute windows per (app, workspace, method), as sliding logs of admitted calls:
 * the strictest reading, so a client that stays under the limit here stays under it however Slack
 * aligns its windows. Rejected calls don't count. `force` queues a 429 for a method's next call.
 */
export class SlackRateLimiter {
  readonly rejected: Record<string, number> = {};
  private readonly logs = new Map<string, number[]>();
  private readonly forced = new Map<string, number[]>();

  constructor(
    private readonly historyTier: HistoryTier,
    private readonly now: () => number,
  ) {}

  /** `limit` of conversations.history/replies: the default and the most a page holds. */
  historyPageSize(): { byDefault: number; max: number } {
    return this.historyTier === 'limited'
      ? { byDefault: 15, max: 15 }
      : { byDefault: 100, max: 999 };
  }

  force(method: string, retryAfterSec: number): void {
    this.forced.set(method, [...(this.forced.get(method) ?? []), retryAfterSec]);
  }

  /** Seconds to wait when this call is over the limit; undefined when it is admitted (and counted). */
  check(appId: string, teamId: string, method: string): number | undefined {
    const forced = this.forced.get(method)?.shift();
    if (forced !== undefined) return this.reject(method, forced);
    const limit = HISTORY_METHODS.has(method)
      ? this.historyTier === 'limited'
        ? 1
        : 50
      : PER_MINUTE[method];
    if (limit === undefined) return undefined;
    const now = this.now();
    const key = `${appId}/${teamId}/${method}`;
    const log = (this.logs.get(key) ?? []).filter((at) => at > now - WINDOW_MS);
    this.logs.set(key, log);
    if (log.length >= limit)
      return this.reject(method, Math.max(1, Math.ceil((log[0] + WINDOW_MS - now) / 1000)));
    log.push(now);
    return undefined;
  }

  stats(): Record<string, unknown> {
    return {
      historyTier: this.historyTier,
      rejected: { ...this.rejected },
      forcedPending: [...this.forced.values()].reduce((n, q) => n + q.length, 0),
    };
  }

  private reject(method: string, retryAfterSec: number): number {
    this.rejected[method] = (this.rejected[method] ?? 0) + 1;
    return retryAfterSec;
  }
}
