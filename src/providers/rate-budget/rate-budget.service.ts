import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable } from '@nestjs/common';
import type { RedisClient } from '../../core/redis/redis-client.js';
import { APP_CONFIG, type ResolvedAppConfig } from '../../core/config/app-config.js';
import { MetricsService } from '../../core/metrics/metrics.service.js';
import { REDIS } from '../../core/redis/redis.tokens.js';
import { ProviderError, type RateBudget } from '@pdeck/integration-sdk';
import { ACQUIRE_LUA, BLOCK_LUA } from './rate-budget.lua.js';

export interface AcquireOptions {
  /** How long acquire() may sleep in-process for room before giving up with RATE_LIMITED. */
  maxWaitMs?: number;
}

/** `detail` of the RATE_LIMITED our own budgets throw (not a provider 429). */
export const RATE_BUDGET_DETAIL = 'rate_budget';

/** Default in-process wait: short, so a long wait re-queues the job instead of holding a slot. */
export const DEFAULT_MAX_WAIT_MS = 2_000;
/** Lower bound of the jitter added to a block, so workers do not all return on the same tick. */
export const MIN_BLOCK_JITTER_MS = 100;
const BLOCK_JITTER_RATIO = 0.2;

type AcquireReply = [1] | [0, number, string];

/** One provider request as budgets see it. */
export interface RateCall {
  connectionId: string;
  /** The provider account (Slack workspace) the connection belongs to; '' when none yet. */
  accountId?: string;
  /** The request's operation label (Slack method name, e.g. 'conversations.history'). */
  operation?: string;
}

/** Who a provider 429 stops: everyone, one connection, or one operation of one account. */
export type BlockTarget =
  | { kind: 'app' }
  | { kind: 'connection'; connectionId: string }
  | { kind: 'method'; accountId: string; operation: string };

/** The commands defineCommand adds; typed locally instead of augmenting ioredis for everyone. */
interface RateCommands {
  rateBudgetAcquire(numKeys: number, ...args: Array<string | number>): Promise<AcquireReply>;
  rateBudgetBlock(key: string, durationMs: number): Promise<number>;
}

/**
 * Request budgets shared by every worker process through Redis, so the whole deployment stays
 * under a provider's documented limits and never provokes a 429 storm (Trello blocks the key).
 * One Lua call checks blocks and all budgets and consumes a unit in each, all-or-nothing.
 */
@Injectable()
export class RateBudgetService {
  private readonly commands: RateCommands;

  constructor(
    @Inject(REDIS) redis: RedisClient,
    @Inject(APP_CONFIG) private readonly config: ResolvedAppConfig,
    private readonly metrics: MetricsService,
  ) {
    // defineCommand sends EVALSHA and falls back to EVAL after a NOSCRIPT (restart, failover).
    redis.defineCommand('rateBudgetAcquire', { lua: ACQUIRE_LUA });
    redis.defineCommand('rateBudgetBlock', { lua: BLOCK_LUA, numberOfKeys: 1 });
    this.commands = redis as unknown as RateCommands;
  }

