import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { InjectThrottlerStorage, normalizeIp, type ThrottlerStorage } from '@nestjs/throttler';
import { APP_CONFIG, type ResolvedAppConfig } from '../config/app-config.js';

/** The window failures are counted in, and how long an address stays refused past the limit. */
export const FAILURE_WINDOW_MS = 60_000;

export interface FailureVerdict {
  /** The address is over the limit: answer 429 instead of the rejection. */
  limited: boolean;
  /** This failure is the one that crossed the limit (log it once, not every refused request). */
  crossed: boolean;
  /** Seconds until the address is counted afresh. */
  retryAfterSeconds: number;
}

const OPEN: FailureVerdict = { limited: false, crossed: false, retryAfterSeconds: 0 };

/**
 * Counts requests that failed authentication (a webhook whose signature, token or subscription
 * does not verify) per client address, in Redis so every API process shares the count. Only
 * failures are counted, so requests that verify are never limited: a provider's real burst from
 * an address that also sent forgeries keeps being accepted. Past WEBHOOK_FAILURE_RATE_LIMIT
 * failures in a minute the address's further failures are answered 429 for a minute (0 = off).
 *
 * The client address is Express's `req.ip`, so behind a proxy TRUST_PROXY decides which hop is
 * the client; IPv6 addresses count per /64 like the throttler's own tracker. Redis keys hold a
 * hash of the address, not the address.
 */
@Injectable()
export class VerificationFailureLimiter {
  private readonly limit: number;

  constructor(
    @InjectThrottlerStorage() private readonly storage: ThrottlerStorage,
    @Inject(APP_CONFIG) config: Pick<ResolvedAppConfig, 'webhookFailureRateLimit'>,
  ) {
    this.limit = config.webhookFailureRateLimit;
  }

  async recordFailure(address: string | undefined): Promise<FailureVerdict> {
    if (this.limit === 0 || !address) return OPEN;
    const key = createHash('sha256').update(normalizeIp(address)).digest('hex');
    const record = await this.storage.increment(
      key,
      FAILURE_WINDOW_MS,
      this.limit,
      FAILURE_WINDOW_MS,
      'verification-failures',
    );
    return {
      limited: record.isBlocked,
      crossed: record.isBlocked && record.totalHits === this.limit + 1,
      retryAfterSeconds: record.timeToBlockExpire,
    };
  }
}
