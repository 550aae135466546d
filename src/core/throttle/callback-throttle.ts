import { applyDecorators, Injectable, UseGuards } from '@nestjs/common';
import { ThrottlerGuard } from '@nestjs/throttler';

/** The throttler of OAuth callbacks (OAUTH_CALLBACK_RATE_LIMIT requests per address per minute). */
export const OAUTH_CALLBACK_THROTTLER = 'oauth-callback';
export const OAUTH_CALLBACK_WINDOW_MS = 60_000;

/**
 * @nestjs/throttler's guard with the module's one throttler (`oauth-callback`), counted in Redis
 * per client address (`req.ip`: TRUST_PROXY decides which hop that is behind a proxy). Over the
 * limit it answers 429 with Retry-After (seconds); X-RateLimit-Limit, -Remaining and -Reset come
 * with every answer.
 */
@Injectable()
export class CallbackThrottleGuard extends ThrottlerGuard {
  /** The standard names (Retry-After, X-RateLimit-*), without the throttler's name appended. */
  protected override setResponseHeader(
    res: Record<string, unknown>,
    name: string,
    value: string | number,
  ): void {
    super.setResponseHeader(res, name.replace(`-${OAUTH_CALLBACK_THROTTLER}`, ''), value);
  }
}

/**
 * Rate limit for the public OAuth callback route: OAUTH_CALLBACK_RATE_LIMIT requests per client
 * address per minute (default 60, 0 = off), shared by every API process through Redis. Put it on
 * the callback handler (or its controller): `@CallbackThrottle()`.
 */
export const CallbackThrottle = (): MethodDecorator & ClassDecorator =>
  applyDecorators(UseGuards(CallbackThrottleGuard));