  /**
   * Resolves once one unit of every budget was consumed for this call. Waits in-process while
   * room appears within `maxWaitMs`; otherwise throws ProviderError RATE_LIMITED with `retryAt`
   * so the caller re-queues the job with a delay.
   */
  async acquire(
    provider: string,
    call: RateCall,
    budgets: readonly RateBudget[],
    opts: AcquireOptions = {},
  ): Promise<void> {
    const deadline = Date.now() + Math.max(0, opts.maxWaitMs ?? DEFAULT_MAX_WAIT_MS);
    const keys = [
      this.blockKey(provider, { kind: 'app' }),
      this.blockKey(provider, { kind: 'connection', connectionId: call.connectionId }),
    ];
    if (call.accountId && call.operation) {
      const { accountId, operation } = call;
      keys.push(this.blockKey(provider, { kind: 'method', accountId, operation }));
    }
    const args: Array<string | number> = [randomBytes(12).toString('base64url'), keys.length];
    for (const budget of budgets) {
      assertBudget(budget);
      if (budget.operations && !budget.operations.includes(call.operation ?? '')) continue;
      const key = this.budgetKey(provider, call, budget);
      // One sorted set per (scope, operations, window): a duplicate would count each admission
      // once, not twice.
      if (keys.includes(key))
        throw new Error(`Two ${budget.scope} budgets share window ${budget.windowMs}`);
      keys.push(key);
      args.push(budget.limit, Math.ceil(budget.windowMs));
    }
    for (;;) {
      // Several keys in one script: all carry the `{provider}` hash tag (base()), one slot.
      const reply = await this.commands.rateBudgetAcquire(keys.length, ...keys, ...args);
      if (reply[0] === 1) return;
      const waitMs = Math.ceil(reply[1] / 1000);
      // Server-side durations map onto this process's clock only here, on receipt.
      const retryAt = Date.now() + waitMs;
      if (retryAt > deadline) {
        this.metrics.rateLimitWaits.inc({ provider, outcome: 'deferred' });
        throw new ProviderError(
          'RATE_LIMITED',
          `Rate budget for ${provider} exhausted (${reply[2]}); retry in ${waitMs} ms`,
          { provider, retryAt: new Date(retryAt), detail: RATE_BUDGET_DETAIL },
        );
      }
      // A little jitter so waiters woken by the same expiry do not all race for one slot.
      const sleptMs = waitMs + Math.floor(Math.random() * 5);
      this.metrics.rateLimitWaits.inc({ provider, outcome: 'waited' });
      this.metrics.rateLimitWaitSeconds.inc({ provider }, sleptMs / 1000);
      await sleep(sleptMs);
    }
  }

  /**
   * Records a provider 429: nobody calls the provider, or this connection, or this operation of
   * this account until `until` plus jitter. Only the duration is sent, so this host's clock skew
   * does not matter; an existing later block is kept.
   */
  async block(provider: string, target: BlockTarget, until: Date): Promise<void> {
    const remaining = Math.max(0, until.getTime() - Date.now());
    const jitter = Math.max(MIN_BLOCK_JITTER_MS, Math.random() * BLOCK_JITTER_RATIO * remaining);
    const durationMs = Math.ceil(remaining + jitter);
    await this.commands.rateBudgetBlock(this.blockKey(provider, target), durationMs);
    this.metrics.rateLimitWaits.inc({ provider, outcome: 'blocked' });
  }

  /**
   * Every key of one provider carries the `{provider}` hash tag, so app and connection keys of a
   * provider live in one Redis Cluster slot and one script may touch them all.
   */
  private base(provider: string): string {
    return `${this.config.redisKeyPrefix}:rate:{${provider}}`;
  }

  private blockKey(provider: string, target: BlockTarget): string {
    const base = this.base(provider);
    switch (target.kind) {
      case 'app':
        return `${base}:block`;
      case 'connection':
        return `${base}:conn:${target.connectionId}:block`;
      case 'method':
        return `${base}:acct:${target.accountId}:op:${target.operation}:block`;
    }
  }

  /** Keyed by window, not limit, so a changed limit keeps counting the admissions already made. */
  private budgetKey(provider: string, call: RateCall, budget: RateBudget): string {
    const base = this.base(provider);
    const ops = budget.operations ? `:op:${budget.operations.join(',')}` : '';
    const window = `w${Math.ceil(budget.windowMs)}`;
    switch (budget.scope) {
      case 'app':
        return `${base}:app${ops}:${window}`;
      case 'account':
        // No account yet (identifying a fresh grant): counted per connection instead.
        return call.accountId
          ? `${base}:acct:${call.accountId}${ops}:${window}`
          : `${base}:conn:${call.connectionId}${ops}:${window}`;
      default:
        return `${base}:conn:${call.connectionId}${ops}:${window}`;
    }
  }
}

function assertBudget(budget: RateBudget): void {
  if (!Number.isInteger(budget.limit) || budget.limit < 1 || !(budget.windowMs > 0)) {
    throw new Error(`Invalid rate budget: ${JSON.stringify(budget)}`);
  }
}
