import { isIP } from 'node:net';
import { Transform } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Max,
  Min,
  MinLength,
  Validate,
  ValidatorConstraint,
  type ValidationArguments,
  type ValidatorConstraintInterface,
} from 'class-validator';
import { parseMergePolicy } from './merge-policy-config.js';

const trimmed = ({ value }: { value: unknown }) =>
  typeof value === 'string' && value.trim() === '' ? undefined : value;

const toInt = ({ value }: { value: unknown }) =>
  typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;

const URL_OPTIONS = { require_tld: false, require_protocol: true, protocols: ['http', 'https'] };

/** `kid:base64-of-32-bytes`, comma separated; the first is primary unless ENCRYPTION_PRIMARY_KEY_ID names another. */
@ValidatorConstraint({ name: 'encryptionKeys' })
export class EncryptionKeysRule implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    if (typeof value !== 'string') return false;
    const entries = value.split(',').map((s) => s.trim());
    const ids = new Set<string>();
    for (const entry of entries) {
      const match = /^([A-Za-z0-9_-]{1,32}):([A-Za-z0-9+/=]+)$/.exec(entry);
      if (!match || ids.has(match[1])) return false;
      if (Buffer.from(match[2], 'base64').length !== 32) return false;
      ids.add(match[1]);
    }
    return entries.length > 0;
  }
  defaultMessage(): string {
    return 'ENCRYPTION_KEYS must be comma-separated "kid:base64-of-32-bytes" entries with unique key ids';
  }
}

@ValidatorConstraint({ name: 'providerOrigins' })
export class ProviderOriginsRule implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    if (typeof value !== 'string') return false;
    try {
      const parsed: unknown = JSON.parse(value);
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return false;
      return Object.entries(parsed).every(
        ([from, to]) => isOrigin(from) && typeof to === 'string' && isOrigin(to),
      );
    } catch {
      return false;
    }
  }
  defaultMessage(): string {
    return 'PROVIDER_ORIGINS must be a JSON object mapping origins to origins, e.g. {"https://oauth2.googleapis.com":"http://127.0.0.1:9100"}';
  }
}

/** MERGE_POLICY: the merged view's provider ranks (merge-policy-config.ts); the message names the path. */
@ValidatorConstraint({ name: 'mergePolicy' })
export class MergePolicyRule implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return typeof value === 'string' && parseMergePolicy(value).ok;
  }
  defaultMessage(args?: ValidationArguments): string {
    const parsed = typeof args?.value === 'string' ? parseMergePolicy(args.value) : undefined;
    return parsed && !parsed.ok ? parsed.error : 'MERGE_POLICY must be a JSON object';
  }
}

/**
 * REDIS_CLUSTER_NODES: comma-separated `host:port` seed nodes of a Redis Cluster (a hostname, an
 * IPv4 address or a bracketed IPv6 address, then a port). A few of the masters are enough: the
 * client learns the rest of the cluster from the first node that answers.
 */
@ValidatorConstraint({ name: 'redisClusterNodes' })
export class RedisClusterNodesRule implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return typeof value === 'string' && parseClusterNodes(value) !== undefined;
  }
  defaultMessage(): string {
    return 'REDIS_CLUSTER_NODES must be comma-separated host:port seed nodes, e.g. redis-1:6379,redis-2:6379 (IPv6 as [::1]:6379)';
  }
}

/** The nodes of REDIS_CLUSTER_NODES, or undefined when one entry is not a `host:port`. */
export function parseClusterNodes(value: string): { host: string; port: number }[] | undefined {
  const entries = value.split(',').map((s) => s.trim());
  const nodes: { host: string; port: number }[] = [];
  const seen = new Set<string>();
  for (const entry of entries) {
    const match = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]{1,253}):(\d{1,5})$/.exec(entry);
    if (!match) return undefined;
    const host = match[1].replace(/^\[|\]$/g, '');
    const port = Number(match[2]);
    if (port < 1 || port > 65535) return undefined;
    if (match[1].startsWith('[') && isIP(host) !== 6) return undefined;
    const id = `${host}:${port}`;
    if (seen.has(id)) return undefined;
    seen.add(id);
    nodes.push({ host, port });
  }
  return nodes.length > 0 ? nodes : undefined;
}

@ValidatorConstraint({ name: 'originList' })
export class OriginListRule implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return typeof value === 'string' && value.split(',').every((s) => isOrigin(s.trim()));
  }
  defaultMessage(): string {
    return 'RETURN_TO_ORIGINS must be a comma-separated list of origins such as https://app.pdeck.io';
  }
}

@ValidatorConstraint({ name: 'tokenList' })
export class TokenListRule implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return (
      typeof value === 'string' &&
      value.split(',').every((s) => /^[\x21-\x7e]{24,}$/.test(s.trim()))
    );
  }
  defaultMessage(): string {
    return 'INTERNAL_API_TOKENS must be comma-separated tokens of at least 24 printable characters';
  }
}

