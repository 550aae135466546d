import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Cluster as ClusterClient, Redis } from 'ioredis';
import { eventually } from '@pdeck/integration-sdk/testing';
import { RedisInstance } from './redis-instance.js';

const run = promisify(execFile);

export interface RedisClusterOptions {
  /** Masters sharing the 16384 slots (default 3; Redis needs at least 3). */
  masters?: number;
  /** Replicas per master (default 0): with 1, a replica takes over a dead master's slots. */
  replicas?: number;
  /**
   * cluster-node-timeout in ms (default 2,000; Redis' default is 15,000): how long a node may be
   * unreachable before the others mark it failed and, with replicas, promote one.
   */
  nodeTimeoutMs?: number;
  /**
   * cluster-require-full-coverage (default false): true stops the whole cluster (CLUSTERDOWN on
   * every slot) while any slot has no master; false keeps the other masters' slots working.
   */
  requireFullCoverage?: boolean;
}

/** One line of CLUSTER NODES. */
export interface ClusterNodeInfo {
  id: string;
  port: number;
  flags: string[];
  masterId: string;
  /** Slot ranges served, [from, to] inclusive (masters only). */
  slots: [number, number][];
}

/**
 * A Redis Cluster of its own on spare loopback ports, made of Debian's `redis-server` (cluster
 * mode, append-only file with fsync always, noeviction, each node in its own temporary directory)
 * and formed with `redis-cli --cluster create`. A node can be killed and started again on the
 * same port and directory: it keeps its identity (nodes.conf) and data and rejoins.
 */
export class RedisClusterInstance {
  readonly nodes: RedisInstance[];
  private readonly masters: number;
  private readonly replicas: number;

  constructor(options: RedisClusterOptions = {}) {
    this.masters = options.masters ?? 3;
    this.replicas = options.replicas ?? 0;
    const extraArgs = [
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      'nodes.conf',
      '--cluster-node-timeout',
      String(options.nodeTimeoutMs ?? 2_000),
      '--cluster-require-full-coverage',
      options.requireFullCoverage ? 'yes' : 'no',
    ];
    const count = this.masters * (1 + this.replicas);
    this.nodes = Array.from({ length: count }, () => new RedisInstance({ extraArgs }));
  }

  /** REDIS_CLUSTER_NODES: every node as a seed (the service needs only one that answers). */
  get seedNodes(): string {
    return this.nodes.map((n) => `127.0.0.1:${n.port}`).join(',');
  }

  async start(): Promise<this> {
    await Promise.all(this.nodes.map((n) => n.start()));
    const addresses = this.nodes.map((n) => `127.0.0.1:${n.port}`);
    await run(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...addresses,
        '--cluster-replicas',
        String(this.replicas),
        '--cluster-yes',
      ],
      { timeout: 60_000 },
    );
    await this.waitUntilHealthy();
    return this;
  }

  /**
   * Every running node says cluster_state:ok, knows every node, and, with replicas, each
   * replica's link to its master is up (so a failover has something to promote).
   */
  async waitUntilHealthy(timeoutMs = 60_000): Promise<void> {
    const running = () => this.nodes.filter((n) => n.running);
    await eventually(
      async () => {
        for (const node of running()) {
          const info = await this.info(node, ['CLUSTER', 'INFO']);
          if (info.cluster_state !== 'ok') return undefined;
          if (Number(info.cluster_known_nodes) !== this.nodes.length) return undefined;
        }
        const topology = await this.topology();
        const live = new Set(running().map((n) => n.port));
        const replicas = topology.filter(
          (n) => n.flags.includes('slave') && live.has(n.port) && !n.flags.includes('fail'),
        );
        for (const replica of replicas) {
          const node = this.nodes.find((n) => n.port === replica.port)!;
          const info = await this.info(node, ['INFO', 'replication']);
          if (info.master_link_status !== 'up') return undefined;
        }
        return true;
      },
      'the Redis Cluster to be healthy',
      timeoutMs,
      200,
    );
  }

  /** CLUSTER NODES as seen by a running node. */
  async topology(): Promise<ClusterNodeInfo[]> {
    const node = this.nodes.find((n) => n.running);
    if (!node) throw new Error('no Redis Cluster node is running');
    const text = await this.command(node, ['CLUSTER', 'NODES']);
    return text
      .trim()
      .split('\n')
      .map((line) => {
        const [id, address, flags, masterId, , , , , ...slotSpecs] = line.split(' ');
        const port = Number(address.split('@')[0].split(':').pop());
        const slots = slotSpecs
          .filter((s) => !s.startsWith('['))
          .map((s) => {
            const [from, to] = s.split('-').map(Number);
            return [from, to ?? from] as [number, number];
          });
        return { id, port, flags: flags.split(','), masterId, slots };
      });
  }

  /** The running master that serves `key`'s slot (the one a test kills to hurt that key). */
  async masterOf(key: string): Promise<RedisInstance> {
    const node = this.nodes.find((n) => n.running)!;
    const slot = Number(await this.command(node, ['CLUSTER', 'KEYSLOT', key]));
    const owner = (await this.topology()).find(
      (n) =>
        n.flags.includes('master') &&
        !n.flags.includes('fail') &&
        n.slots.some(([from, to]) => slot >= from && slot <= to),
    );
    const instance = owner && this.nodes.find((n) => n.port === owner.port);
    if (!instance) throw new Error(`no master serves slot ${slot} of ${key}`);
    return instance;
  }

  /** Keys each running master holds, by port: proof that data is spread over the cluster. */
  async keysPerMaster(): Promise<Record<number, number>> {
    const out: Record<number, number> = {};
    for (const info of await this.topology()) {
      if (!info.flags.includes('master') || info.flags.includes('fail')) continue;
      const node = this.nodes.find((n) => n.port === info.port);
      if (!node?.running) continue;
      out[info.port] = Number(await this.command(node, ['DBSIZE']));
    }
    return out;
  }

  /** A plain client of each running master (to scan every key); the caller disconnects them. */
  async masterClients(): Promise<Redis[]> {
    const masters = (await this.topology()).filter(
      (n) => n.flags.includes('master') && !n.flags.includes('fail'),
    );
    return this.nodes
      .filter((n) => n.running && masters.some((m) => m.port === n.port))
      .map((n) => n.client());
  }

  /** A cluster client for assertions; the caller disconnects it. */
  client(): ClusterClient {
    return new ClusterClient(
      this.nodes.map((n) => ({ host: '127.0.0.1', port: n.port })),
      { redisOptions: { maxRetriesPerRequest: 1 } },
    );
  }

  async destroy(): Promise<void> {
    await Promise.allSettled(this.nodes.map((n) => n.destroy()));
  }

  private async command(node: RedisInstance, args: string[]): Promise<string> {
    const client = new Redis(node.port, '127.0.0.1', {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    client.on('error', () => undefined);
    try {
      await client.connect();
      const reply = await client.call(args[0], ...args.slice(1));
      return String(reply);
    } finally {
      client.disconnect();
    }
  }

  private async info(node: RedisInstance, args: string[]): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const line of (await this.command(node, args)).split(/\r?\n/)) {
      const at = line.indexOf(':');
      if (at > 0) out[line.slice(0, at)] = line.slice(at + 1).trim();
    }
    return out;
  }
}
