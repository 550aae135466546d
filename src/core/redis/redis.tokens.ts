import type { InjectionToken } from '@nestjs/common';
import type { ConnectionOptions } from 'bullmq';
import type { RedisClient } from './redis-client.js';

/** The shared connection for the service's own keys (leases, state, budgets): node or cluster. */
export const REDIS: InjectionToken<RedisClient> = Symbol('REDIS');

/**
 * BullMQ's connection: options for one Redis (each queue and worker opens its own connections),
 * or, on a Redis Cluster, one cluster client the queues share and the workers duplicate.
 */
export const QUEUE_CONNECTION: InjectionToken<ConnectionOptions> = Symbol('QUEUE_CONNECTION');
