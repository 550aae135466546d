import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A load balancer in front of several API processes: each request goes to the next target in
 * turn, method, path, headers (Host included) and body unchanged, and the answer comes back as
 * it is. So a connect flow started through one API is finished through another, and a
 * provider's webhook deliveries land on every API, as behind a real balancer.
 */
export class RoundRobinProxy {
  private server?: Server;
  private next = 0;
  /** Requests sent to each target, by index. */
  readonly counts: number[];
  port = 0;

  constructor(private readonly targets: () => number[]) {
    this.counts = [];
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(port = 0): Promise<this> {
    this.server = createServer((req, res) => {
      const ports = this.targets();
      const index = this.next++ % ports.length;
      this.counts[index] = (this.counts[index] ?? 0) + 1;
      const upstream = request(
        {
          host: '127.0.0.1',
          port: ports[index],
          method: req.method,
          path: req.url,
          headers: req.headers,
        },
        (answer: IncomingMessage) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on('error', () => {
        // The target is down (a test may kill it): a balancer answers 502.
        if (!res.headersSent) res.writeHead(502).end();
        else res.destroy();
      });
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
