import fs from 'node:fs';
import type { LoggerService } from '@nestjs/common';
import { Redis } from 'ioredis';
import { readKey } from '../harness/leak-scan.js';

/** Collects every Nest log call as text, so tests can look for leaked secrets. */
export class CapturingLogger implements LoggerService {
  readonly lines: string[] = [];
  log = (...args: unknown[]) => this.push(args);
  error = (...args: unknown[]) => this.push(args);
  warn = (...args: unknown[]) => this.push(args);
  debug = (...args: unknown[]) => this.push(args);
  verbose = (...args: unknown[]) => this.push(args);
  private push(args: unknown[]): void {
    this.lines.push(args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' '));
  }
}

/**
 * Captures what pino writes to stdout/stderr (through fs.write on fd 1 and 2, as sonic-boom
 * does) and what goes through process.stdout, instead of printing it.
 */
export function captureProcessOutput(): { text(): string; restore(): void } {
  const chunks: string[] = [];
  const original = { write: fs.write, writeSync: fs.writeSync, out: process.stdout.write };
  const keep = (data: unknown) =>
    chunks.push(Buffer.isBuffer(data) ? data.toString() : String(data));
  const patched = fs as unknown as Record<string, unknown>;
  patched.writeSync = (fd: number, data: unknown, ...rest: unknown[]) => {
    if (fd !== 1 && fd !== 2)
      return (original.writeSync as (...a: unknown[]) => number)(fd, data, ...rest);
    keep(data);
    return Buffer.byteLength(Buffer.isBuffer(data) ? data : String(data));
  };
  patched.write = (fd: number, data: unknown, ...rest: unknown[]) => {
    if (fd !== 1 && fd !== 2)
      return (original.write as (...a: unknown[]) => void)(fd, data, ...rest);
    keep(data);
    const cb = rest.find((r) => typeof r === 'function') as
      ((e: null, n: number) => void) | undefined;
    const n = Buffer.byteLength(Buffer.isBuffer(data) ? data : String(data));
    if (cb) process.nextTick(cb, null, n);
  };
  process.stdout.write = ((data: unknown) => (keep(data), true)) as typeof process.stdout.write;
  return {
    text: () => chunks.join(''),
    restore: () => {
      patched.write = original.write;
      patched.writeSync = original.writeSync;
      process.stdout.write = original.out;
    },
  };
}

/** Every key and value under the test's Redis prefix (strings, hashes, lists, sets, streams). */
export async function redisValues(redisUrl: string, prefix: string): Promise<string> {
  const redis = new Redis(redisUrl);
  try {
    const out: string[] = [];
    for (const pattern of [`${prefix}:*`, `{${prefix}}:*`]) {
      for (const key of await redis.keys(pattern)) {
        out.push(key, JSON.stringify(await readKey(redis, key)));
      }
    }
    return out.join('\n');
  } finally {
    redis.disconnect();
  }
}
