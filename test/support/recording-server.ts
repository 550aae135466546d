import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as a provider fake saw it. */
export interface SeenRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  auth?: string;
  body: string;
}

/** [status, body]: a string body is sent as text/plain, anything else as JSON. */
export type FakeHandler = (seen: SeenRequest) => [number, unknown];

/**
 * A loopback HTTP server for provider unit tests: hands every request, parsed, to the handler
 * and sends its answer, so a spec exercises the real HTTP client and origin overrides.
 */
export async function startRecordingServer(
  handle: FakeHandler,
): Promise<{ origin: string; close(): Promise<void> }> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url!, 'http://fake');
      const [status, body] = handle({
        method: req.method!,
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        auth: req.headers.authorization,
        body: Buffer.concat(chunks).toString(),
      });
      const text = typeof body === 'string';
      res.writeHead(status, { 'content-type': text ? 'text/plain' : 'application/json' });
      res.end(body === undefined ? '' : text ? body : JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
