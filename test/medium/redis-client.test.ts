import { randomBytes } from 'node:crypto';
import { Cluster } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { parseConfig } from '../../src/core/config/load-config.js';
import { queueConnection } from '../../src/core/queue/redis-connection.js';
import { ensureRedis } from '../../src/core/redis/ensure-redis.js';
import {
  checkRedis,
  createRedis,
  describeRedisTarget,
  scanAll,
} from '../../src/core/redis/redis-client.js';
import { flushPrefix } from '../support/test-services.js';

/**
 * The one factory of Redis connections against the suite's real (single-node) Redis; the cluster
 * side runs in test/fault/redis-cluster.test.ts on a real Redis Cluster.
 */
describe('createRedis and the startup checks (real Redis)', () => {
  const redisUrl = inject('redisUrl');
  const prefix = `test-rc-${randomBytes(4).toString('hex')}`;
  const port = new URL(redisUrl).port || '6379';

  afterAll(() => flushPrefix(redisUrl, prefix));

  it('makes a single-node client from REDIS_URL that checks ready and scans every key', async () => {
    const client = createRedis({ redisUrl }, 'data');
    try {
      await checkRedis(client);
      await Promise.all([1, 2, 3].map((i) => client.set(`${prefix}:scan:${i}`, String(i))));
      expect((await scanAll(client, `${prefix}:scan:*`)).sort()).toEqual(
        [1, 2, 3].map((i) => `${prefix}:scan:${i}`),
      );
    } finally {
      client.disconnect();
    }
  });

  it('gives BullMQ options for one Redis and a cluster client for REDIS_CLUSTER_NODES', () => {
    expect(queueConnection({ redisUrl })).toMatchObject({
      host: '127.0.0.1',
      port: Number(port),
      maxRetriesPerRequest: null,
    });
    const config = parseConfig({
      REDIS_CLUSTER_NODES: `127.0.0.1:${port}`,
      REDIS_PASSWORD: 'cluster-secret',
    });
    const cluster = queueConnection(config) as Cluster;
    try {
      expect(cluster).toBeInstanceOf(Cluster);
      expect(cluster.options.redisOptions).toMatchObject({
        maxRetriesPerRequest: null,
        password: 'cluster-secret',
      });
    } finally {
      cluster.disconnect();
    }
    expect(describeRedisTarget(config)).toBe(`REDIS_CLUSTER_NODES (127.0.0.1:${port})`);
    expect(describeRedisTarget(config)).not.toContain('cluster-secret');
  });

  it('refuses to start on REDIS_CLUSTER_NODES that name a Redis without cluster mode', async () => {
    const config = parseConfig({ REDIS_CLUSTER_NODES: `127.0.0.1:${port}`, NODE_ENV: 'test' });
    await expect(ensureRedis(config)).rejects.toThrow(
      new RegExp(
        `^Redis Cluster is not usable at REDIS_CLUSTER_NODES \\(127\\.0\\.0\\.1:${port}\\): 127\\.0\\.0\\.1:${port}: ERR This instance has cluster support disabled\\. `,
      ),
    );
  });

  it('refuses to start when no cluster node answers, naming the variable', async () => {
    const config = parseConfig({ REDIS_CLUSTER_NODES: '127.0.0.1:1', NODE_ENV: 'test' });
    await expect(ensureRedis(config)).rejects.toThrow(
      /^Redis Cluster is not usable at REDIS_CLUSTER_NODES \(127\.0\.0\.1:1\): 127\.0\.0\.1:1: connect ECONNREFUSED/,
    );
  });
});