/**
 * TRUST_PROXY: `false`, a hop count, or comma-separated proxy addresses, subnets (CIDR) or
 * Express's names (loopback, linklocal, uniquelocal). `true` is refused: trusting every hop lets
 * any client choose its own address through X-Forwarded-For, and so escape rate limits.
 */
@ValidatorConstraint({ name: 'trustProxy' })
export class TrustProxyRule implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    if (typeof value !== 'string') return false;
    if (value === 'false' || /^\d{1,2}$/.test(value)) return true;
    return value.split(',').every((entry) => {
      const item = entry.trim();
      if (['loopback', 'linklocal', 'uniquelocal'].includes(item)) return true;
      const [address, bits, extra] = item.split('/');
      const family = isIP(address);
      if (!family || extra !== undefined) return false;
      if (bits === undefined) return true;
      return /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
    });
  }
  defaultMessage(): string {
    return 'TRUST_PROXY must be false, a hop count (e.g. 1), or comma-separated proxy addresses, CIDR subnets or loopback/linklocal/uniquelocal (true is refused: it lets clients pick their address)';
  }
}

export function isOrigin(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === value;
  } catch {
    return false;
  }
}

/**
 * The raw environment, as strings, validated. Every variable of the external contract
 * (docs/architecture.md, "Configuration") is here; the few extra ones are optional operational
 * knobs.
 */
export class EnvironmentVariables {
  /** Unset: development, or production when DATABASE_URL is set (parseConfig decides). */
  @IsOptional()
  @IsIn(['development', 'production', 'test'])
  NODE_ENV: 'development' | 'production' | 'test' = 'development';

  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT = 3000;

  @Transform(trimmed)
  @IsOptional()
  @IsUrl(URL_OPTIONS)
  PUBLIC_URL?: string;

  @Transform(trimmed)
  @IsOptional()
  @Matches(/^postgres(ql)?:\/\/\S+$/, {
    message: 'DATABASE_URL must be a postgres:// connection URL',
  })
  DATABASE_URL?: string;

  @Transform(trimmed)
  @IsOptional()
  @Matches(/^rediss?:\/\/\S+$/, {
    message: 'REDIS_URL must be a redis:// or rediss:// URL',
  })
  REDIS_URL = 'redis://127.0.0.1:6379';

  @Transform(trimmed)
  @IsOptional()
  @Matches(/^[A-Za-z0-9_-]{1,40}$/, {
    message: 'REDIS_KEY_PREFIX must be 1-40 characters of [A-Za-z0-9_-]',
  })
  REDIS_KEY_PREFIX = 'pdeck';

  /**
   * A Redis Cluster instead of one Redis: its seed nodes. Refused together with REDIS_URL (one
   * place says where Redis is); credentials and TLS come from REDIS_USERNAME, REDIS_PASSWORD and
   * REDIS_TLS, the same for every node.
   */
  @Transform(trimmed)
  @IsOptional()
  @Validate(RedisClusterNodesRule)
  REDIS_CLUSTER_NODES?: string;

  /** ACL user of the cluster's nodes (REDIS_CLUSTER_NODES only). */
  @Transform(trimmed)
  @IsOptional()
  @Matches(/^[\x21-\x7e]{1,128}$/, {
    message: 'REDIS_USERNAME must be 1-128 printable characters without spaces',
  })
  REDIS_USERNAME?: string;

  /** Password of the cluster's nodes (REDIS_CLUSTER_NODES only); never logged. */
  @Transform(trimmed)
  @IsOptional()
  @Matches(/^[\x21-\x7e]{1,512}$/, {
    message: 'REDIS_PASSWORD must be 1-512 printable characters without spaces',
  })
  REDIS_PASSWORD?: string;

  /** TLS to every node of the cluster (REDIS_CLUSTER_NODES only). */
  @Transform(trimmed)
  @IsOptional()
  @IsIn(['true', 'false'], { message: 'REDIS_TLS must be true or false' })
  REDIS_TLS?: 'true' | 'false';

  @Transform(trimmed)
  @IsOptional()
  @IsIn(['all', 'api', 'worker'])
  ROLE: 'all' | 'api' | 'worker' = 'all';

  @Transform(trimmed)
  @IsOptional()
  @Validate(TokenListRule)
  INTERNAL_API_TOKENS?: string;

  @Transform(trimmed)
  @IsOptional()
  @Validate(EncryptionKeysRule)
  ENCRYPTION_KEYS?: string;

  @Transform(trimmed)
  @IsOptional()
  @Matches(/^[A-Za-z0-9_-]{1,32}$/, {
    message: 'ENCRYPTION_PRIMARY_KEY_ID must be a key id of ENCRYPTION_KEYS ([A-Za-z0-9_-]{1,32})',
  })
  ENCRYPTION_PRIMARY_KEY_ID?: string;

