/**
 * Injected failures, served in FIFO order before routing so a test can make "the next two
 * calls to /token answer 500" without touching the fake's data. Admin paths are never faulted.
 */
export interface FaultSpec {
  /** HTTP status to answer; 0 destroys the socket instead (a connection reset). */
  status: number;
  headers?: Record<string, string>;
  /** Object bodies are sent as JSON, strings as-is. */
  body?: unknown;
  /** A string matches as a path prefix; a RegExp is tested against the path. Absent: any path. */
  path?: string | RegExp;
  method?: string;
  /** How many matching requests this fault answers (default 1). */
  times?: number;
  /** Wait this long before answering, to exercise client timeouts. */
  delayMs?: number;
  /**
   * After `delayMs`, answer the request normally (a slow but correct response): widens the
   * window in which a test can crash something mid-operation. `status` is ignored.
   */
  pass?: boolean;
}

interface PendingFault extends FaultSpec {
  remaining: number;
}

export class FaultQueue {
  private readonly pending: PendingFault[] = [];
  private injectedCount = 0;

  add(spec: FaultSpec): void {
    this.pending.push({ ...spec, remaining: spec.times ?? 1 });
  }

  /** Consumes one use of the first matching fault. */
  take(method: string, path: string): FaultSpec | undefined {
    const index = this.pending.findIndex((f) => matches(f, method, path));
    if (index < 0) return undefined;
    const fault = this.pending[index];
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.pending.splice(index, 1);
    this.injectedCount += 1;
    return fault;
  }

  clear(): void {
    this.pending.length = 0;
  }

  stats(): { pending: number; injected: number } {
    const pending = this.pending.reduce((sum, f) => sum + f.remaining, 0);
    return { pending, injected: this.injectedCount };
  }
}

function matches(fault: FaultSpec, method: string, path: string): boolean {
  if (fault.method && fault.method.toUpperCase() !== method) return false;
  if (fault.path === undefined) return true;
  return typeof fault.path === 'string' ? path.startsWith(fault.path) : fault.path.test(path);
}

/** Faults arrive over the admin API as JSON: `path` is a prefix, `pathRegex` a pattern. */
export function faultFromJson(body: Record<string, unknown>): FaultSpec {
  const status = Number(body.status);
  if (!Number.isInteger(status) || status < 0 || status > 599)
    throw new Error('status must be 0-599');
  return {
    status,
    headers: body.headers as Record<string, string> | undefined,
    body: body.body,
    path: typeof body.pathRegex === 'string' ? new RegExp(body.pathRegex) : (body.path as string),
    method: body.method as string | undefined,
    times: body.times === undefined ? 1 : Number(body.times),
    delayMs: body.delayMs === undefined ? undefined : Number(body.delayMs),
    pass: body.pass === true,
  };
}
