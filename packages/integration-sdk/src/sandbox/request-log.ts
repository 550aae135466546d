export interface LoggedRequest {
  at: string;
  method: string;
  /** Path only: query strings can carry tokens (Google's revoke takes `?token=`). */
  path: string;
  /** Route name, `FAULT` for an injected failure, or `UNMATCHED`. */
  route: string;
  status: number;
  ms: number;
}

/** A bounded log plus counters that never reset, so long benchmark runs stay small. */
export class RequestLog {
  private readonly entries: LoggedRequest[] = [];
  private readonly byRoute = new Map<string, number>();
  private readonly byStatus = new Map<number, number>();
  private total = 0;

  constructor(private readonly capacity = 2000) {}

  record(entry: LoggedRequest): void {
    this.total += 1;
    this.byRoute.set(entry.route, (this.byRoute.get(entry.route) ?? 0) + 1);
    this.byStatus.set(entry.status, (this.byStatus.get(entry.status) ?? 0) + 1);
    this.entries.push(entry);
    if (this.entries.length > this.capacity)
      this.entries.splice(0, this.entries.length - this.capacity);
  }

  recent(limit = 100): LoggedRequest[] {
    return this.entries.slice(-limit);
  }

  count(route: string): number {
    return this.byRoute.get(route) ?? 0;
  }

  stats(): { total: number; byRoute: Record<string, number>; byStatus: Record<string, number> } {
    return {
      total: this.total,
      byRoute: Object.fromEntries(this.byRoute),
      byStatus: Object.fromEntries([...this.byStatus].map(([k, v]) => [String(k), v])),
    };
  }
}