  @Transform(trimmed)
  @IsOptional()
  @Validate(ProviderOriginsRule)
  PROVIDER_ORIGINS?: string;

  @Transform(trimmed)
  @IsOptional()
  @IsIn(['true', 'false'])
  ALLOW_PROVIDER_ORIGINS?: 'true' | 'false';

  /** Provider ranks of the merged view per kind and field (docs/cross-source.md). */
  @Transform(trimmed)
  @IsOptional()
  @Validate(MergePolicyRule)
  MERGE_POLICY?: string;

  @Transform(trimmed)
  @IsOptional()
  @IsIn(['true', 'false'])
  DOCS_PUBLIC?: 'true' | 'false';

  @Transform(trimmed)
  @IsOptional()
  @Validate(OriginListRule)
  RETURN_TO_ORIGINS?: string;

  @Transform(trimmed)
  @IsOptional()
  @IsUrl(URL_OPTIONS)
  PDECK_EVENTS_URL?: string;

  @Transform(trimmed)
  @IsOptional()
  @MinLength(16)
  PDECK_EVENTS_SECRET?: string;

  @Transform(trimmed)
  @IsOptional()
  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL = 'info';

  /** `json` (one JSON object a line) or `pretty` (readable lines); unset: parseConfig decides. */
  @Transform(trimmed)
  @IsOptional()
  @IsIn(['json', 'pretty'], { message: 'LOG_FORMAT must be json or pretty' })
  LOG_FORMAT?: 'json' | 'pretty';

  /**
   * Postgres connections each process may hold at once. Every api and worker process has its own
   * pool, so processes x this must stay below the server's max_connections (docs/operations.md).
   */
  @Transform(toInt)
  @IsOptional()
  @IsInt()
  @Min(2)
  @Max(200)
  DATABASE_POOL_SIZE = 10;

  /** Postgres statement_timeout of the service's connections, in ms; 0 = none. Not for migrations. */
  @Transform(toInt)
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(86_400_000)
  DATABASE_STATEMENT_TIMEOUT_MS = 30_000;

  /** How long one sync job may run before it is aborted (and retried from its committed pages). */
  @Transform(toInt)
  @IsOptional()
  @IsInt()
  @Min(1_000)
  @Max(86_400_000)
  SYNC_JOB_TIMEOUT_MS = 1_800_000;

  /** How long processing one stored webhook delivery may take before its job fails (and retries). */
  @Transform(toInt)
  @IsOptional()
  @IsInt()
  @Min(1_000)
  @Max(3_600_000)
  WEBHOOK_JOB_TIMEOUT_MS = 120_000;

  /** ROLE=worker: port of the health and metrics server; 0 = no server. */
  @Transform(toInt)
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(65535)
  WORKER_HEALTH_PORT = 3001;

  @Transform(trimmed)
  @IsOptional()
  @Validate(TrustProxyRule)
  TRUST_PROXY = 'false';

  /** OAuth callback requests per client address per minute; 0 = no limit. */
  @Transform(toInt)
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(100_000)
  OAUTH_CALLBACK_RATE_LIMIT = 60;

  /** Webhook deliveries failing verification per client address per minute before 429; 0 = no limit. */
  @Transform(toInt)
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(100_000)
  WEBHOOK_FAILURE_RATE_LIMIT = 60;

  @Transform(trimmed)
  @IsOptional()
  @IsString()
  DATA_DIR = '.data';

  @Transform(toInt)
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(256)
  SYNC_CONCURRENCY = 4;

  /** Days a finished webhook delivery keeps its body (never one still waiting). */
  @Transform(toInt)
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(3650)
  WEBHOOK_BODY_RETENTION_DAYS = 7;

  /** Days a finished webhook delivery row is kept (the dedupe record); >= the body window. */
  @Transform(toInt)
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(3650)
  WEBHOOK_DELIVERY_RETENTION_DAYS = 30;

  /** Sync runs always kept per connection, however old (the newest N). */
  @Transform(toInt)
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(100000)
  SYNC_RUN_RETENTION_COUNT = 100;

  /** Days every sync run is kept; older ones go unless among the newest N of their connection. */
  @Transform(toInt)
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(3650)
  SYNC_RUN_RETENTION_DAYS = 30;

  /** Milliseconds of quiet (success, or an active connection) before an open issue resolves. */
  @Transform(toInt)
  @IsOptional()
  @IsInt()
  @Min(1000)
  @Max(30 * 86_400_000)
  ISSUE_RESOLVE_AFTER_MS = 3_600_000;

  /** Milliseconds a sync issue stays open before its connection is paused (auto-pause). */
  @Transform(toInt)
  @IsOptional()
  @IsInt()
  @Min(1000)
  @Max(365 * 86_400_000)
  AUTO_PAUSE_AFTER_MS = 7 * 86_400_000;
}
