import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SandboxNotFoundError } from './errors.js';
import { FaultQueue, faultFromJson, type FaultSpec } from './fault-queue.js';
import { RequestLog } from './request-log.js';
import { empty, json, Router, type Handler, type Reply, type RequestContext } from './router.js';

export interface SandboxServerOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Loopback by default: the admin API has no authentication, so it must not be reachable. */
  host?: string;
  /** Body of a 404 for an unknown path, in the provider's error shape. */
  notFoundBody?: (path: string) => unknown;
  maxBodyBytes?: number;
}

export const ADMIN_PREFIX = '/__admin';

/**
 * node:http server with a small router, body parsing, a request log and a fault queue: the
 * shared plumbing of every offline provider fake, so each fake is mostly its routes and data.
 */
export class SandboxServer {
  readonly router = new Router();
  readonly faults = new FaultQueue();
  readonly log = new RequestLog();
  private readonly statsSources = new Map<string, () => unknown>();
  private server?: Server;
  private baseUrl = '';

  constructor(private readonly options: SandboxServerOptions = {}) {
    this.registerBuiltInAdmin();
  }

  /** `http://127.0.0.1:<port>` once started. */
  get url(): string {
    if (!this.baseUrl) throw new Error('SandboxServer is not started');
    return this.baseUrl;
  }

  route(method: string, pattern: string, handler: Handler): void {
    this.router.add(method.toUpperCase(), pattern, handler);
  }

  /** Registers `pattern` under `/__admin`. */
  admin(method: string, pattern: string, handler: Handler): void {
    this.route(method, `${ADMIN_PREFIX}${pattern}`, handler);
  }

  /** Adds a section to `GET /__admin/stats`. */
  addStats(name: string, source: () => unknown): void {
    this.statsSources.set(name, source);
  }

  stats(): Record<string, unknown> {
    const out: Record<string, unknown> = {
      requests: this.log.stats(),
      faults: this.faults.stats(),
    };
    for (const [name, source] of this.statsSources) out[name] = source();
    return out;
  }

  addFault(spec: FaultSpec): void {
    this.faults.add(spec);
  }

  async start(): Promise<string> {
    const server = createServer((req, res) => void this.handle(req, res));
    // Push receivers and keep-alive clients must not keep the process (or a test) alive.
    server.keepAliveTimeout = 5_000;
    const host = this.options.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port ?? 0, host, () => resolve());
    });
    this.server = server;
    this.baseUrl = `http://${host}:${(server.address() as AddressInfo).port}`;
    return this.baseUrl;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      // fetch keeps connections alive; without this close() waits for them to time out.
      server.closeAllConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const url = new URL(req.url ?? '/', 'http://sandbox.invalid');
    const method = (req.method ?? 'GET').toUpperCase();
    let routeName = 'UNMATCHED';
    let status = 500;
    try {
      const rawBody = await readBody(req, this.options.maxBodyBytes ?? 5 * 1024 * 1024);
      const fault = url.pathname.startsWith(ADMIN_PREFIX)
        ? undefined
        : this.faults.take(method, url.pathname);
      if (fault?.pass) {
        await new Promise((r) => setTimeout(r, fault.delayMs ?? 0));
      } else if (fault) {
        routeName = 'FAULT';
        status = await sendFault(res, fault);
        return;
      }
      const match = this.router.match(method, url.pathname);
      if (!match) {
        status = this.router.hasPath(url.pathname) ? 405 : 404;
        const body = status === 404 ? this.options.notFoundBody?.(url.pathname) : undefined;
        send(res, {
          status,
          body: body ?? { error: status === 404 ? 'not_found' : 'method_not_allowed' },
        });
        return;
      }
      routeName = match.route.name;
      const ctx: RequestContext = {
        req,
        res,
        url,
        params: match.params,
        query: url.searchParams,
        rawBody,
        ...parseBody(req.headers['content-type'], rawBody),
      };
      const reply = await match.route.handler(ctx);
      if (reply) send(res, reply);
      status = res.statusCode;
    } catch (err) {
      status = err instanceof SandboxNotFoundError ? 404 : 500;
      if (!res.headersSent)
        send(res, {
          status,
          body: { error: status === 404 ? 'not_found' : 'sandbox_error', message: String(err) },
        });
      else res.destroy();
    } finally {
      const ms = Math.round((performance.now() - started) * 100) / 100;
      this.log.record({
        at: new Date().toISOString(),
        method,
        path: url.pathname,
        route: routeName,
        status,
        ms,
      });
    }
  }

  private registerBuiltInAdmin(): void {
    this.admin('GET', '/stats', () => json(200, this.stats()));
    this.admin('GET', '/requests', ({ query }) =>
      json(200, { requests: this.log.recent(Number(query.get('limit') ?? 100)) }),
    );
    this.admin('POST', '/faults', ({ body }) => {
      try {
        this.faults.add(faultFromJson((body ?? {}) as Record<string, unknown>));
      } catch (err) {
        return json(400, { error: String(err) });
      }
      return json(201, this.faults.stats());
    });
    this.admin('DELETE', '/faults', () => {
      this.faults.clear();
      return empty();
    });
  }
}

export function send(res: ServerResponse, reply: Reply): void {
  const headers: Record<string, string> = { ...reply.headers };
  let payload: string | Buffer | undefined;
  if (typeof reply.body === 'string' || Buffer.isBuffer(reply.body)) {
    payload = reply.body;
  } else if (reply.body !== undefined) {
    payload = JSON.stringify(reply.body);
    headers['content-type'] ??= 'application/json; charset=UTF-8';
  }
  if (payload !== undefined) headers['content-length'] = String(Buffer.byteLength(payload));
  res.writeHead(reply.status, headers);
  res.end(payload);
}

async function sendFault(res: ServerResponse, fault: FaultSpec): Promise<number> {
  if (fault.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
  if (fault.status === 0) {
    res.socket?.destroy();
    return 0;
  }
  send(res, { status: fault.status, body: fault.body, headers: fault.headers });
  return fault.status;
}

function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) reject(new Error('request body too large'));
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseBody(
  contentType: string | undefined,
  raw: string,
): Pick<RequestContext, 'body' | 'bodyError'> {
  const type = (contentType ?? '').split(';')[0].trim().toLowerCase();
  if (type === 'application/x-www-form-urlencoded') {
    return { body: Object.fromEntries(new URLSearchParams(raw)) };
  }
  if (type === 'application/json' || type.endsWith('+json')) {
    if (raw.trim() === '') return { body: undefined };
    try {
      return { body: JSON.parse(raw) as unknown };
    } catch {
      return { body: undefined, bodyError: 'invalid_json' };
    }
  }
  return { body: raw === '' ? undefined : raw };
}
