import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { type RedisClient, scanAll } from '../redis/redis-client.js';
import { APP_CONFIG, type ResolvedAppConfig } from '../config/app-config.js';
import { REDIS } from '../redis/redis.tokens.js';
import { CryptoService } from './crypto.service.js';
import { PeriodicTask } from '../runtime/periodic-task.js';

/** How often a running process refreshes its entry, and how long an entry outlives its process. */
export const KEY_PRESENCE_INTERVAL_MS = 15_000;
export const KEY_PRESENCE_TTL_SECONDS = 45;

/** What one running process tells the others about its keyring: key ids, never keys. */
export interface KeyPresence {
  processId: string;
  role: string;
  host: string;
  pid: number;
  /** The key ids this process can decrypt. */
  kids: string[];
  /** The key id it encrypts with. */
  primaryKid: string;
  /** When the entry was last written (ISO 8601). */
  seenAt: string;
}

export function keyPresenceKey(prefix: string, processId: string): string {
  return `${prefix}:keyring:${processId}`;
}

/**
 * Publishes this process's key ids in Redis (`<prefix>:keyring:<process id>`, refreshed every
 * 15 s, expiring 45 s after the last refresh, removed at shutdown), so `npm run keys:rotate` can
 * see which running processes could not read values written with the key it rotates to. A Redis
 * outage only delays the entry: the next refresh writes it again.
 */
@Injectable()
export class KeyPresencePublisher implements OnApplicationBootstrap, BeforeApplicationShutdown {
  readonly processId = randomUUID();
  private readonly logger = new Logger('KeyPresence');
  private readonly key: string;
  /** publish() catches its own errors: a missed heartbeat is retried by the next one. */
  private readonly heartbeat = new PeriodicTask(
    KEY_PRESENCE_INTERVAL_MS,
    () => this.publish(),
    () => undefined,
  );
  private failing = false;

  constructor(
    @Inject(REDIS) private readonly redis: RedisClient,
    @Inject(APP_CONFIG) private readonly config: ResolvedAppConfig,
    private readonly crypto: CryptoService,
  ) {
    this.key = keyPresenceKey(config.redisKeyPrefix, this.processId);
  }

  async onApplicationBootstrap(): Promise<void> {
    // Awaited, so a process is visible to keys:rotate once its startup has finished.
    await this.heartbeat.runNow();
    this.heartbeat.start();
  }

  /** Runs after the queue workers drained (core's hook comes first), while Redis is still open. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.heartbeat.stop();
    await this.redis.del(this.key).catch(() => undefined); // else it expires on its own
  }

  presence(): KeyPresence {
    return {
      processId: this.processId,
      role: this.config.role,
      host: hostname(),
      pid: process.pid,
      kids: this.crypto.keyIds,
      primaryKid: this.crypto.primaryKid,
      seenAt: new Date().toISOString(),
    };
  }

  async publish(): Promise<void> {
    try {
      await this.redis.set(
        this.key,
        JSON.stringify(this.presence()),
        'EX',
        KEY_PRESENCE_TTL_SECONDS,
      );
      if (this.failing) this.logger.log({ msg: 'key ids published again' });
      this.failing = false;
    } catch (error) {
      // Once per outage, not every 15 s.
      if (!this.failing) {
        this.logger.warn({
          msg: 'could not publish this process key ids (keys:rotate will not see it)',
          error: (error as Error).message,
        });
      }
      this.failing = true;
    }
  }
}

/**
 * Every live process's entry under `prefix` (entries that expire meanwhile are skipped). Each
 * entry is read on its own: on a Redis Cluster the entries sit in different slots, which one
 * MGET cannot span, and SCAN walks every master (scanAll).
 */
export async function readKeyPresence(redis: RedisClient, prefix: string): Promise<KeyPresence[]> {
  const keys = await scanAll(redis, `${prefix}:keyring:*`);
  const values = await Promise.all(keys.map((key) => redis.get(key)));
  return values.flatMap((value) => {
    const parsed = value === null ? undefined : parsePresence(value);
    return parsed ? [parsed] : [];
  });
}

/** The live processes that cannot decrypt one of `kids`, with the ids they lack. */
export function processesLacking(
  live: readonly KeyPresence[],
  kids: readonly string[],
): { process: KeyPresence; missing: string[] }[] {
  return live.flatMap((process) => {
    const missing = kids.filter((kid) => !process.kids.includes(kid));
    return missing.length ? [{ process, missing }] : [];
  });
}

/** One process as an operator can find it: role, host, pid. */
export function describePresence(p: KeyPresence): string {
  return `${p.role} ${p.host}:${p.pid}`;
}

function parsePresence(value: string): KeyPresence | undefined {
  try {
    const p = JSON.parse(value) as Partial<KeyPresence> | null;
    if (!p || !Array.isArray(p.kids) || typeof p.processId !== 'string') return undefined;
    return {
      processId: p.processId,
      role: String(p.role ?? '?'),
      host: String(p.host ?? '?'),
      pid: Number(p.pid ?? 0),
      kids: p.kids.map(String),
      primaryKid: String(p.primaryKid ?? ''),
      seenAt: String(p.seenAt ?? ''),
    };
  } catch {
    return undefined;
  }
}
