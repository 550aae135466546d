import { connect, createServer, type Server, type Socket } from 'node:net';
import { freePort } from '../harness/ports.js';

/**
 * A loopback port that forwards every connection to another port: the old public URL of a
 * service that moved (a DNS alias or proxy rule that still reaches it).
 */
export class TcpForwarder {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(private target: number) {}

  /** Forward to another port from now on (connections already open keep theirs). */
  retarget(port: number): void {
    this.target = port;
  }

  async start(port?: number): Promise<this> {
    this.port = port ?? (await freePort());
    this.server = createServer((inbound) => {
      const outbound = connect(this.target, '127.0.0.1');
      for (const s of [inbound, outbound]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => {
          inbound.destroy();
          outbound.destroy();
        });
      }
      inbound.pipe(outbound).pipe(inbound);
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
    return this;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) =>
      this.server ? this.server.close(() => resolve()) : resolve(),
    );
  }
}
