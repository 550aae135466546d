import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { pingRedis } from '../../src/core/redis/ensure-redis.js';
import { reapOnExit, signalAndWait } from './child-reaper.js';
import { eventually, GiveUp } from '@pdeck/integration-sdk/testing';
import { freePort } from './ports.js';

export interface RedisInstanceOptions {
  /**
   * Append-only file with fsync on every write, as the deployment runs Redis (docker-compose):
   * a restart keeps queues and schedulers. false = nothing survives a restart.
   */
  appendOnly?: boolean;
  maxmemoryPolicy?: string;
  /** More redis-server arguments (a Redis Cluster node's cluster-enabled and friends). */
  extraArgs?: string[];
}

/**
 * A redis-server of its own on a spare loopback port, with its files in a temporary directory,
 * that a test can stop (SIGTERM), kill (SIGKILL) and start again on the same port.
 */
export class RedisInstance {
  private child?: ChildProcess;
  private dir?: string;
  port = 0;

  constructor(private readonly options: RedisInstanceOptions = {}) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  async start(): Promise<this> {
    if (!this.port) this.port = await freePort();
    this.dir ??= await mkdtemp(join(tmpdir(), 'pdeck-redis-'));
    const appendOnly = this.options.appendOnly ?? true;
    const args = [
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--dir',
      this.dir,
      '--save',
      '',
      '--appendonly',
      appendOnly ? 'yes' : 'no',
      '--appendfsync',
      'always',
      '--maxmemory-policy',
      this.options.maxmemoryPolicy ?? 'noeviction',
      '--logfile',
      join(this.dir, 'redis.log'),
      ...(this.options.extraArgs ?? []),
    ];
    this.child = reapOnExit(spawn('redis-server', args, { stdio: 'ignore' }));
    const child = this.child;
    await eventually(
      async () => {
        if (child.exitCode !== null) throw new GiveUp(`redis-server exited with ${child.exitCode}`);
        return (await this.ping()) ? true : undefined;
      },
      `redis-server on port ${this.port}`,
      10_000,
      50,
    );
    return this;
  }

  /** SIGTERM: Redis finishes writing its append-only file, then exits. */
  stop(): Promise<void> {
    return this.signal('SIGTERM');
  }

  /** SIGKILL: whatever was not fsynced is gone. */
  kill(): Promise<void> {
    return this.signal('SIGKILL');
  }

  async restart(downMs = 0): Promise<void> {
    await this.stop();
    if (downMs) await new Promise((r) => setTimeout(r, downMs));
    await this.start();
  }

  ping(): Promise<boolean> {
    return pingRedis(this.url);
  }

  /** A client for assertions; the caller disconnects it. */
  client(): Redis {
    return new Redis(this.url, { maxRetriesPerRequest: 1 });
  }

  async destroy(): Promise<void> {
    await this.kill();
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }

  private signal(signal: NodeJS.Signals): Promise<void> {
    return signalAndWait(this.child, signal);
  }
}
