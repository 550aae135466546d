import net from 'node:net';

/** A port nothing listens on right now (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

// The polling helper is the SDK contract kit's (@pdeck/integration-sdk/testing); the harness
// (and the benchmarks built on it) import it from here too.
export { eventually, GiveUp } from '@pdeck/integration-sdk/testing';
